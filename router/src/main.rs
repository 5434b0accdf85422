//! The `router` binary: see the library for everything it does.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    router::run(router::Cli::parse()).await
}
