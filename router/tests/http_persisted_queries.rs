//! Automatic persisted queries and trusted documents. Apollo Client with its
//! persisted-queries link (npm `@apollo/client`, run by node from
//! `tools/federation/apollo-client.mjs`) against the router binary: the second
//! run of a query carries only its hash, and the router's metrics count the hit;
//! with trusted documents in reject mode an unlisted operation is refused with a
//! coded error. The protocol's edges (hash mismatch, APQ off, limits on registered
//! documents, log mode) are checked with plain HTTP.
//!
//! Needs Node.js and `tools/federation/node_modules` (`scripts/setup`): without them the tests fail.

mod http_support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use http_support::{SUPERGRAPH_V1, first_error_code, spawn_echo_subgraph, spawn_router};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const HELLO: &str = "query Hello { hello }";
/// Valid against the schema, never listed.
const UNLISTED: &str = "query Repeat { repeat(text: \"hi\") }";
const ANNOUNCE: &str = "tasktracker: router listening on ";

fn federation_tools() -> PathBuf {
    test_support::tools::require_federation_tools(&["@apollo/client"])
}

/// Runs `tools/federation/apollo-client.mjs` with `args` and parses what it prints.
async fn apollo_client(args: &[&str]) -> Value {
    let output = Command::new("node")
        .current_dir(federation_tools())
        .arg("apollo-client.mjs")
        .args(args)
        .output()
        .await
        .expect("node runs (`scripts/setup` installs it)");
    assert!(
        output.status.success(),
        "apollo-client.mjs {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "apollo-client.mjs prints JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The router binary in front of a fresh echo subgraph.
struct RouterProcess {
    url: String,
    _process: Child,
    _dir: PathBuf,
}

impl RouterProcess {
    async fn spawn(extra_args: &[&str]) -> Self {
        let subgraph = spawn_echo_subgraph().await;
        let dir = test_support::fresh_data_dir("router-apq");
        std::fs::create_dir_all(&dir).expect("create the test directory");
        let supergraph = dir.join("supergraph.graphql");
        std::fs::write(&supergraph, SUPERGRAPH_V1).expect("write the supergraph");
        let mut process = Command::new(env!("CARGO_BIN_EXE_router"))
            .args(["--port", "0", "--supergraph-poll-ms", "0", "--supergraph"])
            .arg(&supergraph)
            .arg("--subgraph-url")
            .arg(format!("echo={}", subgraph.url))
            .args(extra_args)
            .env("TASKTRACKER_DATA_DIR", &dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the router binary");
        let stdout = process.stdout.take().expect("the router's stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base_url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix(ANNOUNCE) {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("the router announces its address");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            url: base_url,
            _process: process,
            _dir: dir,
        }
    }

    fn graphql_url(&self) -> String {
        format!("{}/graphql", self.url)
    }

    /// The value of `router_persisted_queries_total{outcome}` on /metrics (0 when absent).
    async fn persisted_count(&self, outcome: &str) -> u64 {
        persisted_count(&self.url, outcome).await
    }
}

async fn persisted_count(base_url: &str, outcome: &str) -> u64 {
    let text = reqwest::get(format!("{base_url}/metrics"))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    let prefix = format!("router_persisted_queries_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |value| value.trim().parse().expect("a counter value"))
}

fn has_query(request: &Value) -> bool {
    request["body"]["query"].is_string()
}

fn sent_hash(request: &Value) -> Option<&str> {
    request["body"]["extensions"]["persistedQuery"]["sha256Hash"].as_str()
}

#[tokio::test]
async fn apollo_client_sends_only_the_hash_the_second_time() {
    let router = RouterProcess::spawn(&[]).await;
    let url = router.graphql_url();
    let report = apollo_client(&["run", &url, HELLO, HELLO]).await;
    let expected = json!({ "data": { "hello": "hello from echo" }, "errors": [] });
    assert_eq!(report["results"], json!([expected, expected]), "{report}");

    let requests = report["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 3, "miss, registration, hit: {report}");
    let hash = sent_hash(&requests[0]).expect("the first request names its hash");
    assert!(
        !has_query(&requests[0]),
        "the first try is hash-only: {report}"
    );
    assert!(
        has_query(&requests[1]) && sent_hash(&requests[1]) == Some(hash),
        "after PERSISTED_QUERY_NOT_FOUND the client registers the query: {report}"
    );
    assert!(
        !has_query(&requests[2]) && sent_hash(&requests[2]) == Some(hash),
        "the second run carries only the hash: {report}"
    );
    assert_eq!(router.persisted_count("apq_miss").await, 1);
    assert_eq!(router.persisted_count("apq_registered").await, 1);
    assert_eq!(router.persisted_count("apq_hit").await, 1);
}

#[tokio::test]
async fn hashed_queries_work_over_get() {
    let router = RouterProcess::spawn(&[]).await;
    let url = router.graphql_url();
    let report = apollo_client(&["run", &url, "--get", HELLO, HELLO]).await;
    let expected = json!({ "data": { "hello": "hello from echo" }, "errors": [] });
    assert_eq!(report["results"], json!([expected, expected]), "{report}");
    let requests = report["requests"].as_array().expect("requests");
    let last = requests.last().expect("a request");
    assert_eq!(last["method"], "GET", "{report}");
    let last_url = last["url"].as_str().unwrap_or_default();
    assert!(
        last_url.contains("extensions=") && !last_url.contains("query="),
        "the repeat is a GET with only the hash: {last_url}"
    );
    assert_eq!(router.persisted_count("apq_hit").await, 1);
}

#[tokio::test]
async fn trusted_documents_in_reject_mode_refuse_unlisted_operations() {
    let manifest = apollo_client(&["manifest", HELLO]).await;
    let dir = test_support::fresh_data_dir("router-trusted");
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let manifest_path = dir.join("manifest.json");
    std::fs::write(&manifest_path, manifest.to_string()).expect("write the manifest");
    let manifest_arg = manifest_path.display().to_string();
    let router = RouterProcess::spawn(&[
        "--trusted-documents",
        "reject",
        "--trusted-documents-manifest",
        &manifest_arg,
    ])
    .await;
    let url = router.graphql_url();

    let report = apollo_client(&["run", &url, HELLO, UNLISTED]).await;
    assert_eq!(
        report["results"][0],
        json!({ "data": { "hello": "hello from echo" }, "errors": [] }),
        "a listed operation runs from its hash alone: {report}"
    );
    assert_eq!(
        report["results"][1]["errors"][0]["code"], "PERSISTED_QUERY_NOT_IN_LIST",
        "{report}"
    );
    assert!(report["results"][1]["data"].is_null(), "{report}");
    assert_eq!(router.persisted_count("trusted_document").await, 1);

    // Sent in full, an unlisted operation is refused just the same; a listed one runs.
    let client = http_support::preflighted_client();
    let post = |body: Value| {
        client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let refused: Value = post(json!({ "query": "{ repeat(text: \"x\") }" }))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        first_error_code(&refused),
        "PERSISTED_QUERY_NOT_IN_LIST",
        "{refused}"
    );
    assert!(refused.get("data").is_none(), "{refused}");
    let listed_body = manifest["operations"][0]["body"].as_str().expect("a body");
    let listed_id = manifest["operations"][0]["id"].as_str().expect("an id");
    for body in [
        json!({ "query": listed_body }),
        json!({ "documentId": listed_id }),
    ] {
        let answer: Value = post(body.clone())
            .await
            .expect("answers")
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            answer,
            json!({ "data": { "hello": "hello from echo" } }),
            "{body}"
        );
    }
    let unknown: Value = post(json!({ "documentId": "nope" }))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        first_error_code(&unknown),
        "PERSISTED_QUERY_NOT_IN_LIST",
        "{unknown}"
    );
}

fn persisted(query: Option<&str>, hash: &str) -> Value {
    let mut body =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    body
}

fn sha256(text: &str) -> String {
    router::apq::sha256_hex(text)
}

#[tokio::test]
async fn the_protocol_checks_hashes_and_limits_before_registering() {
    let router = spawn_router(&["--max-depth", "1"]).await;
    let query = "{ hello }";
    let hash = sha256(query);

    let body: Value = router
        .post(&persisted(None, &hash))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        first_error_code(&body),
        "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );

    let wrong = persisted(Some("{ __typename }"), &hash);
    let body: Value = router.post(&wrong).await.json().await.expect("JSON");
    assert_eq!(
        first_error_code(&body),
        "PERSISTED_QUERY_HASH_MISMATCH",
        "{body}"
    );
    let body: Value = router
        .post(&persisted(None, &hash))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        first_error_code(&body),
        "PERSISTED_QUERY_NOT_FOUND",
        "a mismatched query is not registered: {body}"
    );

    // A document over the limits is refused and not kept: it goes through the same checks as any other.
    let deep = "{ received { authorization } }";
    let deep_hash = sha256(deep);
    let body: Value = router
        .post(&persisted(Some(deep), &deep_hash))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        first_error_code(&body),
        "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    assert!(
        body["errors"][0]["extensions"]["limit"].is_string(),
        "{body}"
    );
    let body: Value = router
        .post(&persisted(None, &deep_hash))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        first_error_code(&body),
        "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );

    let body = router.query_with(&persisted(Some(query), &hash)).await;
    assert_eq!(body, json!({ "data": { "hello": "hello from echo" } }));
    let body = router.query_with(&persisted(None, &hash)).await;
    assert_eq!(body, json!({ "data": { "hello": "hello from echo" } }));

    for bad in [
        json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": hash } } }),
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "abc" } } }),
    ] {
        let response = router.post(&bad).await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(first_error_code(&body), "BAD_REQUEST", "{body}");
    }
}

#[tokio::test]
async fn hash_only_requests_are_not_supported_when_apq_is_off() {
    let router = spawn_router(&["--apq", "off"]).await;
    let hash = sha256("{ hello }");
    let body: Value = router
        .post(&persisted(None, &hash))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        first_error_code(&body),
        "PERSISTED_QUERY_NOT_SUPPORTED",
        "{body}"
    );
    // The query with its hash still runs (and is not kept).
    let body = router
        .query_with(&persisted(Some("{ hello }"), &hash))
        .await;
    assert_eq!(body, json!({ "data": { "hello": "hello from echo" } }));
    let body: Value = router
        .post(&persisted(None, &hash))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        first_error_code(&body),
        "PERSISTED_QUERY_NOT_SUPPORTED",
        "{body}"
    );
}

#[tokio::test]
async fn log_mode_runs_unlisted_operations_and_counts_them() {
    let dir = test_support::fresh_data_dir("router-trusted-log");
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let manifest = dir.join("manifest.json");
    std::fs::write(
        &manifest,
        json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{ "id": "hello", "name": "Hello", "type": "query", "body": HELLO }]
        })
        .to_string(),
    )
    .expect("write the manifest");
    let manifest_arg = manifest.display().to_string();
    let router = spawn_router(&[
        "--trusted-documents",
        "log",
        "--trusted-documents-manifest",
        &manifest_arg,
    ])
    .await;
    let body = router.query_with(&json!({ "query": UNLISTED })).await;
    assert_eq!(body, json!({ "data": { "repeat": "hi" } }));
    assert_eq!(
        persisted_count(&router.base_url, "unlisted_logged").await,
        1
    );
    let body = router.query_with(&json!({ "documentId": "hello" })).await;
    assert_eq!(body, json!({ "data": { "hello": "hello from echo" } }));
    let body = router.query_with(&json!({ "query": HELLO })).await;
    assert_eq!(body, json!({ "data": { "hello": "hello from echo" } }));
    assert_eq!(
        persisted_count(&router.base_url, "unlisted_logged").await,
        1,
        "listed operations are not logged"
    );
}

#[test]
fn a_router_asked_for_trusted_documents_without_a_manifest_refuses_to_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_router"))
        .args(["--port", "0", "--trusted-documents", "reject"])
        .output()
        .expect("the router binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--trusted-documents-manifest"), "{stderr}");
}
