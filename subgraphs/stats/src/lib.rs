//! The stats subgraph: per-user statistics computed from the counts tasks provides.
//! No store: the router brings each user's task counts through `@requires`.

pub mod completion;
pub mod config;
mod http;
pub mod schema;

use common::server::BoundApp;

use crate::config::Command;
pub use crate::config::{Cli, Config};

/// The service name used in logs, `/health` and the announce line.
pub const SERVICE: &str = "stats";

/// A bound, not yet serving, stats server.
pub struct Application {
    server: BoundApp,
}

impl Application {
    /// Resolves the signing key and binds the listener (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let keys = config.jwt.keys(&config.data_dir.data_dir)?;
        let app = http::router(
            schema::build_schema_with(&config.graphql),
            keys,
            config.graphql.clone(),
        );
        let server = BoundApp::bind(&config.host, config.port, app)
            .await?
            .with_limits(config.http.clone());
        Ok(Self { server })
    }

    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// Announces the address and serves until SIGTERM / Ctrl-C, finishing requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        common::server::announce(SERVICE, self.server.addr());
        self.server
            .serve_until(common::server::shutdown_signal())
            .await?;
        Ok(())
    }
}

/// Runs the command line: the server, or `print-schema`.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::PrintSchema) => {
            print!("{}", schema::subgraph_sdl(&schema::build_schema()));
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
