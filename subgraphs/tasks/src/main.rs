//! `tasks`: runs the tasks subgraph (see `tasks --help`).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tasks::run(tasks::Cli::parse()).await
}
