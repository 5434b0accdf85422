//! CSRF prevention (as Apollo Router's default): requests a browser could send
//! cross-site without a CORS preflight are refused with 400 CSRF_ERROR unless
//! they carry a preflight-forcing header; the header list and the switch are configurable.

mod http_support;

use http_support::{first_error_code, spawn_router};
use serde_json::{Value, json};

const QUERY_BODY: &str = r#"{"query":"{ hello }"}"#;

/// Sends `request` and returns the status and JSON body.
async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the router answers");
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

#[tokio::test]
async fn simple_requests_are_refused_and_preflighted_ones_run() {
    let router = spawn_router(&[]).await;
    // A client without the harness's default preflight header, as a browser form or <img> would be.
    let plain = reqwest::Client::new();
    let url = router.graphql_url();

    let get = || plain.get(&url).query(&[("query", "{ hello }")]);
    let (status, body) = send(get()).await;
    assert_eq!(
        (status, first_error_code(&body)),
        (400, "CSRF_ERROR"),
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("apollo-require-preflight") && message.contains("x-apollo-operation-name"),
        "the message names the headers that pass: {message}"
    );
    assert!(body.get("data").is_none(), "{body}");

    for content_type in [
        None,
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=----x"),
    ] {
        let mut post = plain.post(&url).body(QUERY_BODY);
        if let Some(content_type) = content_type {
            post = post.header("content-type", content_type);
        }
        let (status, body) = send(post).await;
        assert_eq!(
            (status, first_error_code(&body)),
            (400, "CSRF_ERROR"),
            "POST with {content_type:?}: {body}"
        );
    }
    // The refusal does not depend on what the request asks for: mutations are refused the same way.
    let (status, body) = send(
        plain
            .post(&url)
            .header("content-type", "text/plain")
            .body(r#"{"query":"mutation { shout(text: \"x\") }"}"#),
    )
    .await;
    assert_eq!(
        (status, first_error_code(&body)),
        (400, "CSRF_ERROR"),
        "{body}"
    );

    let expected = json!({ "data": { "hello": "hello from echo" } });
    for (name, value) in [
        ("apollo-require-preflight", "true"),
        ("x-apollo-operation-name", "Hello"),
        // A non-simple content type forces a preflight even on GET.
        ("content-type", "application/json"),
    ] {
        let (status, body) = send(get().header(name, value)).await;
        assert_eq!((status, &body), (200, &expected), "GET with {name}");
    }
    let (status, body) = send(
        plain
            .post(&url)
            .header("content-type", "application/json")
            .body(QUERY_BODY),
    )
    .await;
    assert_eq!((status, &body), (200, &expected), "JSON POST");
    let (status, body) = send(
        plain
            .post(&url)
            .header("content-type", "text/plain")
            .header("apollo-require-preflight", "true")
            .body(QUERY_BODY),
    )
    .await;
    // Past CSRF, the transport rules still apply: a text/plain body is not GraphQL over HTTP.
    assert_eq!(
        (status, first_error_code(&body)),
        (415, "UNSUPPORTED_MEDIA_TYPE"),
        "{body}"
    );

    // Browsers still get GraphiQL: the page is not a GraphQL request.
    let page = plain
        .get(&url)
        .header("accept", "text/html")
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn the_required_headers_are_configurable() {
    let router = spawn_router(&["--csrf-required-header", "x-my-app"]).await;
    let plain = reqwest::Client::new();
    let get = |header: &'static str| {
        plain
            .get(router.graphql_url())
            .query(&[("query", "{ hello }")])
            .header(header, "1")
    };
    let (status, _) = send(get("x-my-app")).await;
    assert_eq!(status, 200);
    let (status, body) = send(get("apollo-require-preflight")).await;
    assert_eq!(
        (status, first_error_code(&body)),
        (400, "CSRF_ERROR"),
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.ends_with("headers: x-my-app"), "{message}");
}

#[tokio::test]
async fn csrf_prevention_can_be_turned_off() {
    let router = spawn_router(&["--csrf", "off"]).await;
    let (status, body) = send(
        reqwest::Client::new()
            .get(router.graphql_url())
            .query(&[("query", "{ hello }")]),
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({ "data": { "hello": "hello from echo" } }))
    );
}
