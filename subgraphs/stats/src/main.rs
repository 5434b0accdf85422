//! The stats service binary; everything lives in the library so the launcher can run it too.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    stats::run(stats::Cli::parse()).await
}
