//! What the integration tests share: a tasks service on a fresh store of either
//! kind, served over real HTTP, and a small GraphQL client.
#![allow(dead_code)] // each test binary uses a different part of this kit

use std::path::PathBuf;

use common::auth::JwtKeys;
use common::config::{DataDirArgs, JwtArgs, LogArgs, LogFormat};
use serde_json::{Value, json};
use tasks::{Application, Config};

pub const SECRET: &str = "tasks-test-secret";

/// The two stores every behaviour is tested on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Postgres,
    Sqlite,
}

/// Runs an async test body once per store, as `postgres` and `sqlite` tests of a module.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::support::Store::Postgres).await;
                }

                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::support::Store::Sqlite).await;
                }
            }
        )*
    };
}

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
}

pub async fn spawn_app(store: Store) -> TestApp {
    spawn_app_with(store, Options::default()).await
}

pub async fn spawn_app_with(store: Store, options: Options) -> TestApp {
    let database_url = match store {
        Store::Postgres => Some(fresh_postgres_database().await),
        // Unset: the service's default embedded store in the data directory.
        Store::Sqlite => None,
    };
    start(database_url, options).await
}

/// A service on the given database (`None`: the embedded store in a fresh data directory).
pub async fn spawn_app_at(database_url: Option<String>) -> TestApp {
    start(database_url, Options::default()).await
}

pub async fn fresh_postgres_database() -> String {
    common::testing::fresh_postgres_database("tasks_test")
        .await
        .expect("a fresh PostgreSQL database (is PostgreSQL running on 127.0.0.1:5432?)")
}

async fn start(database_url: Option<String>, options: Options) -> TestApp {
    let data_dir = common::testing::fresh_data_dir("tasks");
    let config = config(database_url.clone(), &data_dir, options);
    let app = Application::build(config)
        .await
        .expect("the tasks service starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        keys: JwtKeys::new(SECRET, "HS256", 30).expect("test keys"),
        database_url,
        data_dir,
        client: reqwest::Client::new(),
    }
}

/// The whole configuration, spelled out so that no environment variable leaks in.
pub fn config(
    database_url: Option<String>,
    data_dir: &std::path::Path,
    options: Options,
) -> Config {
    Config {
        port: 0,
        host: "127.0.0.1".to_owned(),
        database_url,
        db_max_connections: options.db_max_connections.unwrap_or(5),
        db_acquire_timeout_ms: common::db::DEFAULT_ACQUIRE_TIMEOUT_MS,
        users_url: options.users_url,
        account_cache_seconds: options.account_cache_seconds,
        data_dir: DataDirArgs {
            data_dir: data_dir.to_owned(),
        },
        log: LogArgs {
            log_format: LogFormat::Pretty,
        },
        jwt: jwt_args(),
        http: common::server::ServerLimits::default(),
        graphql: common::document_scan::GraphqlLimits::default(),
    }
}

/// A well-formed token for `user_id` signed with a key the service does not know.
pub fn forged_token(user_id: i64) -> String {
    JwtKeys::new("not-the-service-secret", "HS256", 30)
        .expect("keys")
        .issue(user_id)
        .expect("a token")
}

pub fn jwt_args() -> JwtArgs {
    JwtArgs {
        secret_key: Some(SECRET.to_owned()),
        algorithm: "HS256".to_owned(),
        access_token_expire_minutes: 30,
    }
}

impl TestApp {
    /// A valid access token for `user_id`, signed with the service's secret.
    pub fn token(&self, user_id: i64) -> String {
        self.keys.issue(user_id).expect("a token")
    }

    /// POSTs a GraphQL request and returns the whole JSON response.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the service answers");
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.json().await.expect("a JSON response")
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
