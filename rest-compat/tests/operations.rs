//! Every GraphQL operation this layer sends (`rest_compat::operations::ALL`)
//! is valid against the composed API schema: `supergraph.graphql` at the
//! repository root, reduced to what clients may ask for (federation internals
//! and `@inaccessible` elements removed) exactly as the router's planner does,
//! then checked with the GraphQL specification's validation rules (field names,
//! arguments, variable types and their use). A subgraph change that breaks an
//! operation REST relies on fails here, before any client meets it.

use graphql_tools::static_graphql::{query, schema};
use graphql_tools::validation::rules::default_rules_validation_plan;
use graphql_tools::validation::validate::validate;
use hive_router_query_planner::consumer_schema::ConsumerSchema;
use rest_compat::operations::{ALL, READ_TASK};

/// The API schema of the supergraph the router serves.
fn api_schema() -> schema::Document {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../supergraph.graphql");
    let sdl = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{path}: {err}"));
    let supergraph = graphql_tools::parser::parse_schema::<String>(&sdl)
        .unwrap_or_else(|err| panic!("{path} does not parse: {err}"))
        .into_static();
    (*ConsumerSchema::new_from_supergraph(&supergraph).document).clone()
}

/// The validation errors of `operation`, or its syntax error.
fn problems(api: &schema::Document, operation: &str) -> Vec<String> {
    let document: query::Document = match graphql_tools::parser::parse_query::<String>(operation) {
        Ok(document) => document.into_static(),
        Err(err) => return vec![format!("does not parse: {err}")],
    };
    validate(api, &document, &default_rules_validation_plan())
        .into_iter()
        .map(|error| error.message)
        .collect()
}

#[test]
fn every_operation_rest_sends_is_valid_against_the_api_schema() {
    let api = api_schema();
    let failures: Vec<String> = ALL
        .iter()
        .filter_map(|(name, operation)| {
            let problems = problems(&api, operation);
            (!problems.is_empty()).then(|| format!("{name}: {}", problems.join("; ")))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "invalid operations:\n{}",
        failures.join("\n")
    );
    assert!(ALL.len() >= 14, "every operation is listed");
}

/// The check above would notice a broken operation: a misspelled field, an
/// unknown argument and a variable of the wrong type are each refused.
#[test]
fn a_broken_operation_is_refused() {
    let api = api_schema();
    assert!(problems(&api, READ_TASK).is_empty());
    let broken = [
        READ_TASK.replace("dueDate", "dueDat"),
        READ_TASK.replace("task(id: $id)", "task(id: $id, first: 1)"),
        READ_TASK.replace("$id: ID!", "$id: Boolean!"),
        READ_TASK.replace("$id: ID!", "$id: ID"),
    ];
    for operation in broken {
        assert!(
            !problems(&api, &operation).is_empty(),
            "accepted: {operation}"
        );
    }
}
