//! GraphQL over HTTP at the router's edge: methods, media types, status codes
//! and error bodies, as the GraphQL-over-HTTP spec asks.

mod http_support;

use http_support::{content_type, first_error_code, spawn_router};
use serde_json::{Value, json};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test]
async fn post_json_executes_and_answers_application_json() {
    let router = spawn_router(&[]).await;
    let response = router.post(&json!({ "query": "{ hello }" })).await;
    assert_eq!(response.status(), 200);
    assert!(
        content_type(&response).starts_with("application/json"),
        "{}",
        content_type(&response)
    );
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body, json!({ "data": { "hello": "hello from echo" } }));
}

#[tokio::test]
async fn graphql_response_json_is_used_when_accepted() {
    let router = spawn_router(&[]).await;
    for accept in [
        GRAPHQL_RESPONSE,
        "application/graphql-response+json, application/json;q=0.9",
    ] {
        let response = router
            .post_with(&json!({ "query": "{ hello }" }), accept)
            .await;
        assert_eq!(response.status(), 200, "Accept: {accept}");
        assert!(
            content_type(&response).starts_with(GRAPHQL_RESPONSE),
            "Accept: {accept}"
        );
    }
    for accept in ["*/*", "application/json"] {
        let response = router
            .post_with(&json!({ "query": "{ hello }" }), accept)
            .await;
        assert!(
            content_type(&response).starts_with("application/json"),
            "Accept: {accept}"
        );
    }
}

#[tokio::test]
async fn unsatisfiable_accept_is_406() {
    let router = spawn_router(&[]).await;
    let response = router
        .post_with(&json!({ "query": "{ hello }" }), "application/xml")
        .await;
    assert_eq!(response.status(), 406);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(first_error_code(&body), "NOT_ACCEPTABLE");
}

#[tokio::test]
async fn parse_errors_are_400_with_graphql_response_json_and_200_with_json() {
    let router = spawn_router(&[]).await;
    let response = router
        .post_with(&json!({ "query": "{" }), GRAPHQL_RESPONSE)
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON body");
    assert!(body.get("data").is_none(), "no data entry: {body}");
    assert_eq!(first_error_code(&body), "GRAPHQL_PARSE_FAILED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Syntax Error")),
        "{body}"
    );
    assert!(
        body["errors"][0]["locations"][0]["line"].is_number(),
        "{body}"
    );

    let response = router
        .post_with(&json!({ "query": "{" }), "application/json")
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON body");
    assert!(body.get("data").is_none(), "no data entry: {body}");
    assert_eq!(first_error_code(&body), "GRAPHQL_PARSE_FAILED");
}

#[tokio::test]
async fn validation_errors_are_400_with_graphql_response_json_and_200_with_json() {
    let router = spawn_router(&[]).await;
    let query = json!({ "query": "{ fieldThatDoesNotExist }" });
    let response = router.post_with(&query, GRAPHQL_RESPONSE).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON body");
    assert!(body.get("data").is_none(), "no data entry: {body}");
    assert!(body["errors"][0]["message"].is_string(), "{body}");

    let response = router.post_with(&query, "application/json").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON body");
    assert!(body.get("data").is_none(), "no data entry: {body}");
}

#[tokio::test]
async fn malformed_requests_are_400_with_a_graphql_error_body() {
    let router = spawn_router(&[]).await;
    let send_raw = |body: &'static str| {
        router
            .client
            .post(router.graphql_url())
            .header("content-type", "application/json")
            .header("accept", GRAPHQL_RESPONSE)
            .body(body)
            .send()
    };
    for raw in ["{ \"not a JSON", "", "\"query\""] {
        let response = send_raw(raw).await.expect("router answers");
        assert_eq!(response.status(), 400, "body {raw:?}");
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(first_error_code(&body), "BAD_REQUEST", "body {raw:?}");
    }
    // An array is a batch, which batching (off by default) decides about.
    let response = send_raw("[1, 2]").await.expect("router answers");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(first_error_code(&body), "BATCHING_NOT_ENABLED", "{body}");
    let bad_requests = [
        (
            json!({ "notquery": "{ hello }" }),
            "query parameter is missing",
        ),
        (json!({ "query": 0 }), "query parameter must be a string"),
        (
            json!({ "query": ["{ hello }"] }),
            "query parameter must be a string",
        ),
        (
            json!({ "query": "{ hello }", "operationName": false }),
            "operationName parameter must be a string",
        ),
        (
            json!({ "query": "{ hello }", "variables": "string" }),
            "variables parameter must be a JSON object",
        ),
        (
            json!({ "query": "{ hello }", "variables": [1] }),
            "variables parameter must be a JSON object",
        ),
        (
            json!({ "query": "{ hello }", "extensions": 0 }),
            "extensions parameter must be a JSON object",
        ),
    ];
    for (request, expected) in bad_requests {
        let response = router.post(&request).await;
        assert_eq!(response.status(), 400, "request {request}");
        let body: Value = response.json().await.expect("JSON body");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "request {request}: {message}");
    }
}

#[tokio::test]
async fn null_optional_parameters_and_maps_are_accepted() {
    let router = spawn_router(&[]).await;
    let request = json!({
        "query": "query Hello { hello }",
        "operationName": "Hello",
        "variables": null,
        "extensions": { "some": "value" },
    });
    let response = router.post(&request).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body, json!({ "data": { "hello": "hello from echo" } }));
}

#[tokio::test]
async fn posts_need_json_content_type_in_utf8() {
    let router = spawn_router(&[]).await;
    let body = json!({ "query": "{ hello }" }).to_string();
    let without = router
        .client
        .post(router.graphql_url())
        .body(body.clone())
        .send()
        .await
        .expect("answers");
    assert_eq!(without.status(), 415);
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin1",
    ] {
        let response = router
            .client
            .post(router.graphql_url())
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 415, "Content-Type: {content_type}");
        let error: Value = response.json().await.expect("JSON body");
        assert_eq!(first_error_code(&error), "UNSUPPORTED_MEDIA_TYPE");
    }
    let utf8 = router
        .client
        .post(router.graphql_url())
        .header("content-type", "application/json; charset=UTF-8")
        .body(json!({ "query": "{ hello }", "variables": { "emoji": "Run🏃Swim🏊" } }).to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(utf8.status(), 200);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let router = spawn_router(&["--max-body-bytes", "64"]).await;
    let padding = "x".repeat(100);
    let response = router
        .post(&json!({ "query": "{ hello }", "extensions": { "padding": padding } }))
        .await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(first_error_code(&body), "PAYLOAD_TOO_LARGE");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("64 bytes"),
        "{body}"
    );

    // A chunked body carries no Content-Length: the limit still holds while reading.
    let status_line =
        post_chunked(&router.base_url, &[&b"{\"query\": \"{ hello }\", "[..]; 20]).await;
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");

    let small = router.post(&json!({ "query": "{ hello }" })).await;
    assert_eq!(small.status(), 200);
}

#[tokio::test]
async fn get_runs_queries_with_json_encoded_variables() {
    let router = spawn_router(&[]).await;
    let response = router
        .client
        .get(router.graphql_url())
        .query(&[
            (
                "query",
                "query Greet($text: String!) { repeat(text: $text) }",
            ),
            ("variables", r#"{"text":"hi"}"#),
            ("operationName", "Greet"),
        ])
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("application/json"));
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body, json!({ "data": { "repeat": "hi" } }));

    let response = router
        .client
        .get(router.graphql_url())
        .query(&[("query", "{ hello }"), ("variables", "[1]")])
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn mutations_over_get_are_405_and_work_over_post() {
    let router = spawn_router(&[]).await;
    let cases = [
        ("mutation { shout(text: \"hi\") }", ""),
        ("query Q { hello } mutation M { shout(text: \"hi\") }", "M"),
    ];
    for (query, operation_name) in cases {
        let response = router
            .client
            .get(router.graphql_url())
            .header("accept", GRAPHQL_RESPONSE)
            .query(&[("query", query), ("operationName", operation_name)])
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 405, "{query}");
        assert_eq!(
            response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok()),
            Some("POST")
        );
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(first_error_code(&body), "METHOD_NOT_ALLOWED");
    }
    let body = router.query("mutation { shout(text: \"hi\") }").await;
    assert_eq!(body, json!({ "data": { "shout": "HI" } }));
}

#[tokio::test]
async fn the_root_path_accepts_graphql_posts_too() {
    let router = spawn_router(&[]).await;
    let response = router
        .client
        .post(format!("{}/", router.base_url))
        .header("content-type", "application/json")
        .body(json!({ "query": "{ hello }" }).to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["data"]["hello"], "hello from echo");
}

/// POSTs `chunks` with `Transfer-Encoding: chunked` over a raw connection; returns the status line.
async fn post_chunked(base_url: &str, chunks: &[&[u8]]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .expect("connect to the router");
    let mut request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in chunks {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The router may answer and close before reading everything: a failed write is fine.
    let _ = stream.write_all(&request).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
