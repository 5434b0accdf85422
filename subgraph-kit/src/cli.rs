//! What the three subgraphs share beyond the service skeleton: the
//! `print-schema` subcommand and the federation SDL it prints (the text
//! `scripts/schema-check` composes).

use async_graphql::{ObjectType, SDLExportOptions, Schema, SubscriptionType};
use clap::Subcommand;

use common::server::Service;

/// A subgraph's subcommands (none: serve).
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Print the federation SDL of this subgraph, exactly as `_service { sdl }` returns it, and exit.
    PrintSchema,
}

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
pub async fn run<S: Service>(
    command: Option<Command>,
    config: S::Config,
    sdl: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    match command {
        Some(Command::PrintSchema) => {
            print!("{}", sdl());
            Ok(())
        }
        None => common::server::run::<S>(config).await,
    }
}
