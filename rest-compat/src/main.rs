//! `rest-compat`: the original /api/v1 REST API, served over the GraphQL router.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rest_compat::run(rest_compat::Cli::parse()).await
}
