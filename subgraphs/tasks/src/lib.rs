//! The tasks subgraph: tasks, their filters, pages and counts, as an Apollo
//! Federation v2 subgraph that extends the users subgraph's `User`.

pub mod account;
pub mod config;
pub mod error;
pub mod http;
pub mod loaders;
pub mod model;
pub mod schema;
pub mod session;
pub mod store;

use std::sync::Arc;

use anyhow::Context;
use common::db::{Migrations, Pool, StoreLocation};
use common::server::BoundApp;
use sqlx::migrate::Migrator;

pub use config::{Cli, Command, Config};

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/tasks/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/tasks/sqlite");

pub const MIGRATIONS: Migrations = Migrations {
    postgres: &POSTGRES_MIGRATIONS,
    sqlite: &SQLITE_MIGRATIONS,
};

/// The running service: a bound listener and everything it serves.
pub struct Application {
    server: BoundApp,
    pool: Pool,
}

impl Application {
    /// Opens (and migrates) the store, binds the listener (port 0 picks one) and announces it.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let data_dir = &config.data_dir.data_dir;
        let keys = config.jwt.keys(data_dir)?;

        let location =
            StoreLocation::resolve(config.database_url.as_deref(), data_dir, http::SERVICE);
        tracing::info!(store = %location.describe(), "opening the tasks store");
        let settings = common::db::PoolSettings {
            max_connections: config.db_max_connections,
            acquire_timeout: std::time::Duration::from_millis(config.db_acquire_timeout_ms),
        };
        let pool = Pool::connect_with(&location, settings, &MIGRATIONS).await?;
        let store = store::TaskStore::new(pool.clone());

        let accounts = match config.users_url() {
            Some(url) => Some(Arc::new(account::AccountChecker::new(
                url,
                config.account_cache_ttl(),
            )?)),
            None => {
                tracing::warn!(
                    "no --users-url: valid tokens are trusted without checking the account"
                );
                None
            }
        };

        let state = http::AppState {
            schema: schema::build_with(&config.graphql),
            store,
            keys,
            accounts,
            limits: config.graphql.clone(),
        };
        let server = BoundApp::bind(&config.host, config.port, http::router(state))
            .await?
            .with_limits(config.http.clone());
        common::server::announce(http::SERVICE, server.addr());
        Ok(Self { server, pool })
    }

    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// Serves until SIGTERM or Ctrl-C.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(common::server::shutdown_signal()).await
    }

    /// Serves until `shutdown` resolves, finishing requests in flight, then closes the store.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let served = self.server.serve_until(shutdown).await;
        self.pool.close().await;
        served.context("serving HTTP")
    }
}

/// Runs the command line: serve, or print the schema.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::PrintSchema) => {
            print!("{}", print_schema().await?);
            Ok(())
        }
        None => {
            common::telemetry::init(cli.config.log.log_format);
            Application::build(cli.config)
                .await?
                .run_until_stopped()
                .await
        }
    }
}

/// The federation SDL (no store needed).
pub async fn print_schema() -> anyhow::Result<String> {
    schema::federation_sdl(&schema::build()).await
}
