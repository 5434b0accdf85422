//! The stats subgraph: per-user statistics computed from the counts tasks provides.
//! No store: the router brings each user's task counts through `@requires`.

pub mod completion;
pub mod config;
mod http;
pub mod schema;

use common::document_scan::GraphqlLimits;
use common::server::{Assembled, Server, Service, ServiceName};

pub use crate::config::{Command, Config};

/// The service name used in logs, `/health` and the announce line.
pub const SERVICE: &str = ServiceName::Stats.as_str();

/// The stats service on the skeleton every service shares: `build` binds,
/// `run_until_stopped` announces and serves.
pub type Application = Server<Stats>;

/// Its command line: `stats [OPTIONS]` serves, `stats print-schema` prints the schema.
pub type Cli = subgraph_kit::cli::Cli<Stats>;

/// What makes the stats service itself (no store: nothing to drain).
#[derive(Debug, Clone, Copy)]
pub struct Stats;

impl Service for Stats {
    const NAME: ServiceName = ServiceName::Stats;
    type Config = Config;
    type Resources = ();

    /// Resolves the signing key and assembles the routes.
    async fn assemble(config: Config) -> anyhow::Result<Assembled<Self>> {
        let subgraph = config.subgraph;
        let keys = subgraph.keys()?;
        let app = http::router(schema::build(&subgraph.graphql), keys, subgraph.graphql);
        Ok(Assembled {
            app,
            listen: config.listen,
            limits: subgraph.http,
            resources: (),
        })
    }
}

/// Runs the command line: the server, or `print-schema`.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    subgraph_kit::cli::run(cli, || {
        subgraph_kit::cli::federation_sdl(&schema::build(&GraphqlLimits::default()))
    })
    .await
}
