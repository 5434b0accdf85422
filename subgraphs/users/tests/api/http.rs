//! The HTTP surface: GET queries, and requests that are not well-formed
//! GraphQL answered with errors (never a crash), plus health and readiness.

use serde_json::{Value, json};

use crate::helpers::{Store, spawn_app};
use test_support::on_both_stores;

on_both_stores!(
    a_query_over_get_works_and_a_mutation_over_get_is_refused,
    broken_json_is_a_bad_request,
    an_oversized_body_is_refused,
    unknown_fields_and_wrong_types_are_errors,
    health_and_readiness,
);

async fn a_query_over_get_works_and_a_mutation_over_get_is_refused(kind: Store) {
    let app = spawn_app(kind).await;
    let (_, token) = app.signed_in_user("tom").await;
    let response = app
        .client
        .get(app.graphql_url())
        .query(&[("query", "{ me { username } }")])
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["data"]["me"]["username"], "tom", "{body}");

    let mutation = r#"mutation { register(input: {email: "u@example.com", username: "uma", password: "secret123"}) { id } }"#;
    let response = app
        .client
        .get(app.graphql_url())
        .query(&[("query", mutation)])
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(response.status(), 405);
    assert_eq!(
        app.user_count().await,
        1,
        "a mutation over GET changes nothing"
    );
}

async fn broken_json_is_a_bad_request(kind: Store) {
    let app = spawn_app(kind).await;
    for body in [r#"{"query": "{ me { id } }""#, "", "[1, 2", "42"] {
        let response = app
            .client
            .post(app.graphql_url())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST /graphql");
        assert_eq!(response.status(), 400, "for body {body:?}");
        let answer: Value = response.json().await.expect("a JSON error body");
        assert!(answer["errors"][0]["message"].is_string(), "{answer}");
    }
    let response = app
        .client
        .get(app.graphql_url())
        .query(&[("query", "{ me { id } }"), ("variables", "{not json")])
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(response.status(), 400);
}

async fn an_oversized_body_is_refused(kind: Store) {
    let app = spawn_app(kind).await;
    let padding = " ".repeat(3 * 1024 * 1024);
    let response = app
        .client
        .post(app.graphql_url())
        .header("content-type", "application/json")
        .body(format!(r#"{{"query": "{{ me {{ id }} }}"{padding}}}"#))
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(response.status(), 413);
}

async fn unknown_fields_and_wrong_types_are_errors(kind: Store) {
    let app = spawn_app(kind).await;
    let cases = [
        ("{ me { password } }", json!({})),
        ("{ me { hashedPassword } }", json!({})),
        ("{ nothing }", json!({})),
        ("{ me { id ", json!({})),
        (
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
            json!({"u": 42, "p": true}),
        ),
        (
            "mutation { login(username: 1, password: 2) { accessToken } }",
            json!({}),
        ),
        (
            "mutation($input: RegisterInput!) { register(input: $input) { id } }",
            json!({"input": {"email": "v@example.com", "username": "vic", "password": "secret123", "isSuperuser": true}}),
        ),
        (
            "mutation($input: RegisterInput!) { register(input: $input) { id } }",
            json!({"input": "nope"}),
        ),
    ];
    for (query, variables) in cases {
        let body = app.graphql(query, variables, None).await;
        assert!(body["errors"][0]["message"].is_string(), "{query}: {body}");
        assert_eq!(
            body["data"].get("register").or(body["data"].get("login")),
            None,
            "{body}"
        );
    }
    assert_eq!(app.user_count().await, 0);
}

async fn health_and_readiness(kind: Store) {
    let app = spawn_app(kind).await;
    for (path, status) in [("/health", "healthy"), ("/ready", "ready")] {
        let response = app
            .client
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body, json!({"status": status, "service": "users"}));
    }
}
