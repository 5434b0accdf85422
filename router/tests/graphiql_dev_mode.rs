//! What GraphiQL is told by the router: the example document it opens with,
//! and — in development mode only — the query plan of an operation, when the
//! request asks for it with `Apollo-Query-Plan-Experimental`. TaskTracker's own
//! example document (which the launcher passes) is valid against the supergraph.

mod http_support;

use http_support::{preflighted_client, spawn_router};
use serde_json::{Value, json};

const PLAN_HEADER: &str = "Apollo-Query-Plan-Experimental";

async fn post(base_url: &str, ask_for_plan: bool) -> Value {
    let mut request = preflighted_client()
        .post(format!("{base_url}/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": "{ hello }" }).to_string());
    if ask_for_plan {
        request = request.header(PLAN_HEADER, "1");
    }
    request
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON")
}

async fn settings(base_url: &str) -> Value {
    reqwest::get(format!("{base_url}/graphiql/settings.json"))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn query_plans_are_never_given_in_production_mode() {
    let router = spawn_router(&[]).await;
    let body = post(&router.base_url, true).await;
    assert_eq!(body, json!({ "data": { "hello": "hello from echo" } }));
    assert_eq!(
        settings(&router.base_url).await,
        json!({ "defaultDocument": null, "queryPlanHeader": null })
    );
}

#[tokio::test]
async fn development_mode_gives_the_plan_to_requests_that_ask() {
    let dir = test_support::fresh_data_dir("graphiql-dev");
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let document = dir.join("example.graphql");
    std::fs::write(&document, "query Hello { hello }\n").expect("write the document");
    let document_arg = document.display().to_string();
    let router = spawn_router(&["--dev", "--graphiql-document", &document_arg]).await;

    let body = post(&router.base_url, false).await;
    assert_eq!(body, json!({ "data": { "hello": "hello from echo" } }));
    let body = post(&router.base_url, true).await;
    assert_eq!(body["data"], json!({ "hello": "hello from echo" }));
    let plan = body["extensions"]["queryPlan"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(plan.contains("Fetch(service: \"echo\")"), "{body}");
    assert_eq!(
        settings(&router.base_url).await,
        json!({
            "defaultDocument": "query Hello { hello }\n",
            "queryPlanHeader": "apollo-query-plan-experimental",
        })
    );
}

#[test]
fn a_missing_document_stops_the_router_at_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_router"))
        .args([
            "--port",
            "0",
            "--graphiql-document",
            "/nonexistent/example.graphql",
        ])
        .output()
        .expect("the router binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/example.graphql"), "{stderr}");
}

#[test]
fn every_operation_of_the_tasktracker_example_plans_against_the_supergraph() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let supergraph =
        std::fs::read_to_string(root.join("supergraph.graphql")).expect("the supergraph");
    let example = std::fs::read_to_string(root.join("src/graphiql-example.graphql"))
        .expect("the example document");
    let engine = router::engine::Engine::new(&supergraph, router::engine::EngineOptions::default())
        .expect("the supergraph loads");
    let names = ["Register", "Login", "CreateTask", "Me"];
    for name in names {
        assert!(
            example.contains(&format!(" {name} ")),
            "{name} is in the example"
        );
        engine
            .query_plan(&example, Some(name))
            .unwrap_or_else(|errors| panic!("{name} does not plan: {errors:?}"));
    }
    assert!(example.contains("Authorization"), "the headers hint");
}
