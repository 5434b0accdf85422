//! `@defer` streamed as `multipart/mixed; deferSpec=20220824`, read by a real
//! multipart parser (npm `meros`, run by node from `tools/federation/defer-client.mjs`).
//! The echo subgraph holds the deferred fetch at its gate until the test, having
//! received the first part through the client, lets it through: the first part
//! can only have come before the deferred fetch finished. Clients that do not
//! take multipart, and mutations, get one whole response.
//!
//! Needs Node.js and `tools/federation/node_modules` (`scripts/setup`): without them the tests fail.

mod http_support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use http_support::{content_type, spawn_router};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

fn federation_tools() -> PathBuf {
    test_support::tools::require_federation_tools(&["meros"])
}

/// The client's next line. The timeout only turns a hang (a part that never comes) into a failure.
/// Posts `query` from a client that takes multipart or JSON, and expects the
/// whole answer as one JSON response.
async fn whole_answer_to_multipart_client(router: &http_support::TestRouter, query: &str) -> Value {
    let response = router
        .post_with(
            &json!({ "query": query }),
            "multipart/mixed;deferSpec=20220824, application/json",
        )
        .await;
    assert!(content_type(&response).starts_with("application/json"));
    response.json().await.expect("JSON")
}

async fn next_part(lines: &mut Lines<BufReader<ChildStdout>>, what: &str) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("no {what} from the client"))
        .expect("the client's output")
        .unwrap_or_else(|| panic!("the client ended before {what}"));
    serde_json::from_str(&line).unwrap_or_else(|error| panic!("{what} is JSON ({error}): {line}"))
}

#[tokio::test]
async fn the_first_part_arrives_before_the_deferred_fetch_finishes() {
    let router = spawn_router(&[]).await;
    let mut client = Command::new("node")
        .current_dir(federation_tools())
        .args([
            "defer-client.mjs",
            &router.graphql_url(),
            "{ hello ... @defer(label: \"slow\") { gated } }",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (`scripts/setup` installs it)");
    let mut lines = BufReader::new(client.stdout.take().expect("piped stdout")).lines();

    let head = next_part(&mut lines, "the response head").await;
    assert_eq!(head["status"], 200, "{head}");
    let media = head["contentType"].as_str().unwrap_or_default();
    assert!(
        media.starts_with("multipart/mixed") && media.contains("deferSpec=20220824"),
        "{head}"
    );
    let first = next_part(&mut lines, "the first part").await;
    assert_eq!(
        first,
        json!({ "data": { "hello": "hello from echo" }, "hasNext": true })
    );
    // The client has the first part; the deferred fetch is still held at the subgraph.
    let gate = &router.subgraph.gate;
    gate.entered
        .acquire()
        .await
        .expect("the deferred fetch reaches the subgraph")
        .forget();
    gate.open.add_permits(1);
    let second = next_part(&mut lines, "the deferred part").await;
    assert_eq!(
        second,
        json!({
            "hasNext": false,
            "incremental": [{ "data": { "gated": "let through" }, "path": [], "label": "slow" }],
        })
    );
    let status = client.wait().await.expect("the client exits");
    assert!(status.success(), "meros read the whole stream: {status}");
}

#[tokio::test]
async fn clients_without_multipart_and_mutations_get_one_whole_response() {
    let router = spawn_router(&[]).await;
    let query = "{ hello ... @defer { repeat(text: \"later\") } }";
    let response = router.post(&json!({ "query": query })).await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("application/json"));
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({ "data": { "hello": "hello from echo", "repeat": "later" } })
    );

    // A mutation runs once, whatever it defers.
    let mutation = "mutation { shout(text: \"a\") ... @defer { b: shout(text: \"b\") } }";
    let body = whole_answer_to_multipart_client(&router, mutation).await;
    assert_eq!(body, json!({ "data": { "shout": "A", "b": "B" } }));

    // With `if: false` nothing is deferred: one response even for a multipart client.
    let body = whole_answer_to_multipart_client(
        &router,
        "{ hello ... @defer(if: false) { repeat(text: \"now\") } }",
    )
    .await;
    assert_eq!(
        body,
        json!({ "data": { "hello": "hello from echo", "repeat": "now" } })
    );
}

/// Each deferred fragment runs as an operation of its own (planned and fetched again on its
/// way to the fragment), so a document with N `@defer`s is N + 1 executions: demand control
/// charges the estimate once per execution, or N defers would cost the price of one.
#[tokio::test]
async fn each_deferred_execution_is_charged_to_demand_control() {
    // Four `received` objects: an estimated cost of 4, within the maximum of 5 once, not 4 times.
    let router = spawn_router(&["--demand-control-max-cost", "5"]).await;
    let query = "{ received { tenant } \
                 ... @defer { a: received { tenant } } \
                 ... @defer { b: received { tenant } } \
                 ... @defer { c: received { tenant } } }";

    // Streamed: four executions of cost 4 each.
    let body = whole_answer_to_multipart_client(&router, query).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "COST_ESTIMATED_TOO_EXPENSIVE",
        "{body}"
    );
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");

    // One whole response (no multipart): one execution, within the maximum.
    let response = router.post(&json!({ "query": query })).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
    assert!(body["data"]["c"].is_object(), "{body}");
}
