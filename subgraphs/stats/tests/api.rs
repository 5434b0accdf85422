//! The stats service over real HTTP: `_entities` with the counts the router
//! brings, isolation between users, authentication, bad representations, and
//! the SDL it publishes.

use serde_json::{Value, json};
use stats::{Application, Config};
use subgraph_kit::cli::SubgraphArgs;

const SECRET: &str = "stats-test-secret";
const VIEWER_ID: i64 = 7;

struct TestApp {
    graphql_url: String,
    base_url: String,
    client: reqwest::Client,
}

async fn spawn_app() -> TestApp {
    let config = Config {
        listen: test_support::config::listen(),
        subgraph: SubgraphArgs {
            data_dir: test_support::config::data_dir(&test_support::fresh_data_dir("stats")),
            log: test_support::config::log(),
            jwt: test_support::config::jwt(SECRET),
            http: common::server::ServerLimits::default(),
            graphql: common::document_scan::GraphqlLimits::default(),
        },
    };
    let app = Application::build(config)
        .await
        .expect("build the stats service");
    let base_url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        graphql_url: format!("{base_url}/graphql"),
        base_url,
        client: reqwest::Client::new(),
    }
}

fn token_for(user_id: i64) -> String {
    test_support::config::keys(SECRET)
        .issue(user_id)
        .expect("token")
}

const ENTITIES: &str = "query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on User { id stats { totalTasks completedTasks completedPercentage
      breakdown { total todo inProgress done completed low medium high } } }
  }
}";

/// A `User` representation as the router sends it for `stats`: key plus required counts.
fn representation(id: &str, total: i32, completed: i32) -> Value {
    json!({
        "__typename": "User",
        "id": id,
        "taskCounts": {
            "total": total, "todo": total - completed, "inProgress": 0, "done": completed,
            "completed": completed, "low": 0, "medium": total, "high": 0
        }
    })
}

impl TestApp {
    /// GraphQL answers 200, errors go in the body.
    async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        test_support::graphql::post(&self.client, &self.graphql_url, token, query, variables)
            .await
            .ok()
    }

    async fn entities(&self, token: Option<&str>, representations: Value) -> Value {
        self.post(
            token,
            ENTITIES,
            json!({ "representations": representations }),
        )
        .await
    }
}

fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code, got {body}"))
}

#[tokio::test]
async fn stats_are_computed_from_the_counts_in_the_representation() {
    let app = spawn_app().await;
    let token = token_for(VIEWER_ID);
    let body = app
        .entities(
            Some(&token),
            json!([
                representation("7", 3, 1),
                representation("7", 10, 3),
                representation("7", 0, 0),
                representation("7", 8, 8),
            ]),
        )
        .await;
    assert!(body.get("errors").is_none(), "no errors expected: {body}");
    let users = body["data"]["_entities"]
        .as_array()
        .expect("a list of entities");
    let percentages: Vec<f64> = users
        .iter()
        .map(|user| {
            user["stats"]["completedPercentage"]
                .as_f64()
                .expect("a float")
        })
        .collect();
    assert_eq!(percentages, vec![33.33, 30.0, 0.0, 100.0]);

    let first = &users[0];
    assert_eq!(first["id"], "7");
    assert_eq!(first["stats"]["totalTasks"], 3);
    assert_eq!(first["stats"]["completedTasks"], 1);
    assert_eq!(
        first["stats"]["breakdown"],
        json!({"total": 3, "todo": 2, "inProgress": 0, "done": 1, "completed": 1, "low": 0, "medium": 3, "high": 0})
    );
}

#[tokio::test]
async fn nested_typenames_in_the_counts_are_accepted() {
    // Routers may select `__typename` inside the required counts too.
    let app = spawn_app().await;
    let mut user = representation("7", 4, 1);
    user["taskCounts"]["__typename"] = json!("TaskCounts");
    let body = app
        .entities(Some(&token_for(VIEWER_ID)), json!([user]))
        .await;
    assert_eq!(
        body["data"]["_entities"][0]["stats"]["completedPercentage"], 25.0,
        "{body}"
    );
}

#[tokio::test]
async fn another_users_representation_resolves_to_null() {
    let app = spawn_app().await;
    let body = app
        .entities(
            Some(&token_for(VIEWER_ID)),
            json!([
                representation("8", 5, 5),
                representation("7", 2, 1),
                representation("not-a-number", 1, 1)
            ]),
        )
        .await;
    assert!(body.get("errors").is_none(), "no errors expected: {body}");
    let users = &body["data"]["_entities"];
    assert_eq!(users[0], Value::Null);
    assert_eq!(users[1]["stats"]["completedPercentage"], 50.0);
    assert_eq!(users[2], Value::Null);
}

#[tokio::test]
async fn without_a_token_entities_are_unauthenticated() {
    let app = spawn_app().await;
    let body = app.entities(None, json!([representation("7", 3, 1)])).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert!(
        body["data"].is_null() || body["data"]["_entities"][0].is_null(),
        "no stats leak: {body}"
    );
}

#[tokio::test]
async fn a_bad_token_is_unauthenticated() {
    let app = spawn_app().await;
    let forged = test_support::config::keys("another-secret")
        .issue(VIEWER_ID)
        .expect("token");
    let body = app
        .entities(Some(&forged), json!([representation("7", 3, 1)]))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(
        body["errors"][0]["message"],
        "Could not validate credentials"
    );
}

#[tokio::test]
async fn a_representation_without_task_counts_is_bad_input() {
    let app = spawn_app().await;
    let body = app
        .entities(
            Some(&token_for(VIEWER_ID)),
            json!([{"__typename": "User", "id": "7"}]),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "taskCounts");
}

#[tokio::test]
async fn malformed_task_counts_are_an_error_not_a_crash() {
    let app = spawn_app().await;
    let token = token_for(VIEWER_ID);
    let mut user = representation("7", 3, 1);
    user["taskCounts"]["total"] = json!("three");
    let body = app.entities(Some(&token), json!([user])).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "taskCounts");

    // The service is still up and answering.
    let body = app
        .entities(Some(&token), json!([representation("7", 2, 2)]))
        .await;
    assert_eq!(
        body["data"]["_entities"][0]["stats"]["completedPercentage"],
        100.0
    );
}

#[tokio::test]
async fn print_schema_prints_exactly_the_service_sdl() {
    let app = spawn_app().await;
    let body = app.post(None, "{ _service { sdl } }", json!({})).await;
    let served = body["data"]["_service"]["sdl"].as_str().expect("the SDL");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_stats"))
        .arg("print-schema")
        .output()
        .expect("run stats print-schema");
    assert!(output.status.success(), "print-schema exits 0");
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    assert_eq!(printed, served);
    assert!(printed.contains(
        r#"stats: UserStats! @requires(fields: "taskCounts { total todo inProgress done completed low medium high }")"#
    ));
    assert!(printed.contains("taskCounts: TaskCounts! @external"));
}

#[tokio::test]
async fn graphql_over_get_and_health_endpoints_answer() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(&app.graphql_url)
        .query(&[("query", "{ _service { sdl } }")])
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert!(
        body["data"]["_service"]["sdl"]
            .as_str()
            .is_some_and(|sdl| sdl.contains("UserStats"))
    );

    for path in ["/health", "/ready"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .expect("probe");
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["service"], "stats");
    }
}
