//! Operation limits are enforced before the engine runs, each refusal naming
//! the limit and its value.

mod http_support;

use http_support::{first_error_code, spawn_router};
use serde_json::{Value, json};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn refusal(router: &http_support::TestRouter, query: &str) -> (u16, Value) {
    let response = router
        .post_with(&json!({ "query": query }), GRAPHQL_RESPONSE)
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn each_limit_refuses_with_its_name_and_value() {
    let router = spawn_router(&[
        "--max-depth",
        "2",
        "--max-aliases",
        "1",
        "--max-root-fields",
        "2",
        "--max-tokens",
        "30",
    ])
    .await;
    let cases = [
        ("{ received { authorization } hello }", None),
        ("{ a: hello b: hello }", Some(("max-aliases", 1))),
        (
            "{ received { a: tenant b: cookie } }",
            Some(("max-aliases", 1)),
        ),
        (
            "{ hello repeat(text: \"x\") received { tenant } }",
            Some(("max-root-fields", 2)),
        ),
        (
            "{ ...F } fragment F on Query { received { ... on Received { tenant { deeper } } } }",
            Some(("max-depth", 2)),
        ),
        (
            &*format!("{{ {} }}", "hello ".repeat(40)),
            Some(("max-tokens", 30)),
        ),
    ];
    for (query, expected) in cases {
        let (status, body) = refusal(&router, query).await;
        match expected {
            None => assert_eq!(status, 200, "{query}: {body}"),
            Some((limit, max)) => {
                assert_eq!(status, 400, "{query}: {body}");
                assert!(body.get("data").is_none(), "{body}");
                assert_eq!(
                    first_error_code(&body),
                    "GRAPHQL_VALIDATION_FAILED",
                    "{query}"
                );
                assert_eq!(body["errors"][0]["extensions"]["limit"], limit, "{query}");
                assert_eq!(body["errors"][0]["extensions"]["max"], max, "{query}");
                let message = body["errors"][0]["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(&format!("the limit ({limit}) is {max}")),
                    "{query}: {message}"
                );
            }
        }
    }
}

#[tokio::test]
async fn limits_apply_to_application_json_clients_with_status_200() {
    let router = spawn_router(&["--max-root-fields", "1"]).await;
    let response = router
        .post(&json!({ "query": "{ hello goodbye: repeat(text: \"x\") }" }))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON body");
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["limit"], "max-root-fields");
}
