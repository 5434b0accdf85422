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

use common::document_scan::GraphqlLimits;
use common::server::{Assembled, Server, Service, ServiceName};
use db::{Migrations, Pool};
use sqlx::migrate::Migrator;

pub use config::{Command, Config};

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/tasks/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/tasks/sqlite");

pub const MIGRATIONS: Migrations = Migrations {
    postgres: &POSTGRES_MIGRATIONS,
    sqlite: &SQLITE_MIGRATIONS,
};

/// The tasks service on the skeleton every service shares: `build` binds,
/// `run_until_stopped` (or `run_until`) announces, serves and closes the store.
pub type Application = Server<Tasks>;

/// Its command line: `tasks [OPTIONS]` serves, `tasks print-schema` prints the schema.
pub type Cli = subgraph_kit::cli::Cli<Tasks>;

/// What makes the tasks service itself.
#[derive(Debug, Clone, Copy)]
pub struct Tasks;

impl Service for Tasks {
    const NAME: ServiceName = ServiceName::Tasks;
    type Config = Config;
    type Resources = Pool;

    /// Opens (and migrates) the store, prepares the account checks and assembles the routes.
    async fn assemble(config: Config) -> anyhow::Result<Assembled<Self>> {
        let keys = config.subgraph.keys()?;
        let pool = config
            .store
            .open(&config.subgraph.data_dir, &MIGRATIONS)
            .await?;
        let store = store::TaskStore::new(pool.clone());

        let accounts = match (config.users_in_process.clone(), config.users_url()) {
            (Some(users), _) => Some(Arc::new(account::AccountChecker::in_process(
                users,
                config.account_cache_ttl(),
            ))),
            (None, Some(url)) => Some(Arc::new(account::AccountChecker::new(
                url,
                config.account_cache_ttl(),
            )?)),
            (None, None) => {
                tracing::warn!(
                    "no --users-url: valid tokens are trusted without checking the account"
                );
                None
            }
        };

        let state = http::AppState {
            schema: schema::build(&config.subgraph.graphql),
            store,
            keys,
            accounts,
            limits: config.subgraph.graphql,
        };
        Ok(Assembled {
            app: http::router(state),
            listen: config.listen,
            limits: config.subgraph.http,
            resources: pool,
        })
    }
}

/// Runs the command line: serve, or print the schema.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    subgraph_kit::cli::run(cli, print_schema).await
}

/// The federation SDL (no store needed).
pub fn print_schema() -> String {
    subgraph_kit::cli::federation_sdl(&schema::build(&GraphqlLimits::default()))
}
