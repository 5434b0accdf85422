//! `users`: runs the users subgraph (see `users --help`).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    users::run(users::Cli::parse()).await
}
