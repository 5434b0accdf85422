//! `_entities` for `User` representations: the viewer's own id resolves, any
//! other is null, and a malformed id is the caller's error.

use serde_json::{Value, json};

use crate::helpers::{Store, error_code, spawn_app};
use test_support::on_both_stores;

const ENTITIES: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id username email } } }";

on_both_stores!(
    only_the_viewers_own_user_resolves,
    without_a_token_nothing_resolves,
    a_malformed_id_is_bad_user_input,
);

fn representations(ids: &[&str]) -> Value {
    json!({"representations": ids.iter().map(|id| json!({"__typename": "User", "id": id})).collect::<Vec<_>>()})
}

async fn only_the_viewers_own_user_resolves(kind: Store) {
    let app = spawn_app(kind).await;
    let (other_id, _) = app.signed_in_user("olivia").await;
    let (own_id, token) = app.signed_in_user("peter").await;
    let body = app
        .graphql(
            ENTITIES,
            representations(&[&own_id, &other_id, "999999"]),
            Some(&token),
        )
        .await;
    assert_eq!(body["errors"], Value::Null, "{body}");
    assert_eq!(
        body["data"]["_entities"],
        json!([{"id": own_id, "username": "peter", "email": "peter@example.com"}, null, null])
    );
    // Another viewer gets themselves and a null for peter: the nulls are isolation, not absence.
    let (quinn_id, quinn_token) = app.signed_in_user("quinn").await;
    let body = app
        .graphql(
            ENTITIES,
            representations(&[&quinn_id, &own_id]),
            Some(&quinn_token),
        )
        .await;
    assert_eq!(body["data"]["_entities"][0]["username"], "quinn", "{body}");
    assert_eq!(body["data"]["_entities"][1], Value::Null, "{body}");
}

async fn without_a_token_nothing_resolves(kind: Store) {
    let app = spawn_app(kind).await;
    let (id, _) = app.signed_in_user("rose").await;
    let body = app.graphql(ENTITIES, representations(&[&id]), None).await;
    assert_eq!(body["data"]["_entities"], json!([null]), "{body}");
    // A token that does not verify is refused outright, as on every other path.
    let body = app
        .graphql(ENTITIES, representations(&[&id]), Some("garbage"))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert!(!body.to_string().contains("rose"), "{body}");
}

async fn a_malformed_id_is_bad_user_input(kind: Store) {
    let app = spawn_app(kind).await;
    let (id, token) = app.signed_in_user("sam").await;
    let body = app
        .graphql(ENTITIES, representations(&[&id, "abc"]), Some(&token))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id");
}
