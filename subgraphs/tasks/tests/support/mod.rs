//! What the integration tests share: a tasks service on a fresh store of either
//! kind, served over real HTTP, and a small GraphQL client.
#![allow(dead_code)] // each test binary uses a different part of this kit

use std::path::PathBuf;

use db::StoreArgs;
use serde_json::{Value, json};
use subgraph_kit::cli::SubgraphArgs;
use tasks::{Application, Config};
pub use test_support::Store;
use test_support::TestDatabase;
use tokens::JwtArgs;
use tokens::JwtKeys;

pub const SECRET: &str = "tasks-test-secret";

/// How a test wants its service configured, beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub users_url: Option<String>,
    pub account_cache_seconds: u64,
    pub db_max_connections: Option<u32>,
}

pub struct TestApp {
    pub address: String,
    pub keys: JwtKeys,
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    client: reqwest::Client,
    /// Dropped with the app (PostgreSQL only).
    _database: Option<TestDatabase>,
}

pub async fn spawn_app(store: Store) -> TestApp {
    spawn_app_with(store, Options::default()).await
}

pub async fn spawn_app_with(store: Store, options: Options) -> TestApp {
    let database = match store {
        Store::Postgres => Some(TestDatabase::fresh("tasks").await),
        // Unset: the service's default embedded store in the data directory.
        Store::Sqlite => None,
    };
    start(database, options).await
}

/// A service on the given database (`None`: the embedded store in a fresh data directory).
pub async fn spawn_app_at(database: Option<TestDatabase>) -> TestApp {
    start(database, Options::default()).await
}

async fn start(database: Option<TestDatabase>, options: Options) -> TestApp {
    let data_dir = test_support::fresh_data_dir("tasks");
    let database_url = database.as_ref().map(|db| db.url().to_owned());
    let config = config(database_url.clone(), &data_dir, options);
    let app = Application::build(config)
        .await
        .expect("the tasks service starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        keys: test_support::config::keys(SECRET),
        database_url,
        data_dir,
        client: reqwest::Client::new(),
        _database: database,
    }
}

/// The whole configuration, spelled out so that no environment variable leaks in.
pub fn config(
    database_url: Option<String>,
    data_dir: &std::path::Path,
    options: Options,
) -> Config {
    Config {
        listen: test_support::config::listen(),
        store: StoreArgs::new(
            database_url,
            options.db_max_connections.unwrap_or(5),
            db::DEFAULT_ACQUIRE_TIMEOUT_MS,
        ),
        users_url: options.users_url,
        users_in_process: None,
        account_cache_seconds: options.account_cache_seconds,
        subgraph: SubgraphArgs {
            data_dir: test_support::config::data_dir(data_dir),
            log: test_support::config::log(),
            jwt: jwt_args(),
            http: common::server::ServerLimits::default(),
            graphql: common::document_scan::GraphqlLimits::default(),
        },
    }
}

/// A well-formed token for `user_id` signed with a key the service does not know.
pub fn forged_token(user_id: i64) -> String {
    test_support::config::keys("not-the-service-secret")
        .issue(user_id)
        .expect("a token")
}

pub fn jwt_args() -> JwtArgs {
    test_support::config::jwt(SECRET)
}

impl TestApp {
    /// A valid access token for `user_id`, signed with the service's secret.
    pub fn token(&self, user_id: i64) -> String {
        self.keys.issue(user_id).expect("a token")
    }

    /// POSTs a GraphQL request and returns the whole JSON response.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let url = format!("{}/graphql", self.address);
        test_support::graphql::post(&self.client, &url, token, query, variables)
            .await
            .ok()
    }

    /// A GraphQL request that must succeed: its `data`.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self.graphql(Some(token), query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response}"
        );
        response["data"].clone()
    }

    pub async fn create_task(&self, token: &str, input: Value) -> Value {
        let data = self
            .data(token, &format!("mutation($input: CreateTaskInput!) {{ createTask(input: $input) {{ {TASK_FIELDS} }} }}"), json!({ "input": input }))
            .await;
        data["createTask"].clone()
    }

    pub async fn task(&self, token: &str, id: &Value) -> Value {
        let data = self
            .data(
                token,
                &format!("query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"),
                json!({ "id": id }),
            )
            .await;
        data["task"].clone()
    }

    /// The viewer's tasks page through the `User` entity, as the router asks for it.
    pub async fn page(&self, token: &str, user_id: i64, arguments: &str) -> Value {
        let query = format!(
            "query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on User {{ tasks{arguments} {{ items {{ id title status priority }} totalCount skip limit }} }} }} }}"
        );
        let data = self
            .data(
                token,
                &query,
                json!({ "r": [{ "__typename": "User", "id": user_id.to_string() }] }),
            )
            .await;
        data["_entities"][0]["tasks"].clone()
    }

    pub async fn counts(&self, token: &str, user_id: i64) -> Value {
        let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { taskCounts { total todo inProgress done completed low medium high } } } }";
        let data = self
            .data(
                token,
                query,
                json!({ "r": [{ "__typename": "User", "id": user_id.to_string() }] }),
            )
            .await;
        data["_entities"][0]["taskCounts"].clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

pub const TASK_FIELDS: &str =
    "id title description status priority isCompleted dueDate owner { id } createdAt updatedAt";

/// Asserts that `response` failed with one error of `code`, naming `field` when given.
pub fn assert_error(response: &Value, code: &str, field: Option<&str>) {
    let errors = response["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("expected an error, got {response}"));
    assert_eq!(errors.len(), 1, "one error expected: {response}");
    let extensions = &errors[0]["extensions"];
    assert_eq!(extensions["code"], code, "{response}");
    if let Some(field) = field {
        assert_eq!(extensions["field"], field, "{response}");
    }
}

/// The message of the single error in `response`.
pub fn error_message(response: &Value) -> &str {
    response["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error, got {response}"))
}
