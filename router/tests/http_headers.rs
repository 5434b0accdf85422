//! What reaches the subgraphs: `Authorization` always, allow-listed headers
//! only, the request id (kept from the client or generated). The optional token
//! check at the edge is `http_tokens.rs`.

mod http_support;

use http_support::spawn_router;
use serde_json::{Value, json};

const RECEIVED: &str = "{ received { authorization tenant cookie requestId } }";

async fn post_with_headers(
    router: &http_support::TestRouter,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = router
        .client
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .body(json!({ "query": RECEIVED }).to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("router answers")
}

#[tokio::test]
async fn authorization_and_allow_listed_headers_are_forwarded_and_others_are_not() {
    let router = spawn_router(&["--forward-header", "X-Tenant"]).await;
    let response = post_with_headers(
        &router,
        &[
            ("authorization", "Bearer some-token"),
            ("x-tenant", "acme"),
            ("cookie", "session=secret"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON body");
    let received = &body["data"]["received"];
    assert_eq!(received["authorization"], "Bearer some-token", "{body}");
    assert_eq!(received["tenant"], "acme", "{body}");
    assert_eq!(
        received["cookie"],
        Value::Null,
        "cookies are not on the allow-list: {body}"
    );
}

#[tokio::test]
async fn the_request_id_is_kept_from_the_client_and_reaches_the_subgraph() {
    let router = spawn_router(&[]).await;
    let response = post_with_headers(&router, &[("x-request-id", "test-request-42")]).await;
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("test-request-42")
    );
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(
        body["data"]["received"]["requestId"], "test-request-42",
        "{body}"
    );
}

#[tokio::test]
async fn a_request_id_is_generated_when_the_client_sends_none() {
    let router = spawn_router(&[]).await;
    let response = post_with_headers(&router, &[]).await;
    let generated = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("the response names its request id")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(
        body["data"]["received"]["requestId"],
        generated.as_str(),
        "{body}"
    );
}
