//! The two stores a stateful service runs on: PostgreSQL in production and an
//! embedded SQLite file by default. Queries are written once and run on either
//! through [`on_pool!`]; only SQL that the two dialects spell differently needs
//! a `match` of its own.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// A connection pool on one of the supported stores.
#[derive(Debug, Clone)]
pub enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// Runs the same expression on whichever pool is in use: `on_pool!(pool, |p| query.fetch_all(p))`.
/// The body is compiled once per store, so it must type-check for both.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Postgres($p) => $body,
            $crate::db::Pool::Sqlite($p) => $body,
        }
    };
}

/// The migrations of one service, one set per store.
pub struct Migrations {
    pub postgres: &'static Migrator,
    pub sqlite: &'static Migrator,
}

/// Where a service keeps its data: `database_url` when given, else `<data_dir>/<name>.db`.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    Url(String),
    SqliteFile(std::path::PathBuf),
}

impl StoreLocation {
    pub fn resolve(database_url: Option<&str>, data_dir: &Path, name: &str) -> Self {
        match database_url.map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => StoreLocation::Url(url.to_owned()),
            None => StoreLocation::SqliteFile(data_dir.join(format!("{name}.db"))),
        }
    }

    /// Where the data is, for logs: never the password of a URL.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::SqliteFile(path) => format!("sqlite {}", path.display()),
            StoreLocation::Url(url) => match url.split_once("://") {
                Some((scheme, rest)) => {
                    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
                    format!("{scheme}://{host}")
                }
                None => "database".to_owned(),
            },
        }
    }
}

impl Pool {
    /// Connects (creating a SQLite file and its directory if needed) and applies the migrations.
    pub async fn connect(
        location: &StoreLocation,
        max_connections: u32,
        migrations: &Migrations,
    ) -> anyhow::Result<Self> {
        let pool = match location {
            StoreLocation::Url(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url)
                    .context("parsing the SQLite DATABASE_URL")?;
                Self::sqlite(options, max_connections).await?
            }
            StoreLocation::Url(url) => {
                let options = PgConnectOptions::from_str(url).context("parsing DATABASE_URL")?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(options)
                    .await
                    .with_context(|| format!("connecting to {}", location.describe()))?;
                Pool::Postgres(pool)
            }
            StoreLocation::SqliteFile(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating data directory {}", dir.display()))?;
                }
                Self::sqlite(SqliteConnectOptions::new().filename(path), max_connections).await?
            }
        };
        pool.migrate(migrations).await?;
        Ok(pool)
    }

    async fn sqlite(options: SqliteConnectOptions, max_connections: u32) -> anyhow::Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .context("opening the SQLite store")?;
        Ok(Pool::Sqlite(pool))
    }

    async fn migrate(&self, migrations: &Migrations) -> anyhow::Result<()> {
        match self {
            Pool::Postgres(pool) => migrations.postgres.run(pool).await,
            Pool::Sqlite(pool) => migrations.sqlite.run(pool).await,
        }
        .context("applying database migrations")
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> bool {
        on_pool!(self, |p| sqlx::query("SELECT 1").execute(p).await.is_ok())
    }

    pub async fn close(&self) {
        on_pool!(self, |p| p.close().await)
    }
}
