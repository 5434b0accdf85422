//! The fixture subgraphs of the federation suite served over real HTTP in this
//! process, and our router (`Application::build` on port 0) in front of them.

use std::path::Path;

use clap::Parser;

use crate::harness::{TestSubgraph, spawn_subgraph};
use crate::subgraphs;

/// Starts the four fixture subgraphs, by name.
pub async fn spawn_fixture_subgraphs() -> Vec<(&'static str, TestSubgraph)> {
    vec![
        (
            "accounts",
            spawn_subgraph(subgraphs::accounts::schema()).await,
        ),
        (
            "products",
            spawn_subgraph(subgraphs::products::schema()).await,
        ),
        (
            "inventory",
            spawn_subgraph(subgraphs::inventory::schema()).await,
        ),
        (
            "reviews",
            spawn_subgraph(subgraphs::reviews::schema()).await,
        ),
    ]
}

/// `(name, URL)` of each subgraph, as `supergraph_with_urls` takes them.
pub fn urls(subgraphs: &[(&'static str, TestSubgraph)]) -> Vec<(&'static str, String)> {
    subgraphs
        .iter()
        .map(|(name, subgraph)| (*name, subgraph.url.clone()))
        .collect()
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
        // Apollo Gateway has no demand control: compare answers, not cost refusals
        // (the fixture supergraphs carry no @listSize, so their lists get the default size).
        "--demand-control".as_ref(),
        "measure".as_ref(),
    ])
    .expect("the router's command line");
    let application = router::Application::build(cli.config)
        .await
        .expect("the router starts on the supergraph");
    let port = application.port();
    tokio::spawn(application.run_until_stopped());
    format!("http://127.0.0.1:{port}/graphql")
}
