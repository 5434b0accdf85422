//! `/metrics` (Prometheus text) and `/health`.

mod http_support;

use http_support::spawn_router;
use serde_json::{Value, json};

async fn metrics_text(router: &http_support::TestRouter) -> String {
    let response = router
        .client
        .get(format!("{}/metrics", router.base_url))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    let content_type = http_support::content_type(&response);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    response.text().await.expect("text body")
}

#[tokio::test]
async fn requests_are_counted_by_status_and_timed() {
    let router = spawn_router(&[]).await;
    for _ in 0..3 {
        router.query("{ hello }").await;
    }
    let malformed = router
        .post_with(&json!({ "query": 1 }), "application/json")
        .await;
    assert_eq!(malformed.status(), 400);

    let text = metrics_text(&router).await;
    assert!(
        text.contains("router_http_requests_total{status=\"200\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("router_http_requests_total{status=\"400\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("router_http_request_duration_seconds_count 4"),
        "{text}"
    );
    // Each `{ hello }` is one fetch from the echo subgraph, none of them failed.
    assert!(
        text.contains("router_subgraph_fetch_duration_seconds_count{subgraph=\"echo\"} 3"),
        "{text}"
    );
    assert!(
        !text.contains("router_subgraph_fetch_errors_total{subgraph=\"echo\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn health_answers_while_serving() {
    let router = spawn_router(&[]).await;
    let response = router
        .client
        .get(format!("{}/health", router.base_url))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body, json!({ "status": "healthy", "service": "router" }));
}
