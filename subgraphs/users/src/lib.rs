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

use common::db::{Pool, StoreLocation};
use common::server::BoundApp;

pub use config::{Cli, Command, Config};

/// A users service bound to its port, ready to serve.
pub struct Application {
    server: BoundApp,
    pool: Pool,
}

impl Application {
    /// Opens (and migrates) the store, prepares hashing and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let location = StoreLocation::resolve(
            config.database_url.as_deref(),
            &config.data.data_dir,
            "users",
        );
        tracing::info!(store = %location.describe(), "opening the users store");
        let settings = common::db::PoolSettings {
            max_connections: config.db_max_connections,
            acquire_timeout: std::time::Duration::from_millis(config.db_acquire_timeout_ms),
        };
        let pool = Pool::connect_with(&location, settings, &store::migrations()).await?;

        let keys = config.jwt.keys(&config.data.data_dir)?;
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
            &config.graphql,
        );
        let router = http::router(schema, keys, pool.clone(), config.graphql.clone());

        let server = BoundApp::bind(&config.host, config.port, router)
            .await?
            .with_limits(config.http.clone());
        Ok(Self { server, pool })
    }

    pub fn port(&self) -> u16 {
        self.address().port()
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// The store the service uses (tests inspect and arrange rows through it).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Serves until SIGTERM or Ctrl-C, lets requests in flight finish, then closes the store.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        common::server::announce(http::SERVICE_NAME, self.address());
        self.server
            .serve_until(common::server::shutdown_signal())
            .await?;
        self.pool.close().await;
        Ok(())
    }
}

/// Runs what the command line asks for: the service, or `print-schema`.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::PrintSchema) => {
            print!("{}", schema::federation_sdl());
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
