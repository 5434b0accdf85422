//! Cancellation (issue 8): a subgraph fetch whose every waiter has gone is
//! dropped, and with it the subgraph connection, instead of running on to the
//! subgraph timeout for a client that left. The subgraph here holds each request
//! until told (it never is); its handler's future carries a drop guard, so the
//! test sees the router close the connection as the handler being dropped.

use std::time::Duration;

use axum::Router;
use axum::routing::post;
use tokio::sync::mpsc;

use router::engine::{Engine, EngineOptions, GraphQLRequest};

use crate::harness::{SUPERGRAPH, context};

/// Long enough never to be what ends a test: a wait that bounded would hang CI.
const BOUND: Duration = Duration::from_secs(20);

/// Signals its channel when dropped (the handler's future was dropped).
struct DropGuard(mpsc::UnboundedSender<()>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// A subgraph that takes every request and answers none: `arrived` gets one
/// message per request received, `dropped` one per request whose handler was
/// dropped (the router closed the connection).
struct HeldSubgraph {
    url: String,
    arrived: mpsc::UnboundedReceiver<()>,
    dropped: mpsc::UnboundedReceiver<()>,
}

async fn spawn_held_subgraph() -> HeldSubgraph {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a port for the held subgraph");
    let address = listener.local_addr().expect("local address");
    let (arrived_tx, arrived) = mpsc::unbounded_channel();
    let (dropped_tx, dropped) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/graphql",
        post(move || {
            let arrived = arrived_tx.clone();
            let guard = DropGuard(dropped_tx.clone());
            async move {
                let _guard = guard;
                let _ = arrived.send(());
                // Held until told; nothing tells it, so only a drop ends it.
                std::future::pending::<()>().await;
                ""
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.expect("held subgraph") });
    HeldSubgraph {
        url: format!("http://{address}/graphql"),
        arrived,
        dropped,
    }
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = Option<T>>) -> T {
    tokio::time::timeout(BOUND, future)
        .await
        .unwrap_or_else(|_| panic!("{what} within {BOUND:?}"))
        .unwrap_or_else(|| panic!("{what}: channel closed"))
}

/// An engine whose `accounts` is the held subgraph, and whose subgraph timeout is far beyond any wait here.
async fn engine_with_held_accounts(deduplicate: bool) -> (Engine, HeldSubgraph) {
    let held = spawn_held_subgraph().await;
    let mut options = EngineOptions {
        subgraph_timeout: Duration::from_secs(3600),
        deduplicate_fetches: deduplicate,
        ..EngineOptions::default()
    };
    options
        .subgraph_url_overrides
        .insert("accounts".to_owned(), held.url.clone());
    let engine = Engine::new(SUPERGRAPH, options).expect("the committed supergraph loads");
    (engine, held)
}

fn request(query: &str) -> GraphQLRequest {
    GraphQLRequest {
        query: query.to_owned(),
        ..GraphQLRequest::default()
    }
}

#[tokio::test]
async fn a_fetch_is_dropped_with_its_client_with_and_without_deduplication() {
    for deduplicate in [true, false] {
        let (engine, mut held) = engine_with_held_accounts(deduplicate).await;
        let client = tokio::spawn(async move {
            engine
                .execute(request("{ users { id name } }"), context())
                .await
        });
        within("the fetch reaches the subgraph", held.arrived.recv()).await;
        assert!(
            held.dropped.try_recv().is_err(),
            "the subgraph's handler is still running while its client waits"
        );
        // The client goes away.
        client.abort();
        within(
            &format!("the router closes the subgraph connection (dedup {deduplicate})"),
            held.dropped.recv(),
        )
        .await;
    }
}
