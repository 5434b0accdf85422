//! A bounded fuzz run of a subgraph's `/graphql` endpoint (tasks, on SQLite,
//! as its own process): generated GraphQL documents, variables and HTTP bodies,
//! seeded with the shapes that once aborted or stalled the subgraphs. Every
//! answer must be a 200 or a 4xx with an `extensions.code`, and the process
//! must stay up. The number of cases is fixed (`FUZZ_CASES`, default 512) and
//! every request is bounded, so the run stops by itself in seconds.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use test_support::siege::{self, RawResponse, ServiceProcess};

/// Names and punctuation a GraphQL lexer meets, including the schema's own names.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "$",
    "...",
    "@",
    "!",
    "=",
    ",",
    "|",
    "&",
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "true",
    "false",
    "null",
    "__typename",
    "__schema",
    "__type",
    "_service",
    "sdl",
    "_entities",
    "representations",
    "task",
    "id",
    "me",
    "tasks",
    "items",
    "title",
    "filter",
    "limit",
    "skip",
    "createTask",
    "input",
    "status",
    "TODO",
    "DONE",
    "taskCounts",
    "total",
    "owner",
    "User",
    "Task",
    "Query",
    "skip",
    "include",
    "if",
    "\"a\\u0000b\"",
    "\"\"\"block\"\"\"",
    "\"\\\"",
    "#comment\n",
    "-1",
    "1e308",
    "0x1",
    "\u{feff}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..300).prop_map(|tokens| tokens.join(" "))
}

/// Well-formed selections nested to a random depth, some far past the limits.
fn nested_document() -> impl Strategy<Value = String> {
    (
        0usize..200,
        prop::sample::select(&["{ a ", "[", "{a:", "(a: "][..]),
        prop::bool::ANY,
    )
        .prop_map(|(depth, opener, as_argument)| {
            let closer = match opener {
                "{ a " | "{a:" => "}",
                "[" => "]",
                _ => ")",
            };
            let inner = format!("{}1{}", opener.repeat(depth), closer.repeat(depth));
            if as_argument {
                format!("{{ __typename(a: {inner}) }}")
            } else {
                inner
            }
        })
}

/// The hostile shapes at a small scale, cut at a random point or with a byte replaced.
fn mutated_seed() -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Vec<u8>> = siege::hostile_shapes(1)
        .into_iter()
        .map(|shape| shape.request)
        .collect();
    let seeds = Arc::new(seeds);
    (
        0..seeds.len(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0u8..3,
    )
        .prop_map(move |(which, at, byte, how)| {
            let mut request = seeds[which].clone();
            let position = at.index(request.len().max(1));
            match how {
                0 => {}
                1 => request.truncate(position),
                _ => {
                    if let Some(slot) = request.get_mut(position) {
                        *slot = byte;
                    }
                }
            }
            request
        })
}

/// Any JSON, nested up to ~100 levels (past the 64 allowed).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z\\u{0}\\u{1f600}]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(100, 400, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A whole HTTP request for `/graphql`.
fn request() -> impl Strategy<Value = Vec<u8>> {
    let document = prop_oneof![token_soup(), nested_document()];
    prop_oneof![
        // A JSON body with a document and variables.
        (document.clone(), json_value()).prop_map(|(query, variables)| siege::post_json(
            "/graphql",
            &json!({"query": query, "variables": variables}).to_string()
        )),
        // Any JSON as the body.
        json_value().prop_map(|body| siege::post_json("/graphql", &body.to_string())),
        // Bytes that are not JSON at all.
        prop::collection::vec(any::<u8>(), 0..512)
            .prop_map(|bytes| siege::post_json("/graphql", &String::from_utf8_lossy(&bytes))),
        // A GET link.
        (document, json_value()).prop_map(|(query, variables)| siege::get(&format!(
            "/graphql?query={}&variables={}",
            siege::percent_encode(&query),
            siege::percent_encode(&variables.to_string())
        ))),
        mutated_seed(),
    ]
}

fn acceptable(response: &RawResponse) -> Result<(), String> {
    match response.status {
        200 if response.json().is_object() => Ok(()),
        400..=499 if response.error_code().is_some() => Ok(()),
        // hyper's own refusal of a request line it cannot parse (a mutated seed): no body to code.
        400 if response.body.is_empty() => Ok(()),
        // A request cut short (a truncated seed) is closed by the header-read timeout, unanswered.
        0 => Ok(()),
        _ => Err(format!(
            "{} {}",
            response.status,
            response.body.chars().take(300).collect::<String>()
        )),
    }
}

#[test]
fn the_tasks_endpoint_survives_generated_requests() {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(512);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let data_dir = test_support::fresh_data_dir("tasks-fuzz");
    let mut args: Vec<String> = vec![
        "--port".into(),
        "0".into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
    ];
    // A cut-off request head or body is then answered (or closed) at once.
    args.extend(siege::short_timeouts());
    let mut service = runtime
        .block_on(ServiceProcess::spawn(
            std::path::Path::new(env!("CARGO_BIN_EXE_tasks")),
            &args,
            &[],
            None,
        ))
        .expect("the tasks service starts");
    let addr = service.addr;
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&request(), |request| {
        let response = runtime
            .block_on(siege::raw_exchange(addr, &request, false))
            .map_err(|err| TestCaseError::fail(format!("no answer: {err:#}")))?;
        acceptable(&response).map_err(TestCaseError::fail)
    });
    assert!(service.is_running(), "the service died during the run");
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}
