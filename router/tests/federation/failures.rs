//! Failures: subgraph errors with rewritten paths, null propagation, stopped and
//! silent subgraphs (partial data, an error coded by the kind of failure at the affected path),
//! and sharing of identical in-flight fetches.

use std::time::Duration;

use router::engine::Outcome;
use serde_json::json;

use crate::harness::{
    answering_url, silent_url, spawn_stack, spawn_stack_with, to_json, unreachable_url,
};

#[tokio::test]
async fn subgraph_errors_come_back_at_the_client_path() {
    let stack = spawn_stack().await;
    let response = stack.query("{ users { name flakyScore } }").await;
    let json = to_json(&response);
    assert_eq!(
        json["data"],
        json!({"users": [
            {"name": "Ada Lovelace", "flakyScore": 10},
            {"name": "Alan Turing", "flakyScore": null},
            {"name": "Grace Hopper", "flakyScore": 10}
        ]})
    );
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    let error = &response.errors[0];
    assert_eq!(error.message, "score service exploded");
    assert_eq!(
        error.path,
        Some(vec![json!("users"), json!(1), json!("flakyScore")])
    );
    let extensions = error.extensions.as_ref().expect("extensions");
    assert_eq!(extensions["code"], "SCORE_BROKEN");
    assert_eq!(extensions["serviceName"], "reviews");
}

#[tokio::test]
async fn a_null_in_a_non_null_field_nulls_the_nearest_nullable_parent() {
    let stack = spawn_stack().await;
    let response = stack
        .query(r#"{ user(id: "2") { name strictScore } me { name } }"#)
        .await;
    assert_eq!(
        to_json(&response)["data"],
        json!({"user": null, "me": {"name": "Ada Lovelace"}})
    );
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    assert_eq!(
        response.errors[0].path,
        Some(vec![json!("user"), json!("strictScore")])
    );

    // [User!]! of non-null items: the null bubbles through the list up to `data`.
    let response = stack.query("{ users { name strictScore } }").await;
    assert!(matches!(response.outcome, Outcome::Executed));
    assert_eq!(response.data_json(), Some(json!(null)));
    assert_eq!(
        response.errors[0].path,
        Some(vec![json!("users"), json!(1), json!("strictScore")])
    );
}

#[tokio::test]
async fn a_stopped_subgraph_gives_partial_data_and_an_error_at_its_path() {
    let stack = spawn_stack_with(|options| {
        options
            .subgraph_url_overrides
            .insert("inventory".to_owned(), unreachable_url());
    })
    .await;
    let response = stack
        .query(r#"{ product(upc: "b1") { name ... on Book { inStock } } me { name } }"#)
        .await;
    assert!(matches!(response.outcome, Outcome::Executed));
    // inStock is non-null: the book that lost it becomes null; the rest of the data stays.
    assert_eq!(
        response.data_json(),
        Some(json!({"product": null, "me": {"name": "Ada Lovelace"}}))
    );
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    let error = &response.errors[0];
    assert_eq!(error.path, Some(vec![json!("product"), json!("inStock")]));
    let extensions = error.extensions.as_ref().expect("extensions");
    assert_eq!(extensions["code"], "SUBGRAPH_UNAVAILABLE");
    assert_eq!(extensions["serviceName"], "inventory");

    let response = stack
        .query("{ me { name } topProducts { name price } }")
        .await;
    assert!(
        response.errors.is_empty(),
        "inventory is not needed: {:?}",
        response.errors
    );
}

#[tokio::test]
async fn an_unreachable_root_subgraph_leaves_the_other_root_fields() {
    let stack = spawn_stack_with(|options| {
        options
            .subgraph_url_overrides
            .insert("accounts".to_owned(), unreachable_url());
    })
    .await;
    let response = stack.query("{ me { name } latestReviews { body } }").await;
    let json = to_json(&response);
    assert_eq!(json["data"]["me"], json!(null));
    assert_eq!(
        json["data"]["latestReviews"][0],
        json!({"body": "A classic"})
    );
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    assert_eq!(response.errors[0].path, Some(vec![json!("me")]));
    assert_eq!(
        response.errors[0].extensions.as_ref().expect("extensions")["serviceName"],
        "accounts"
    );
}

/// A subgraph's answer is outside data. Nested past what the parser allows, it is
/// refused; nested just under that, it goes through merging, shaping and
/// serialisation (walks that follow its depth) without exhausting the stack.
#[tokio::test]
async fn deeply_nested_subgraph_answers_are_refused_or_carried_never_a_crash() {
    for (depth, code) in [(100_000, "SUBGRAPH_INVALID_RESPONSE"), (120, "")] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let body = format!(r#"{{"data":{{"me":{{"name":{nested}}}}}}}"#);
        let url = answering_url(200, Box::leak(body.into_boxed_str())).await;
        let stack = spawn_stack_with(|options| {
            options
                .subgraph_url_overrides
                .insert("accounts".to_owned(), url);
        })
        .await;
        let response = stack.query("{ me { name } }").await;
        assert!(matches!(response.outcome, Outcome::Executed));
        // `name` is non-null: either way `me` is null, with one error saying why.
        assert_eq!(response.data_json(), Some(json!({"me": null})));
        assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
        let error = &response.errors[0];
        if code.is_empty() {
            // Carried whole to the shaper, which finds a list where a String belongs.
            assert!(
                error
                    .message
                    .starts_with("String cannot represent value: [[[["),
                "{error:?}"
            );
        } else {
            let extensions = error.extensions.as_ref().expect("extensions");
            assert_eq!(extensions["code"], code, "{error:?}");
        }
    }
}

#[tokio::test]
async fn a_silent_subgraph_times_out_into_an_error() {
    let silent = silent_url().await;
    let stack = spawn_stack_with(|options| {
        options
            .subgraph_url_overrides
            .insert("reviews".to_owned(), silent);
        options.subgraph_timeout = Duration::from_millis(200);
    })
    .await;
    let response = stack.query("{ me { name reviews { body } } }").await;
    assert_eq!(
        to_json(&response)["data"],
        json!({"me": null}),
        "reviews is non-null: me becomes null"
    );
    let error = &response.errors[0];
    assert_eq!(
        error.extensions.as_ref().expect("extensions")["code"],
        "SUBGRAPH_TIMEOUT"
    );
    assert_eq!(error.path, Some(vec![json!("me"), json!("reviews")]));
}

#[tokio::test]
async fn identical_fetches_in_flight_share_one_request() {
    let stack = spawn_stack().await;
    let query = "{ topProducts { name } }";
    // Once planned, an execution runs without yielding up to the subgraph call: on this
    // single-threaded runtime both reach it before the subgraph can answer, so the
    // second finds the first in flight.
    let warm_up = stack.query(query).await;
    assert_eq!(stack.products.requests(), 1);
    let (first, second) = tokio::join!(stack.query(query), stack.query(query));
    assert_eq!(to_json(&first), to_json(&second));
    assert_eq!(to_json(&first), to_json(&warm_up));
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(
        stack.products.requests(),
        2,
        "one request for both concurrent executions"
    );
}

#[tokio::test]
async fn deduplication_can_be_switched_off() {
    let stack = spawn_stack_with(|options| options.deduplicate_fetches = false).await;
    let query = "{ topProducts { name } }";
    let (first, second) = tokio::join!(stack.query(query), stack.query(query));
    assert_eq!(to_json(&first), to_json(&second));
    assert_eq!(stack.products.requests(), 2);
}
