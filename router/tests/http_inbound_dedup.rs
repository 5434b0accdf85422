//! Inbound deduplication (`--inbound-dedup on`, the default): identical queries
//! in flight at the same time share one execution — and nothing that tells two
//! users or two tenants apart may ever be shared. Subgraph-fetch deduplication
//! is off here, so a request the subgraph did not see was shared at the edge.
//!
//! The echo subgraph holds `gated` requests until the test lets them through,
//! so "in flight at the same time" is a fact, not a timing.

mod http_support;

use std::time::Duration;

use serde_json::{Value, json};

use http_support::TestRouter;

/// What each request asks: held at the gate, then what the subgraph received.
const HELD_QUERY: &str = "{ gated received { authorization tenant } }";

/// Long enough for a loaded machine; only a broken router waits this long.
const PATIENCE: Duration = Duration::from_secs(30);

async fn router() -> TestRouter {
    http_support::spawn_router(&["--dedup", "off", "--forward-header", "x-tenant"]).await
}

/// Sends the held query with these headers, in the background.
fn send(
    router: &TestRouter,
    token: Option<&str>,
    tenant: Option<&str>,
) -> tokio::task::JoinHandle<Value> {
    let mut request = router
        .client
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({ "query": HELD_QUERY }).to_string());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(tenant) = tenant {
        request = request.header("x-tenant", tenant);
    }
    tokio::spawn(async move {
        let response = request.send().await.expect("the router answers");
        assert_eq!(response.status(), 200);
        response.json().await.expect("a JSON body")
    })
}

/// The router's count of operations that joined one in flight.
async fn shared_operations(router: &TestRouter) -> u64 {
    let series = "router_graphql_operations_shared_total";
    test_support::metrics::read(&router.client, &router.base_url, series)
        .await
        .expect("the shared-operations counter is exported") as u64
}

/// Waits until `count` requests are held at the subgraph's gate.
async fn held_at_gate(router: &TestRouter, count: u32) {
    let entered = router.subgraph.gate.entered.clone();
    tokio::time::timeout(PATIENCE, entered.acquire_many(count))
        .await
        .unwrap_or_else(|_| panic!("{count} requests never reached the subgraph together"))
        .expect("the gate stays open for counting")
        .forget();
}

#[tokio::test]
async fn identical_queries_in_flight_share_one_execution() {
    let router = router().await;
    let first = send(&router, Some("token-a"), Some("acme"));
    held_at_gate(&router, 1).await;
    let followers: Vec<_> = (0..3)
        .map(|_| send(&router, Some("token-a"), Some("acme")))
        .collect();
    // Observable state, not a timer: the router counts each request that joins.
    tokio::time::timeout(PATIENCE, async {
        let mut poll = tokio::time::interval(Duration::from_millis(10));
        while shared_operations(&router).await < 3 {
            poll.tick().await;
        }
    })
    .await
    .expect("the identical requests join the one in flight");
    router.subgraph.gate.open.add_permits(1);
    let leader = first.await.expect("the first request completes");
    for follower in followers {
        assert_eq!(follower.await.expect("a follower completes"), leader);
    }
    assert_eq!(
        leader["data"]["received"],
        json!({ "authorization": "Bearer token-a", "tenant": "acme" })
    );
    assert_eq!(
        router.subgraph.gate.entered.available_permits(),
        0,
        "the subgraph saw one request for four clients"
    );
}

#[tokio::test]
async fn different_tokens_or_forwarded_headers_never_share() {
    let router = router().await;
    let identities = [
        (Some("token-a"), Some("acme")),
        (Some("token-b"), Some("acme")),
        (Some("token-a"), Some("globex")),
        (None, Some("acme")),
        (Some("token-a"), None),
    ];
    let requests: Vec<_> = identities
        .iter()
        .map(|(token, tenant)| send(&router, *token, *tenant))
        .collect();
    // All five reach the subgraph at once: none joined another.
    held_at_gate(&router, identities.len() as u32).await;
    router.subgraph.gate.open.add_permits(identities.len());
    for ((token, tenant), request) in identities.iter().zip(requests) {
        let body = request.await.expect("a request completes");
        assert_eq!(
            body["data"]["received"],
            json!({
                "authorization": token.map(|token| format!("Bearer {token}")),
                "tenant": tenant,
            }),
            "each client gets the answer to its own headers"
        );
    }
    assert_eq!(shared_operations(&router).await, 0);
}

#[tokio::test]
async fn off_every_request_executes() {
    let router = http_support::spawn_router(&["--dedup", "off", "--inbound-dedup", "off"]).await;
    let requests: Vec<_> = (0..3)
        .map(|_| send(&router, Some("token-a"), None))
        .collect();
    held_at_gate(&router, 3).await;
    router.subgraph.gate.open.add_permits(3);
    for request in requests {
        request.await.expect("a request completes");
    }
    assert_eq!(shared_operations(&router).await, 0);
}
