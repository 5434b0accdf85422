//! Differential test: the same operations sent to our router and to Apollo
//! Gateway (the reference implementation, from `tools/federation`), both serving
//! the fixture supergraph in front of the same in-process subgraphs. For each
//! operation `data` must be identical (values and key order) and `errors` must
//! agree on presence and on their `path`s. Messages, extensions and HTTP status
//! codes may differ (status differences are printed as notes). Two allowances,
//! both for behaviour the spec leaves open or Apollo Gateway gets wrong: a list
//! an operation marks unordered (`__schema.types`) is compared sorted, and error
//! paths Apollo Gateway leaves in subgraph form (`_entities`) are compared by
//! field names only (see [`paths_agree`]).
//!
//! Needs Node.js and `tools/federation/node_modules` (`scripts/setup`).

#[allow(dead_code)]
#[path = "federation/blog.rs"]
mod blog;
#[allow(dead_code)]
#[path = "federation/catalog.rs"]
mod catalog;
#[allow(dead_code)] // the federation suite's harness: only `spawn_subgraph` is used here
#[path = "federation/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "federation/subgraphs.rs"]
mod subgraphs;

/// The parts in `tests/differential/` (the audit shares `apollo` and `stack`, the benchmark `apollo`).
mod differential {
    pub mod apollo;
    pub mod operations;
    pub mod stack;
}

use serde_json::{Value, json};

use crate::differential::apollo::{
    fixture_with_urls, spawn_apollo_gateway, supergraph_with_urls, write_supergraph,
};
use crate::differential::operations::{BLOG_OPERATIONS, CATALOG_OPERATIONS, OPERATIONS, Operation};
use crate::differential::stack::{spawn_fixture_subgraphs, spawn_router, urls};
use crate::harness::{TestSubgraph, spawn_subgraph};

/// The blog fixture supergraph (placeholder URLs).
const BLOG_SUPERGRAPH: &str = include_str!("fixtures/blog/supergraph.graphql");

/// The catalog fixture supergraph (placeholder URLs).
const CATALOG_SUPERGRAPH: &str = include_str!("fixtures/catalog/supergraph.graphql");

/// What came back for one operation.
struct Answer {
    status: u16,
    body: Value,
}

async fn send(client: &reqwest::Client, url: &str, operation: &Operation) -> Answer {
    let mut body = json!({ "query": operation.query });
    if let Some(variables) = operation.variables {
        body["variables"] = serde_json::from_str(variables).expect("the case's variables are JSON");
    }
    if let Some(name) = operation.operation_name {
        body["operationName"] = json!(name);
    }
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|error| panic!("{url} answers {:?}: {error}", operation.name));
    let status = response.status().as_u16();
    let text = response.text().await.expect("a response body");
    let mut body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{url} answered {:?} with non-JSON: {text}", operation.name));
    if let Some(list) = operation
        .unordered_list
        .and_then(|pointer| body.pointer_mut(pointer))
        .and_then(Value::as_array_mut)
    {
        list.sort_by_key(Value::to_string);
    }
    Answer { status, body }
}

/// The `path` of every error (null for an error without one), sorted: the
/// order of errors is not specified. `None` when there are no errors.
///
/// Two allowances, both explained: our errors for fields whose fetch was not sent
/// because the fetch bringing its inputs failed (`extensions.skippedServiceName`;
/// Apollo Gateway reports nothing there), and Apollo Gateway's
/// `extensions.valueCompletion` (where it lists values the API schema cannot
/// represent, which we report as errors, as the spec says) counted as errors.
fn error_paths(body: &Value) -> Option<Vec<Value>> {
    let errors = body.get("errors").and_then(Value::as_array);
    let value_completion = body
        .pointer("/extensions/valueCompletion")
        .and_then(Value::as_array);
    let mut paths: Vec<Value> = errors
        .into_iter()
        .flatten()
        .filter(|error| error.pointer("/extensions/skippedServiceName").is_none())
        .chain(value_completion.into_iter().flatten())
        .map(|error| error.get("path").cloned().unwrap_or(Value::Null))
        .collect();
    if paths.is_empty() {
        return None;
    }
    paths.sort_by_key(Value::to_string);
    Some(paths)
}

/// Apollo Gateway does not map the path of an error raised inside an entity
/// fetch back to the response: `["users", 1, "flakyScore"]` comes out as
/// `["users", "@", "_entities", "flakyScore"]` (the fetch's flattened path, then
/// the subgraph's path without the `_entities` index). When it answers with
/// such paths, both sides' paths are compared by their field names only.
fn paths_agree(ours: &[Value], apollo: &[Value]) -> bool {
    if !apollo.iter().any(is_subgraph_path) {
        return ours == apollo;
    }
    let field_names = |paths: &[Value]| {
        let mut names: Vec<Vec<String>> = paths
            .iter()
            .map(|path| {
                path.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|segment| !matches!(*segment, "@" | "_entities"))
                    .map(str::to_owned)
                    .collect()
            })
            .collect();
        names.sort();
        names
    };
    field_names(ours) == field_names(apollo)
}

/// A path that only makes sense to a subgraph, not to the client.
fn is_subgraph_path(path: &Value) -> bool {
    path.as_array()
        .is_some_and(|segments| segments.iter().any(|s| s == "@" || s == "_entities"))
}

/// How our answer differs from Apollo Gateway's, in words (empty when they agree).
fn differences(ours: &Answer, apollo: &Answer) -> Vec<String> {
    let mut found = Vec::new();
    let (our_data, apollo_data) = (ours.body.get("data"), apollo.body.get("data"));
    if our_data != apollo_data {
        found.push("`data` differs".to_owned());
    } else if our_data.map(Value::to_string) != apollo_data.map(Value::to_string) {
        found.push("`data` has the same values in a different key order".to_owned());
    }
    match (error_paths(&ours.body), error_paths(&apollo.body)) {
        (None, None) => {}
        (Some(_), None) => found.push("only we report errors".to_owned()),
        (None, Some(_)) => found.push("only Apollo Gateway reports errors".to_owned()),
        (Some(our_paths), Some(apollo_paths)) => {
            if !paths_agree(&our_paths, &apollo_paths) {
                found.push(format!(
                    "error paths differ: ours {our_paths:?}, Apollo Gateway's {apollo_paths:?}"
                ));
            }
            if our_paths.iter().any(is_subgraph_path) {
                found.push("our error paths are subgraph paths, not response paths".to_owned());
            }
        }
    }
    found
}

fn pretty(answer: &Answer) -> String {
    let body = serde_json::to_string_pretty(&answer.body).expect("JSON prints");
    format!("HTTP {}\n{body}", answer.status)
}

/// Starts the blog fixture's subgraphs (posts, insights), by name.
async fn spawn_blog_subgraphs() -> Vec<(&'static str, TestSubgraph)> {
    vec![
        ("posts", spawn_subgraph(blog::posts::schema()).await),
        ("insights", spawn_subgraph(blog::insights::schema()).await),
    ]
}

/// Sends every operation to both and lists how the answers differ.
async fn compare(router_url: &str, gateway_url: &str, operations: &[Operation]) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut mismatches = Vec::new();
    for operation in operations {
        let ours = send(&client, router_url, operation).await;
        let apollo = send(&client, gateway_url, operation).await;
        if ours.status != apollo.status {
            // Not a failure: the GraphQL-over-HTTP spec leaves both choices open here.
            println!(
                "note: {:?}: HTTP {} from us, {} from Apollo Gateway",
                operation.name, ours.status, apollo.status
            );
        }
        let found = differences(&ours, &apollo);
        if let Some(reason) = operation.known_router_gap {
            assert!(
                !found.is_empty(),
                "{:?} is marked as a known gap of ours, but the answers agree: drop the mark",
                operation.name
            );
            println!(
                "note: {:?} differs, a known gap of ours: {reason}",
                operation.name
            );
            continue;
        }
        if let Some(reason) = operation.apollo_gateway_wrong {
            // Apollo Gateway's answer is the wrong one here (the federation suite checks ours).
            assert!(
                !found.is_empty(),
                "{:?} is marked as a case Apollo Gateway gets wrong, but the answers agree: drop the mark",
                operation.name
            );
            println!("note: {:?} differs, as explained: {reason}", operation.name);
            continue;
        }
        if !found.is_empty() {
            mismatches.push(format!(
                "=== {}: {}\n{}\n--- ours:\n{}\n--- Apollo Gateway:\n{}\n",
                operation.name,
                found.join("; "),
                operation.query,
                pretty(&ours),
                pretty(&apollo)
            ));
        }
    }
    mismatches
}

#[tokio::test]
async fn the_router_answers_like_apollo_gateway() {
    let subgraphs = spawn_fixture_subgraphs().await;
    let supergraph = write_supergraph(
        "router-differential",
        &supergraph_with_urls(&urls(&subgraphs)),
    );
    let gateway = spawn_apollo_gateway(&supergraph).await;
    let router_url = spawn_router(&supergraph).await;

    assert!(
        OPERATIONS.len() >= 30,
        "the comparison needs a broad sample"
    );
    let mismatches = compare(&router_url, &gateway.graphql_url, OPERATIONS).await;
    assert!(
        mismatches.is_empty(),
        "{} of {} operations differ from Apollo Gateway:\n\n{}",
        mismatches.len(),
        OPERATIONS.len(),
        mismatches.join("\n")
    );
}

#[tokio::test]
async fn the_router_answers_like_apollo_gateway_on_the_blog_supergraph() {
    let subgraphs = spawn_blog_subgraphs().await;
    let supergraph = write_supergraph(
        "router-differential-blog",
        &fixture_with_urls(BLOG_SUPERGRAPH, &urls(&subgraphs)),
    );
    let gateway = spawn_apollo_gateway(&supergraph).await;
    let router_url = spawn_router(&supergraph).await;
    let mismatches = compare(&router_url, &gateway.graphql_url, BLOG_OPERATIONS).await;
    assert!(
        mismatches.is_empty(),
        "{} of {} operations differ from Apollo Gateway:\n\n{}",
        mismatches.len(),
        BLOG_OPERATIONS.len(),
        mismatches.join("\n")
    );
}

#[tokio::test]
async fn the_router_answers_like_apollo_gateway_on_the_catalog_supergraph() {
    let subgraphs = vec![
        ("media", spawn_subgraph(catalog::media::schema()).await),
        ("extras", spawn_subgraph(catalog::extras::schema()).await),
    ];
    let supergraph = write_supergraph(
        "router-differential-catalog",
        &fixture_with_urls(CATALOG_SUPERGRAPH, &urls(&subgraphs)),
    );
    let gateway = spawn_apollo_gateway(&supergraph).await;
    let router_url = spawn_router(&supergraph).await;
    let mismatches = compare(&router_url, &gateway.graphql_url, CATALOG_OPERATIONS).await;
    assert!(
        mismatches.is_empty(),
        "{} of {} operations differ from Apollo Gateway:\n\n{}",
        mismatches.len(),
        CATALOG_OPERATIONS.len(),
        mismatches.join("\n")
    );
}

/// Both pass the client's Authorization header on to the subgraphs (for Apollo
/// Gateway that is `tools/federation/apollo-gateway.mjs`'s doing).
#[tokio::test]
async fn both_forward_the_authorization_header() {
    let subgraphs = spawn_fixture_subgraphs().await;
    let supergraph = write_supergraph(
        "router-differential-auth",
        &supergraph_with_urls(&urls(&subgraphs)),
    );
    let gateway = spawn_apollo_gateway(&supergraph).await;
    let router_url = spawn_router(&supergraph).await;
    let (_, accounts) = subgraphs
        .iter()
        .find(|(name, _)| *name == "accounts")
        .expect("the accounts subgraph");
    let client = reqwest::Client::new();
    for (who, url) in [
        ("our router", router_url.as_str()),
        ("Apollo Gateway", gateway.graphql_url.as_str()),
    ] {
        let token = format!("Bearer token-for-{}", who.replace(' ', "-"));
        let response = client
            .post(url)
            .header("content-type", "application/json")
            .header("authorization", &token)
            .body(json!({ "query": "{ me { id } }" }).to_string())
            .send()
            .await
            .expect("the router answers");
        assert_eq!(response.status(), 200, "{who}");
        let last = accounts
            .received_headers()
            .pop()
            .expect("accounts was called");
        assert_eq!(
            last.get("authorization")
                .and_then(|value| value.to_str().ok()),
            Some(token.as_str()),
            "{who} passes Authorization on"
        );
    }
}
