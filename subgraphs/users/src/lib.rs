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

use anyhow::Context;
use axum::Router;
use common::auth::JwtKeys;
use common::db::{Pool, StoreLocation};
use tokio::net::TcpListener;

pub use config::{Cli, Command, Config};

/// A users service bound to its port, ready to serve.
pub struct Application {
    listener: TcpListener,
    address: std::net::SocketAddr,
    router: Router,
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
        let pool =
            Pool::connect(&location, config.db_max_connections, &store::migrations()).await?;

        let secret = config.jwt.resolve_secret(&config.data.data_dir)?;
        let keys = JwtKeys::new(
            &secret,
            &config.jwt.algorithm,
            config.jwt.access_token_expire_minutes,
        )?;
        let passwords = passwords::Passwords::new(config.bcrypt_cost, config.hash_concurrency())
            .await
            .map_err(|err| anyhow::anyhow!("preparing password hashing: {err:?}"))?;

        let store = store::Store::new(pool.clone());
        let schema = schema::build(schema::Services {
            users: loader::users(store.clone()),
            store,
            passwords,
            keys: keys.clone(),
        });
        let router = http::router(schema, keys, pool.clone());

        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .await
            .with_context(|| format!("binding {}:{}", config.host, config.port))?;
        let address = listener.local_addr()?;
        Ok(Self {
            listener,
            address,
            router,
            pool,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }

    /// The store the service uses (tests inspect and arrange rows through it).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Serves until SIGTERM or Ctrl-C, lets requests in flight finish, then closes the store.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        common::server::announce(http::SERVICE_NAME, self.address);
        common::server::serve(
            self.listener,
            self.router,
            common::server::shutdown_signal(),
        )
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
