//! The two stores a stateful service runs on: PostgreSQL in production and an
//! embedded SQLite file by default. Queries are written once and run on either
//! through [`on_pool!`]; only SQL that the two dialects spell differently needs
//! a `match` of its own.

use std::marker::PhantomData;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use common::config::DataDirArgs;
use common::server::{Drain, Service};
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
            $crate::Pool::Postgres($p) => $body,
            $crate::Pool::Sqlite($p) => $body,
        }
    };
}

/// How long a request waits for a store connection by default before the store
/// counts as unavailable: short, so that an unreachable database answers
/// `SERVICE_UNAVAILABLE` quickly instead of holding requests (and clients) for seconds.
pub const DEFAULT_ACQUIRE_TIMEOUT_MS: u64 = 750;

/// A service with a store, as its store flags need it: its name (the embedded
/// file is `<data-dir>/<name>.db`) and the environment variable of its
/// `--db-max-connections`, its own so that one environment can size each
/// service's pool (`DB_MAX_CONNECTIONS` for users, `TASKS_DB_MAX_CONNECTIONS` for tasks).
pub trait StoreOwner: Service {
    const MAX_CONNECTIONS_ENV: &'static str;
}

/// The store flags of a service with a store (flattened into its configuration),
/// the same for every such service but the one environment variable its owner names.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs<S: StoreOwner> {
    /// PostgreSQL (`postgres://…`) or SQLite (`sqlite:…`) URL of the service's store.
    /// When unset, the embedded SQLite file `<data-dir>/<service>.db` is used.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Largest number of open connections to the store.
    #[arg(long, env = S::MAX_CONNECTIONS_ENV, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub db_max_connections: u32,

    /// How long a request waits for a store connection, in milliseconds; past it the store
    /// counts as unavailable and the request is answered `SERVICE_UNAVAILABLE`.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT_MS", default_value_t = DEFAULT_ACQUIRE_TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..))]
    pub db_acquire_timeout_ms: u64,

    #[arg(skip)]
    owner: PhantomData<fn() -> S>,
}

impl<S: StoreOwner> StoreArgs<S> {
    /// These settings, spelled out (tests, where no environment variable may leak in).
    pub fn new(
        database_url: Option<String>,
        max_connections: u32,
        acquire_timeout_ms: u64,
    ) -> Self {
        Self {
            database_url,
            db_max_connections: max_connections,
            db_acquire_timeout_ms: acquire_timeout_ms,
            owner: PhantomData,
        }
    }

    /// Opens the owner's store as these flags say (the URL when set, else the
    /// embedded SQLite file `<data-dir>/<service>.db`) and applies `migrations`:
    /// the one way a service opens its store.
    pub async fn open(
        &self,
        data_dir: &DataDirArgs,
        migrations: &Migrations,
    ) -> anyhow::Result<Pool> {
        let service = S::NAME.as_str();
        let location =
            StoreLocation::resolve(self.database_url.as_deref(), &data_dir.data_dir, service);
        tracing::info!(service, store = %location.describe(), "opening the store");
        let settings = PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
        };
        Pool::connect_with(&location, settings, migrations).await
    }
}

/// Sizing and patience of a connection pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long one acquisition (including opening a new connection) may take.
    pub acquire_timeout: Duration,
}

impl PoolSettings {
    pub fn new(max_connections: u32) -> Self {
        Self {
            max_connections,
            acquire_timeout: Duration::from_millis(DEFAULT_ACQUIRE_TIMEOUT_MS),
        }
    }
}

/// Whether a store error means the store cannot be reached (down, refusing
/// connections, connections cut, file unopenable) rather than a fault of the
/// statement: the one rule every service uses to answer `SERVICE_UNAVAILABLE`.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(database) => {
            let code = database.code();
            let code = code.as_deref().unwrap_or_default();
            // PostgreSQL: class 08 (connection exception), 53300 too many connections,
            // 57P01-57P03 (terminated by an administrator, crash shutdown, cannot connect now),
            // 3D000 no such database, 55000 "database does not allow connections".
            // SQLite: 5 BUSY, 6 LOCKED, 10 IOERR, 14 CANTOPEN, 26 NOTADB (primary codes;
            // extended codes keep the primary in their low byte).
            let sqlite_primary = code.parse::<i32>().ok().map(|code| code & 0xff);
            code.starts_with("08")
                || matches!(
                    code,
                    "53300" | "57P01" | "57P02" | "57P03" | "3D000" | "55000"
                )
                || matches!(sqlite_primary, Some(5 | 6 | 10 | 14 | 26))
        }
        _ => false,
    }
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
        Self::connect_with(location, PoolSettings::new(max_connections), migrations).await
    }

    /// [`Pool::connect`] with explicit pool settings.
    pub async fn connect_with(
        location: &StoreLocation,
        settings: PoolSettings,
        migrations: &Migrations,
    ) -> anyhow::Result<Self> {
        let PoolSettings {
            max_connections,
            acquire_timeout,
        } = settings;
        let pool = match location {
            StoreLocation::Url(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url)
                    .context("parsing the SQLite DATABASE_URL")?;
                Self::sqlite(options, settings).await?
            }
            StoreLocation::Url(url) => {
                let options = PgConnectOptions::from_str(url).context("parsing DATABASE_URL")?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(acquire_timeout)
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
                Self::sqlite(SqliteConnectOptions::new().filename(path), settings).await?
            }
        };
        pool.migrate(migrations).await?;
        Ok(pool)
    }

    async fn sqlite(options: SqliteConnectOptions, settings: PoolSettings) -> anyhow::Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
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

/// A service holding its store closes it once its last request has finished.
impl Drain for Pool {
    async fn drain(self) {
        self.close().await;
    }
}
