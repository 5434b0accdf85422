//! The fixture subgraphs of the federation suite served over real HTTP in this
//! process, and our router (`Application::build` on port 0) in front of them.

use std::path::Path;

use clap::Parser;

use crate::harness::spawn_subgraph;
use crate::subgraphs;

/// Starts the four fixture subgraphs; returns `(name, GraphQL URL)` of each.
pub async fn spawn_fixture_subgraphs() -> Vec<(&'static str, String)> {
    vec![
        (
            "accounts",
            spawn_subgraph(subgraphs::accounts::schema()).await.url,
        ),
        (
            "products",
            spawn_subgraph(subgraphs::products::schema()).await.url,
        ),
        (
            "inventory",
            spawn_subgraph(subgraphs::inventory::schema()).await.url,
        ),
        (
            "reviews",
            spawn_subgraph(subgraphs::reviews::schema()).await.url,
        ),
    ]
}

/// Starts our router on `supergraph` (port 0, no hot reload); returns its GraphQL URL.
pub async fn spawn_router(supergraph: &Path) -> String {
    let cli = router::Cli::try_parse_from([
        "router".as_ref(),
        "--port".as_ref(),
        "0".as_ref(),
        "--supergraph-poll-ms".as_ref(),
        "0".as_ref(),
        "--supergraph".as_ref(),
        supergraph.as_os_str(),
    ])
    .expect("the router's command line");
    let application = router::Application::build(cli.config)
        .await
        .expect("the router starts on the supergraph");
    let port = application.port();
    tokio::spawn(application.run_until_stopped());
    format!("http://127.0.0.1:{port}/graphql")
}
