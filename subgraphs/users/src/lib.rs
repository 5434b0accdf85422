//! The users subgraph: accounts, login and access tokens, served as an Apollo
//! Federation v2 subgraph (`User @key(fields: "id")`).

pub mod config;
pub mod error;
pub mod http;
pub mod loader;
pub mod passwords;
pub mod schema;
pub mod store;
pub mod validation;

use common::server::{Assembled, Server, Service, ServiceName};
use db::Pool;

pub use config::{Command, Config};

/// The users service on the skeleton every service shares: `build` binds,
/// `run_until_stopped` announces, serves and closes the store.
pub type Application = Server<Users>;

/// Its command line: `users [OPTIONS]` serves, `users print-schema` prints the schema.
pub type Cli = subgraph_kit::cli::Cli<Users>;

/// What makes the users service itself.
#[derive(Debug, Clone, Copy)]
pub struct Users;

impl Service for Users {
    const NAME: ServiceName = ServiceName::Users;
    type Config = Config;
    /// The store (tests inspect and arrange rows through it).
    type Resources = Pool;

    /// Opens (and migrates) the store, prepares hashing and assembles the routes.
    async fn assemble(config: Config) -> anyhow::Result<Assembled<Self>> {
        let pool = config
            .store
            .open(&config.subgraph.data_dir, &store::migrations())
            .await?;
        let keys = config.subgraph.keys()?;
        let passwords = passwords::Passwords::new(config.bcrypt_cost, config.hash_concurrency())
            .await
            .map_err(|err| anyhow::anyhow!("preparing password hashing: {err:?}"))?;

        let store = store::Store::new(pool.clone());
        store.report_email_collisions().await;
        let schema = schema::build(
            schema::Services {
                users: loader::users(store.clone()),
                store,
                passwords,
                keys: keys.clone(),
            },
            &config.subgraph.graphql,
        );
        Ok(Assembled {
            app: http::router(schema, keys, pool.clone(), config.subgraph.graphql),
            listen: config.listen,
            limits: config.subgraph.http,
            resources: pool,
        })
    }
}

/// Runs what the command line asks for: the service, or `print-schema`.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    subgraph_kit::cli::run(cli, schema::federation_sdl).await
}
