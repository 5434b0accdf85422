//! Cases over the blog supergraph (see `blog`): planner aliases in `@requires`
//! and in error paths, entities that cannot be represented, leaf values outside
//! the API schema, and dependent fetches when the fetch bringing their inputs fails.

use std::time::Duration;

use serde_json::{Value, json};

use router::engine::{Engine, EngineOptions, GraphQLRequest, Response};

use crate::harness::{
    TestSubgraph, answering_url, context, silent_url, spawn_subgraph, to_json, unreachable_url,
};

/// Every representation insights received, over all its requests (in
/// `$representations`, or in the variables of a batch, `$__batch_reps_N`).
fn representations_sent_to_insights(stack: &BlogStack) -> Vec<Value> {
    stack
        .insights
        .received_bodies()
        .into_iter()
        .filter_map(|body| body["variables"].as_object().cloned())
        .flat_map(|variables| variables.into_iter())
        .filter(|(name, _)| name == "representations" || name.starts_with("__batch_reps_"))
        .filter_map(|(_, value)| value.as_array().cloned())
        .flatten()
        .collect()
}

fn codes_at(response: &router::engine::Response, field: &str) -> Vec<(Vec<Value>, String)> {
    response
        .errors
        .iter()
        .filter(|error| {
            error
                .path
                .as_ref()
                .is_some_and(|path| path.last() == Some(&json!(field)))
        })
        .map(|error| {
            let code = error.extensions.as_ref().and_then(|e| e.get("code"));
            (
                error.path.clone().unwrap_or_default(),
                code.and_then(Value::as_str).unwrap_or("none").to_owned(),
            )
        })
        .collect()
}

fn no_planner_alias_anywhere(response: &router::engine::Response) {
    let text = to_json(response).to_string();
    assert!(!text.contains("_internal_qp_alias"), "{text}");
}

const ALIASED_REQUIRES: [&str; 3] = [
    "{ posts { id comments(limit: 1) { body } commenterCount } }",
    "query Posts($n: Int! = 1) { posts { id comments(limit: $n) { body } commenterCount } }",
    "{ posts { ...Parts } } fragment Parts on Post { id comments(limit: 1) { body } commenterCount }",
];

#[tokio::test]
async fn requires_of_a_field_the_client_asks_with_other_arguments_reads_the_planner_alias() {
    for query in ALIASED_REQUIRES {
        let stack = spawn_blog_stack().await;
        assert!(
            stack.plan(query).contains("_internal_qp_alias_0"),
            "the case needs the planner's alias: {}",
            stack.plan(query)
        );
        let response = stack.query(query).await;
        assert_eq!(
            to_json(&response)["data"],
            json!({"posts": [
                {"id": "p1", "comments": [{"body": "comment 0 on p1"}], "commenterCount": 2},
                {"id": "p2", "comments": [{"body": "comment 0 on p2"}], "commenterCount": 1},
                {"id": "p3", "comments": null, "commenterCount": null}
            ]}),
            "{query}"
        );
        // The requirement's copy (all comments, not the client's one) is sent under the field's name.
        assert_eq!(
            representations_sent_to_insights(&stack),
            [
                json!({"__typename": "Post", "id": "p1", "comments": [{"authorId": "a1"}, {"authorId": "a2"}, {"authorId": "a1"}]}),
                json!({"__typename": "Post", "id": "p2", "comments": [{"authorId": "a3"}]}),
            ],
            "{query}"
        );
        no_planner_alias_anywhere(&response);
    }
}

#[tokio::test]
async fn errors_of_an_aliased_fetch_carry_the_clients_path() {
    let stack = spawn_blog_stack().await;
    let response = stack.query(ALIASED_REQUIRES[0]).await;
    no_planner_alias_anywhere(&response);
    let paths: Vec<_> = response.errors.iter().map(|e| e.path.clone()).collect();
    assert!(
        paths.contains(&Some(vec![json!("posts"), json!(2), json!("comments")])),
        "{paths:?}"
    );
}

#[tokio::test]
async fn a_requirement_lost_to_a_subgraph_error_skips_only_that_entity() {
    let stack = spawn_blog_stack().await;
    let response = stack.query(ALIASED_REQUIRES[0]).await;
    let representations = representations_sent_to_insights(&stack);
    assert!(
        representations.iter().all(|r| r["id"] != "p3"),
        "p3 has no comments to send: {representations:?}"
    );
    assert_eq!(
        codes_at(&response, "commenterCount"),
        [(
            vec![json!("posts"), json!(2), json!("commenterCount")],
            "SUBGRAPH_ERROR".to_owned()
        )]
    );
    let dependent = response
        .errors
        .iter()
        .find(|e| {
            e.path
                .as_ref()
                .is_some_and(|p| p.last() == Some(&json!("commenterCount")))
        })
        .expect("an error at commenterCount");
    let extensions = dependent.extensions.as_ref().expect("extensions");
    assert_eq!(extensions["serviceName"], "posts", "names the failed part");
    assert!(
        dependent.message.contains("comments store unavailable"),
        "{}",
        dependent.message
    );
}

#[tokio::test]
async fn an_entity_without_its_key_is_not_sent_and_its_siblings_resolve() {
    let stack = spawn_blog_stack().await;
    let response = stack.query("{ books { title rating } }").await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"books": [
            {"title": "Dune", "rating": 2},
            {"title": "Untitled", "rating": null},
            {"title": "Emma", "rating": 2}
        ]}})
    );
    assert_eq!(
        representations_sent_to_insights(&stack),
        [
            json!({"__typename": "Book", "id": "k1"}),
            json!({"__typename": "Book", "id": "k3"})
        ]
    );
    assert_eq!(stack.posts.requests(), 1, "books come from one root fetch");
}

#[tokio::test]
async fn an_enum_value_outside_the_api_schema_becomes_null_with_an_error() {
    let stack = spawn_blog_stack().await;
    let response = stack.query("{ posts { id status } }").await;
    assert_eq!(
        to_json(&response)["data"],
        json!({"posts": [
            {"id": "p1", "status": "PUBLISHED"},
            {"id": "p2", "status": null},
            {"id": "p3", "status": "DRAFT"}
        ]})
    );
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    assert_eq!(
        response.errors[0].path,
        Some(vec![json!("posts"), json!(1), json!("status")])
    );
}

/// posts brings the comments insights needs; whatever way posts fails, insights
/// is not asked for `commenterCount` and each post's count is null with an error
/// naming posts and coded by the kind of failure.
#[tokio::test]
async fn dependent_fetches_are_not_sent_when_their_inputs_failed() {
    let cases: [(&str, String); 4] = [
        ("SUBGRAPH_UNAVAILABLE", unreachable_url()),
        (
            "SUBGRAPH_HTTP_ERROR",
            answering_url(500, "Internal Server Error").await,
        ),
        (
            "SUBGRAPH_INVALID_RESPONSE",
            answering_url(200, "{not json").await,
        ),
        ("SUBGRAPH_TIMEOUT", silent_url().await),
    ];
    for (code, posts_url) in cases {
        let stack = spawn_blog_stack_with(|options| {
            options
                .subgraph_url_overrides
                .insert("posts".to_owned(), posts_url);
            options.subgraph_timeout = Duration::from_millis(300);
        })
        .await;
        let response = stack.query("{ feed { id commenterCount } }").await;
        assert_eq!(
            to_json(&response)["data"],
            json!({"feed": [
                {"id": "p1", "commenterCount": null},
                {"id": "p2", "commenterCount": null},
                {"id": "p3", "commenterCount": null}
            ]}),
            "{code}"
        );
        assert_eq!(
            stack.insights.requests(),
            1,
            "{code}: only the root fetch, never the dependent one"
        );
        // One error for the three skipped entities (bounded by the fetch and the path
        // pattern, not by the list's length), at the first one's path, saying how many.
        assert_eq!(
            codes_at(&response, "commenterCount"),
            [(
                vec![json!("feed"), json!(0), json!("commenterCount")],
                code.to_owned()
            )],
            "{code}"
        );
        let skipped = response
            .errors
            .iter()
            .find_map(|e| {
                e.extensions
                    .as_ref()
                    .filter(|x| x.contains_key("skippedServiceName"))
            })
            .expect("the dependent error");
        assert_eq!(skipped["serviceName"], "posts", "{code}");
        assert_eq!(skipped["skippedServiceName"], "insights", "{code}");
        assert_eq!(skipped["skippedEntities"], 3, "{code}");
        let fetch_error = response
            .errors
            .iter()
            .find(|e| e.message.starts_with("HTTP fetch failed from 'posts'"))
            .unwrap_or_else(|| {
                panic!(
                    "{code}: the failed fetch is reported: {:?}",
                    response.errors
                )
            });
        assert_eq!(
            fetch_error.extensions.as_ref().expect("extensions")["code"],
            code
        );
    }
}

pub const BLOG_SUPERGRAPH: &str = include_str!("../fixtures/blog/supergraph.graphql");

/// The blog subgraphs (posts, insights) and an engine over their supergraph.
pub struct BlogStack {
    pub engine: Engine,
    pub posts: TestSubgraph,
    pub insights: TestSubgraph,
}

pub async fn spawn_blog_stack() -> BlogStack {
    spawn_blog_stack_with(|_| {}).await
}

/// Like `spawn_blog_stack`; `adjust` may replace a subgraph's URL (a failing server).
pub async fn spawn_blog_stack_with(adjust: impl FnOnce(&mut EngineOptions)) -> BlogStack {
    let posts = spawn_subgraph(crate::blog::posts::schema()).await;
    let insights = spawn_subgraph(crate::blog::insights::schema()).await;
    let mut options = EngineOptions::default();
    for (name, subgraph) in [("posts", &posts), ("insights", &insights)] {
        options
            .subgraph_url_overrides
            .insert(name.to_owned(), subgraph.url.clone());
    }
    adjust(&mut options);
    let engine = Engine::new(BLOG_SUPERGRAPH, options).expect("the blog supergraph loads");
    BlogStack {
        engine,
        posts,
        insights,
    }
}

impl BlogStack {
    pub async fn query(&self, query: &str) -> Response {
        let request = GraphQLRequest {
            query: query.to_owned(),
            ..Default::default()
        };
        self.engine.execute(request, context()).await
    }

    pub fn plan(&self, query: &str) -> String {
        self.engine
            .query_plan(query, None)
            .expect("the query plans")
    }
}

#[tokio::test]
async fn two_requirements_of_one_field_with_different_arguments_each_get_their_own() {
    let stack = spawn_blog_stack().await;
    let response = stack
        .query("{ posts { id commenterCount firstCommenter } }")
        .await;
    assert_eq!(
        to_json(&response)["data"],
        json!({"posts": [
            {"id": "p1", "commenterCount": 2, "firstCommenter": "a1"},
            {"id": "p2", "commenterCount": 1, "firstCommenter": "a3"},
            {"id": "p3", "commenterCount": null, "firstCommenter": null}
        ]})
    );
    assert!(
        representations_sent_to_insights(&stack)
            .iter()
            .all(|representation| representation["id"] != "p3"),
        "p3's comments failed: no representation of it"
    );
    no_planner_alias_anywhere(&response);
}

#[tokio::test]
async fn entities_reached_through_a_union_are_joined_and_a_keyless_one_is_left_out() {
    let stack = spawn_blog_stack().await;
    let response = stack
        .query("{ everything { __typename ... on Post { id commenterCount } ... on Book { title rating } } }")
        .await;
    assert_eq!(
        to_json(&response)["data"],
        json!({"everything": [
            {"__typename": "Post", "id": "p1", "commenterCount": 2},
            {"__typename": "Post", "id": "p2", "commenterCount": 1},
            {"__typename": "Post", "id": "p3", "commenterCount": null},
            {"__typename": "Book", "title": "Dune", "rating": 2},
            {"__typename": "Book", "title": "Untitled", "rating": null},
            {"__typename": "Book", "title": "Emma", "rating": 2}
        ]})
    );
    let books: Vec<Value> = representations_sent_to_insights(&stack)
        .into_iter()
        .filter(|representation| representation["__typename"] == "Book")
        .collect();
    assert_eq!(
        books,
        [
            json!({"__typename": "Book", "id": "k1"}),
            json!({"__typename": "Book", "id": "k3"})
        ]
    );
}

#[tokio::test]
async fn an_enum_value_outside_the_api_schema_is_refused_as_input() {
    let stack = spawn_blog_stack().await;
    let response = stack.query("{ posts(status: ARCHIVED) { id } }").await;
    assert!(matches!(
        response.outcome,
        router::engine::Outcome::Refused(router::engine::RequestErrorKind::Validation)
    ));
    let response = stack
        .query("{ posts(status: PUBLISHED) { id status } }")
        .await;
    assert_eq!(
        to_json(&response),
        json!({"data": {"posts": [{"id": "p1", "status": "PUBLISHED"}]}})
    );
    assert_eq!(stack.posts.requests(), 1, "the refused one never left");
}

/// A subgraph whose values do not fit the supergraph's types (served as canned
/// JSON): built-in scalars are coerced as graphql-js does, and what cannot be
/// represented is null with an error at its path, propagating by nullability.
#[tokio::test]
async fn leaf_values_are_coerced_to_the_api_schema() {
    let posts = answering_url(
        200,
        r#"{"data": {
            "posts": [
                {"id": 7, "title": 12, "status": "DRAFT"},
                {"id": "p2", "title": true, "status": "ARCHIVED"},
                {"id": "p3", "title": "fine", "status": "SHELVED"}
            ],
            "books": [{"id": "k1", "title": ["not", "a", "string"]}]
        }}"#,
    )
    .await;
    let stack = spawn_blog_stack_with(|options| {
        options
            .subgraph_url_overrides
            .insert("posts".to_owned(), posts);
    })
    .await;
    let response = stack.query("{ posts { id title status } }").await;
    assert_eq!(
        to_json(&response)["data"],
        json!({"posts": [
            {"id": "7", "title": "12", "status": "DRAFT"},
            {"id": "p2", "title": "true", "status": null},
            {"id": "p3", "title": "fine", "status": null}
        ]})
    );
    let paths: Vec<_> = response.errors.iter().map(|e| e.path.clone()).collect();
    assert_eq!(
        paths,
        [
            Some(vec![json!("posts"), json!(1), json!("status")]),
            Some(vec![json!("posts"), json!(2), json!("status")])
        ]
    );
    // `Book.title: String!` in `[Book!]!`: the null reaches `data`.
    let response = stack.query("{ books { title } }").await;
    assert_eq!(response.data_json(), Some(Value::Null));
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    assert_eq!(
        response.errors[0].path,
        Some(vec![json!("books"), json!(0), json!("title")])
    );
}

/// A development aid, not a check: the plan, the response and what the subgraphs
/// received for `PLAN_QUERY` over the blog supergraph
/// (`PLAN_QUERY='{ posts { id } }' cargo test -p router --test federation -- --ignored print_blog_plan --nocapture`).
#[tokio::test]
#[ignore]
async fn print_blog_plan() {
    let stack = spawn_blog_stack().await;
    let query = std::env::var("PLAN_QUERY").expect("PLAN_QUERY");
    println!("{}", stack.plan(&query));
    let response = stack.query(&query).await;
    println!(
        "{}",
        serde_json::to_string_pretty(&to_json(&response)).expect("json")
    );
    println!("posts received: {:?}", stack.posts.received_bodies());
    println!("insights received: {:?}", stack.insights.received_bodies());
}
