//! Query batching: a JSON array of operations in one POST, opt-in with
//! `--batching on`, each operation run on its own (concurrently: a held
//! operation does not hold the others back from starting), answers in order,
//! a bounded batch size, and a coded refusal when batching is off.

mod http_support;

use http_support::{first_error_code, spawn_router};
use serde_json::{Value, json};

#[tokio::test]
async fn batches_are_refused_when_batching_is_off() {
    let router = spawn_router(&[]).await;
    let response = router.post(&json!([{ "query": "{ hello }" }])).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(first_error_code(&body), "BATCHING_NOT_ENABLED", "{body}");
}

#[tokio::test]
async fn each_operation_is_answered_in_order_on_its_own() {
    let router = spawn_router(&["--batching", "on", "--batching-max-size", "4"]).await;
    let batch = json!([
        { "query": "query Greet($text: String!) { repeat(text: $text) }", "variables": { "text": "one" } },
        { "query": "{ hello }" },
        { "query": "{ nope }" },
        { "query": "{ hello" },
    ]);
    let response = router.post(&batch).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    let answers = body.as_array().expect("an array of responses");
    assert_eq!(answers.len(), 4, "{body}");
    assert_eq!(answers[0], json!({ "data": { "repeat": "one" } }));
    assert_eq!(
        answers[1],
        json!({ "data": { "hello": "hello from echo" } })
    );
    // One operation's refusal is its own answer, not the batch's.
    assert_eq!(
        first_error_code(&answers[2]),
        "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    assert_eq!(
        first_error_code(&answers[3]),
        "GRAPHQL_PARSE_FAILED",
        "{body}"
    );

    let too_many = Value::Array(vec![json!({ "query": "{ hello }" }); 5]);
    let response = router.post(&too_many).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(first_error_code(&body), "BATCH_LIMIT_EXCEEDED", "{body}");

    let response = router.post(&json!([])).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn the_operations_of_a_batch_run_concurrently() {
    let router = spawn_router(&["--batching", "on"]).await;
    let gate = router.subgraph.gate.clone();
    // Different texts, so that deduplication cannot merge the two fetches.
    let batch = json!([{ "query": "{ gated }" }, { "query": "{ again: gated }" }]);
    let request = tokio::spawn({
        let client = router.client.clone();
        let url = router.graphql_url();
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(batch.to_string())
                .send()
                .await
                .expect("answers")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    });
    // Both operations reach the subgraph while neither is let through: run one
    // after the other, the second would never start. The timeout only turns that
    // hang into a failure.
    let both_entered = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        gate.entered.acquire_many(2),
    )
    .await
    .expect("both operations of the batch reach the subgraph while the first is held");
    both_entered.expect("semaphore open").forget();
    gate.open.add_permits(2);
    let body = request.await.expect("the batch finishes");
    assert_eq!(
        body,
        json!([{ "data": { "gated": "let through" } }, { "data": { "again": "let through" } }])
    );
}
