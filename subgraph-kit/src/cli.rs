//! What the three subgraphs share beyond the service skeleton: the settings
//! every subgraph has ([`SubgraphArgs`]), the command line with the
//! `print-schema` subcommand ([`Cli`]) and the federation SDL it prints (the
//! text `scripts/schema-check` composes).

use async_graphql::{ObjectType, SDLExportOptions, Schema, SubscriptionType};
use clap::{Args, Subcommand};

use common::config::{DataDirArgs, LogArgs};
use common::document_scan::GraphqlLimits;
use common::server::{ServerLimits, Service};
use tokens::{JwtArgs, JwtKeys};

/// The settings every subgraph has after its own (its `--host`/`--port` come
/// first, from `ListenArgs`): GraphQL and HTTP limits, the data directory, logs
/// and access tokens.
#[derive(Debug, Clone, Args)]
pub struct SubgraphArgs {
    /// Limits on GraphQL documents, JSON nesting and error output.
    #[command(flatten)]
    pub graphql: GraphqlLimits,

    /// Timeouts and caps of the HTTP server (shared by every service).
    #[command(flatten)]
    pub http: ServerLimits,

    /// Where the embedded store lives (users, tasks) and the generated secret key
    /// shared with the other services.
    #[command(flatten)]
    pub data_dir: DataDirArgs,

    #[command(flatten)]
    pub log: LogArgs,

    #[command(flatten)]
    pub jwt: JwtArgs,
}

impl SubgraphArgs {
    /// The keys its access tokens are checked (and, by users, signed) with.
    pub fn keys(&self) -> anyhow::Result<JwtKeys> {
        self.jwt.keys(&self.data_dir.data_dir)
    }
}

/// A subgraph's subcommands (none: serve).
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Print the federation SDL of this subgraph, exactly as `_service { sdl }` returns it, and exit.
    PrintSchema,
}

/// A subgraph's command line: `<subgraph> [OPTIONS]` or `<subgraph> print-schema`.
pub type Cli<S> = common::config::Cli<S, Command>;

/// The federation SDL of `schema`, byte for byte what its `_service { sdl }` answers.
pub fn federation_sdl<Q, M, S>(schema: &Schema<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

/// Runs a subgraph's command line: `print-schema` prints `sdl()`, no subcommand serves.
pub async fn run<S: Service>(cli: Cli<S>, sdl: impl FnOnce() -> String) -> anyhow::Result<()>
where
    S::Config: Args,
{
    match cli.command {
        Some(Command::PrintSchema) => {
            print!("{}", sdl());
            Ok(())
        }
        None => common::server::run::<S>(cli.config).await,
    }
}
