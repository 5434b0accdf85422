//! Query features across subgraphs: entity joins, `@requires`, `@provides`,
//! interfaces, unions, `@interfaceObject`, `@override`, aliases, fragments,
//! `@skip`/`@include`, variables and response ordering.

use router::engine::{Outcome, RequestErrorKind};
use serde_json::json;

use crate::harness::{spawn_stack, to_json};

#[tokio::test]
async fn entities_join_across_three_subgraphs() {
    let stack = spawn_stack().await;
    let response = stack
        .query("{ users { id name reviews { body product { upc name } } } }")
        .await;
    assert!(matches!(response.outcome, Outcome::Executed));
    assert_eq!(
        to_json(&response),
        json!({"data": {"users": [
            {"id": "1", "name": "Ada Lovelace", "reviews": [
                {"body": "A classic", "product": {"upc": "b1", "name": "Dune"}},
                {"body": "Witty", "product": {"upc": "b2", "name": "Emma"}}
            ]},
            {"id": "2", "name": "Alan Turing", "reviews": [
                {"body": "Sturdy", "product": {"upc": "f1", "name": "Chair"}}
            ]},
            {"id": "3", "name": "Grace Hopper", "reviews": [
                {"body": "Too long", "product": {"upc": "b1", "name": "Dune"}}
            ]}
        ]}})
    );
}

/// A development aid, not a check: prints the plan and the response of `PLAN_QUERY`
/// (`PLAN_QUERY='{ me { id } }' cargo test -p router --test federation -- --ignored print_plan --nocapture`).
#[tokio::test]
#[ignore]
async fn print_plan() {
    let stack = spawn_stack().await;
    let query = std::env::var("PLAN_QUERY").expect("PLAN_QUERY");
    println!("{}", stack.engine.query_plan(&query, None).expect("plans"));
    println!(
        "{}",
        serde_json::to_string_pretty(&to_json(&stack.query(&query).await)).expect("json")
    );
}

#[tokio::test]
async fn requires_sends_the_required_fields_in_representations() {
    let stack = spawn_stack().await;
    let response = stack
        .query("{ topProducts { upc ... on Book { shippingEstimate inStock } } }")
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"topProducts": [
            {"upc": "b1", "shippingEstimate": 6, "inStock": true},
            {"upc": "f1"},
            {"upc": "b2", "shippingEstimate": 0, "inStock": false}
        ]}})
    );
    assert_eq!(
        stack.inventory.requests(),
        1,
        "one _entities call for both books"
    );
}

#[tokio::test]
async fn provides_lets_the_providing_subgraph_answer_alone() {
    let stack = spawn_stack().await;
    let response = stack
        .query("{ latestReviews { body author { name } } }")
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"latestReviews": [
            {"body": "A classic", "author": {"name": "Ada Lovelace"}},
            {"body": "Sturdy", "author": {"name": "Alan Turing"}},
            {"body": "Witty", "author": {"name": "Ada Lovelace"}},
            {"body": "Too long", "author": {"name": "Grace Hopper"}}
        ]}})
    );
    assert_eq!(
        stack.accounts.requests(),
        0,
        "@provides makes the accounts fetch unnecessary"
    );
}

#[tokio::test]
async fn duplicate_representations_are_sent_once_and_mapped_back_to_every_entity() {
    let stack = spawn_stack().await;
    let response = stack
        .query("{ latestReviews { author { username } } }")
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"latestReviews": [
            {"author": {"username": "ada"}},
            {"author": {"username": "alan"}},
            {"author": {"username": "ada"}},
            {"author": {"username": "grace"}}
        ]}})
    );
    assert_eq!(stack.accounts.requests(), 1);
    let body = stack
        .accounts
        .received_bodies()
        .pop()
        .expect("accounts saw the entity fetch");
    let representations = body["variables"]["representations"]
        .as_array()
        .expect("representations sent")
        .len();
    assert_eq!(representations, 3, "four authors, three distinct users");
}

#[tokio::test]
async fn interfaces_resolve_concrete_types_and_type_conditions() {
    let stack = spawn_stack().await;
    let response = stack
        .query("{ topProducts { __typename name ... on Book { pages } ... on Furniture { material } } }")
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"topProducts": [
            {"__typename": "Book", "name": "Dune", "pages": 412},
            {"__typename": "Furniture", "name": "Chair", "material": "oak"},
            {"__typename": "Book", "name": "Emma", "pages": 300}
        ]}})
    );
}

#[tokio::test]
async fn unions_resolve_members_with_typename() {
    let stack = spawn_stack().await;
    let response = stack
        .query(r#"{ search(term: "u") { __typename ... on Book { name inStock } ... on Furniture { name } } }"#)
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"search": [
            {"__typename": "Book", "name": "Dune", "inStock": true}
        ]}})
    );
    let response = stack
        .query(r#"{ search(term: "a") { ... on Furniture { material } } }"#)
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"search": [{"material": "oak"}, {}]}})
    );
}

#[tokio::test]
async fn interface_object_fields_join_every_implementation() {
    let stack = spawn_stack().await;
    let response = stack
        .query("{ topProducts { name reviews { body } ... on Book { pages } } }")
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"topProducts": [
            {"name": "Dune", "reviews": [{"body": "A classic"}, {"body": "Too long"}], "pages": 412},
            {"name": "Chair", "reviews": [{"body": "Sturdy"}]},
            {"name": "Emma", "reviews": [{"body": "Witty"}], "pages": 300}
        ]}})
    );
    let response = stack
        .query("{ latestReviews { product { __typename name } } }")
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"latestReviews": [
            {"product": {"__typename": "Book", "name": "Dune"}},
            {"product": {"__typename": "Furniture", "name": "Chair"}},
            {"product": {"__typename": "Book", "name": "Emma"}},
            {"product": {"__typename": "Book", "name": "Dune"}}
        ]}})
    );
}

#[tokio::test]
async fn override_takes_the_field_from_the_overriding_subgraph() {
    let stack = spawn_stack().await;
    let response = stack.query(r#"{ user(id: "2") { name nickname } }"#).await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"user": {"name": "Alan Turing", "nickname": "reviews-nickname-2"}}})
    );
}

#[tokio::test]
async fn aliases_are_the_clients_in_the_response() {
    let stack = spawn_stack().await;
    let response = stack
        .query(r#"{ first: user(id: "1") { who: name handle: username } second: user(id: "3") { who: name tally: reviews { text: body } } }"#)
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {
            "first": {"who": "Ada Lovelace", "handle": "ada"},
            "second": {"who": "Grace Hopper", "tally": [{"text": "Too long"}]}
        }})
    );
}

#[tokio::test]
async fn response_keys_follow_the_request_order() {
    let stack = spawn_stack().await;
    let response = stack
        .query(r#"{ me { username reviews { body } id name } users { id } }"#)
        .await;
    let data = response.data_json().expect("data");
    let root: Vec<&String> = data.as_object().expect("object").keys().collect();
    assert_eq!(root, ["me", "users"]);
    let me: Vec<&String> = data["me"].as_object().expect("me object").keys().collect();
    assert_eq!(me, ["username", "reviews", "id", "name"]);
}

#[tokio::test]
async fn named_and_inline_fragments_are_applied() {
    let stack = spawn_stack().await;
    let query = r#"
        query Fragments { me { ...UserParts ... on User { reviews { ...ReviewParts } } } }
        fragment UserParts on User { id name }
        fragment ReviewParts on Review { body product { ... on Book { pages } } }
    "#;
    let response = stack.query(query).await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"me": {"id": "1", "name": "Ada Lovelace", "reviews": [
            {"body": "A classic", "product": {"pages": 412}},
            {"body": "Witty", "product": {"pages": 300}}
        ]}}})
    );
}

#[tokio::test]
async fn skip_and_include_follow_variables_and_literals() {
    let stack = spawn_stack().await;
    let query = r#"query ($withReviews: Boolean!, $hideName: Boolean = true) {
        me { id name @skip(if: $hideName) username @include(if: false) reviews @include(if: $withReviews) { body } }
    }"#;
    let response = stack.query_with(query, json!({"withReviews": false})).await;
    assert_eq!(to_json(&response), json!({"data": {"me": {"id": "1"}}}));
    assert_eq!(
        stack.reviews.requests(),
        0,
        "an excluded field's fetch is not made"
    );
    let response = stack
        .query_with(query, json!({"withReviews": true, "hideName": false}))
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"me": {"id": "1", "name": "Ada Lovelace", "reviews": [{"body": "A classic"}, {"body": "Witty"}]}}})
    );
}

#[tokio::test]
async fn variables_with_defaults_reach_the_subgraph() {
    let stack = spawn_stack().await;
    let query = "query Top($first: Int = 2) { topProducts(first: $first) { upc } }";
    let response = stack.query(query).await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"topProducts": [{"upc": "b1"}, {"upc": "f1"}]}})
    );
    let response = stack.query_with(query, json!({"first": 1})).await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"topProducts": [{"upc": "b1"}]}})
    );
    let response = stack.query("{ topProducts { upc } }").await;
    assert_eq!(
        response.data_json().expect("data")["topProducts"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

#[tokio::test]
async fn a_missing_required_variable_is_refused() {
    let stack = spawn_stack().await;
    let response = stack
        .query("query ($id: ID!) { user(id: $id) { name } }")
        .await;
    assert!(matches!(
        response.outcome,
        Outcome::Refused(RequestErrorKind::Validation)
    ));
    assert!(response.data.is_none());
    assert_eq!(
        response.errors[0].message,
        "Variable \"$id\" of required type \"ID!\" was not provided."
    );
    let response = stack
        .query_with(
            "query ($id: ID!) { user(id: $id) { name } }",
            json!({"id": true}),
        )
        .await;
    assert!(matches!(
        response.outcome,
        Outcome::Refused(RequestErrorKind::Validation)
    ));
    assert!(
        response.errors[0]
            .message
            .contains("got invalid value true"),
        "{:?}",
        response.errors
    );
    assert_eq!(stack.accounts.requests(), 0);
}

#[tokio::test]
async fn operation_name_selects_among_several_operations() {
    let stack = spawn_stack().await;
    let query = "query A { me { id } } query B { me { username } }";
    let response = stack.request(query, None, Some("B")).await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"me": {"username": "ada"}}})
    );
    let response = stack.request(query, None, None).await;
    assert!(matches!(
        response.outcome,
        Outcome::Refused(RequestErrorKind::Validation)
    ));
    let response = stack.request(query, None, Some("C")).await;
    assert_eq!(response.errors[0].message, "Unknown operation named \"C\".");
}

#[tokio::test]
async fn forwarded_headers_and_request_id_reach_subgraphs() {
    let stack = spawn_stack().await;
    let mut context = crate::harness::context();
    context
        .forwarded_headers
        .insert("authorization", "Bearer abc".parse().expect("header value"));
    let request = router::engine::GraphQLRequest {
        query: "{ me { id } }".to_owned(),
        ..Default::default()
    };
    let response = stack.engine.execute(request, context).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let headers = stack
        .accounts
        .received_headers()
        .pop()
        .expect("accounts was called");
    assert_eq!(
        headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some("Bearer abc")
    );
    assert_eq!(
        headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        Some("test-request")
    );
}

#[tokio::test]
async fn parallel_entity_fetches_to_one_subgraph_are_batched_into_one_request() {
    let stack = spawn_stack().await;
    let response = stack
        .query(r#"{ topProducts { ... on Book { inStock } } search(term: "u") { ... on Book { shippingEstimate } } }"#)
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {
            "topProducts": [{"inStock": true}, {}, {"inStock": false}],
            "search": [{"shippingEstimate": 6}]
        }})
    );
    assert_eq!(
        stack.inventory.requests(),
        1,
        "one request carries both entity selections"
    );
}

#[tokio::test]
async fn mutations_execute_and_join_entities() {
    let stack = spawn_stack().await;
    let response = stack
        .query(r#"mutation { renameUser(id: "3", name: "Amazing Grace") { name username reviews { body } } }"#)
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"renameUser": {"name": "Amazing Grace", "username": "grace", "reviews": [{"body": "Too long"}]}}})
    );
}

#[tokio::test]
async fn identical_mutations_in_flight_are_never_shared() {
    let stack = spawn_stack().await;
    let mutation = r#"mutation { renameUser(id: "1", name: "Ada") { name } }"#;
    let (first, second) = tokio::join!(stack.query(mutation), stack.query(mutation));
    assert_eq!(to_json(&first), to_json(&second));
    assert_eq!(
        stack.accounts.requests(),
        2,
        "each mutation is its own effect"
    );
}
