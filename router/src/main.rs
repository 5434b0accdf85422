//! The `router` binary: see the library for everything it does.

use clap::Parser;

/// The request path allocates many small, short-lived JSON values; mimalloc
/// handles that pattern markedly cheaper than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    router::run(router::Cli::parse()).await
}
