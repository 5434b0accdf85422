//! What the router answers itself: introspection of the API schema (without
//! `@inaccessible` elements or federation internals), validation and parse errors.

use router::engine::{Outcome, RequestErrorKind};
use serde_json::json;

use crate::harness::{spawn_stack, to_json};

#[tokio::test]
async fn introspection_answers_from_the_api_schema() {
    let stack = spawn_stack().await;
    let response = stack
        .query(r#"{ __typename __type(name: "User") { kind name fields { name type { kind ofType { name } } } } }"#)
        .await;
    let json = to_json(&response);
    assert_eq!(json["data"]["__typename"], "Query");
    assert_eq!(json["data"]["__type"]["kind"], "OBJECT");
    let fields: Vec<&str> = json["data"]["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|field| field["name"].as_str().expect("name"))
        .collect();
    assert!(
        fields.contains(&"reviews") && fields.contains(&"username"),
        "{fields:?}"
    );
    assert!(
        !fields.contains(&"secret"),
        "@inaccessible fields are not introspectable"
    );
    assert_eq!(
        json["data"]["__type"]["fields"][0],
        json!({"name": "id", "type": {"kind": "NON_NULL", "ofType": {"name": "ID"}}})
    );
    assert_eq!(
        stack.accounts.requests() + stack.reviews.requests() + stack.products.requests(),
        0
    );
}

#[tokio::test]
async fn schema_introspection_lists_types_and_roots() {
    let stack = spawn_stack().await;
    let response = stack
        .query("{ __schema { queryType { name } mutationType { name } types { name kind possibleTypes { name } } directives { name } } }")
        .await;
    let json = to_json(&response);
    assert_eq!(
        json["data"]["__schema"]["queryType"],
        json!({"name": "Query"})
    );
    assert_eq!(
        json["data"]["__schema"]["mutationType"],
        json!({"name": "Mutation"})
    );
    let types = json["data"]["__schema"]["types"].as_array().expect("types");
    let product = types
        .iter()
        .find(|t| t["name"] == "Product")
        .expect("Product listed");
    assert_eq!(product["kind"], "INTERFACE");
    assert_eq!(
        product["possibleTypes"],
        json!([{"name": "Book"}, {"name": "Furniture"}])
    );
    assert!(
        types
            .iter()
            .all(|t| !t["name"].as_str().expect("name").starts_with("join__")),
        "no federation internals"
    );
    assert!(types.iter().any(|t| t["name"] == "__Schema"));
    let directives = json["data"]["__schema"]["directives"]
        .as_array()
        .expect("directives");
    assert!(directives.iter().any(|d| d["name"] == "include"));
}

#[tokio::test]
async fn introspection_mixes_with_federated_fields() {
    let stack = spawn_stack().await;
    let response = stack
        .query(r#"{ me { __typename name } t: __type(name: "Nope") { name } }"#)
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"me": {"__typename": "User", "name": "Ada Lovelace"}, "t": null}})
    );
}

#[tokio::test]
async fn inaccessible_fields_are_refused_and_absent_from_the_api_schema() {
    let stack = spawn_stack().await;
    let response = stack.query("{ me { id secret } }").await;
    assert!(matches!(
        response.outcome,
        Outcome::Refused(RequestErrorKind::Validation)
    ));
    assert!(response.data.is_none());
    assert!(
        response.errors[0].message.contains("secret"),
        "{:?}",
        response.errors
    );
    assert_eq!(stack.accounts.requests(), 0);
    let sdl = stack.engine.api_schema_sdl();
    assert!(
        sdl.contains("username: String!") && !sdl.contains("secret"),
        "{sdl}"
    );
    assert!(
        !sdl.contains("join__") && !sdl.contains("__schema"),
        "{sdl}"
    );
}

#[tokio::test]
async fn unknown_fields_and_bad_arguments_are_validation_errors() {
    let stack = spawn_stack().await;
    let response = stack.query("{ me { id shoeSize } }").await;
    assert!(matches!(
        response.outcome,
        Outcome::Refused(RequestErrorKind::Validation)
    ));
    assert_eq!(
        response.errors[0].message,
        "Cannot query field \"shoeSize\" on type \"User\"."
    );
    assert_eq!(
        response.errors[0]
            .extensions
            .as_ref()
            .and_then(|e| e.get("code")),
        Some(&json!("GRAPHQL_VALIDATION_FAILED"))
    );
    let response = stack.query("{ user(id: 1.5) { id } }").await;
    assert!(matches!(
        response.outcome,
        Outcome::Refused(RequestErrorKind::Validation)
    ));
    let response = stack.query("{ user { id } }").await;
    assert!(matches!(
        response.outcome,
        Outcome::Refused(RequestErrorKind::Validation)
    ));
}

#[tokio::test]
async fn parse_errors_are_refused_as_such() {
    let stack = spawn_stack().await;
    let response = stack.query("{ me { id ").await;
    assert!(matches!(
        response.outcome,
        Outcome::Refused(RequestErrorKind::Parse)
    ));
    assert!(response.data.is_none());
    assert!(!response.errors[0].message.is_empty());
}

#[tokio::test]
async fn subgraphs_use_the_url_overrides() {
    let stack = spawn_stack().await;
    let subgraphs = stack.engine.subgraphs();
    let names: Vec<&str> = subgraphs.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["accounts", "inventory", "products", "reviews"]);
    assert!(
        subgraphs
            .iter()
            .any(|(name, url)| name == "reviews" && *url == stack.reviews.url)
    );
}

/// The project's own supergraph (users, tasks, stats) loads and its typical
/// operation plans: stats' `@requires` on a nested selection of tasks' counts.
#[test]
fn the_tasktracker_supergraph_plans_the_dashboard_query() {
    let sdl = include_str!("../../../supergraph.graphql");
    let engine = router::engine::Engine::new(sdl, router::engine::EngineOptions::default())
        .expect("the tasktracker supergraph loads");
    let plan = engine
        .query_plan(
            "{ me { username tasks(limit: 5) { items { title owner { username } } totalCount } stats { completedPercentage breakdown { high } } } }",
            None,
        )
        .expect("plans");
    for service in ["users", "tasks", "stats"] {
        assert!(
            plan.contains(&format!("Fetch(service: \"{service}\")")),
            "{plan}"
        );
    }
    assert!(
        plan.contains("taskCounts"),
        "stats needs the counts from tasks: {plan}"
    );
}
