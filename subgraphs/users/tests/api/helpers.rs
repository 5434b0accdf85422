//! A users service per test, on a fresh store of the kind asked for, spoken to
//! over real HTTP.

use db::Pool;
use db::StoreArgs;
use serde_json::{Value, json};
use subgraph_kit::cli::SubgraphArgs;
pub use test_support::Store;
use test_support::TestDatabase;
use users::{Application, Config};

pub const SECRET: &str = "users-test-secret";
pub const PASSWORD: &str = "s3cret-password";

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub pool: Pool,
    /// Dropped with the app (PostgreSQL only).
    _database: Option<TestDatabase>,
}

/// A test service's configuration and the database it runs on (PostgreSQL
/// only; dropped when the last clone of it goes).
#[derive(Clone)]
pub struct TestConfig {
    pub config: Config,
    pub database: Option<TestDatabase>,
}

/// The configuration of a test service: port 0, cheap bcrypt, a fixed secret.
pub async fn test_config(kind: Store) -> TestConfig {
    let database = match kind {
        Store::Postgres => Some(TestDatabase::fresh("users").await),
        Store::Sqlite => None,
    };
    let config = Config {
        listen: test_support::config::listen(),
        store: StoreArgs::new(
            database.as_ref().map(|db| db.url().to_owned()),
            5,
            db::DEFAULT_ACQUIRE_TIMEOUT_MS,
        ),
        bcrypt_cost: 4,
        max_concurrent_hashes: None,
        subgraph: SubgraphArgs {
            data_dir: test_support::config::data_dir(&test_support::fresh_data_dir("users")),
            log: test_support::config::log(),
            jwt: test_support::config::jwt(SECRET),
            http: common::server::ServerLimits::default(),
            graphql: common::document_scan::GraphqlLimits::default(),
        },
    };
    TestConfig { config, database }
}

pub async fn spawn_app(kind: Store) -> TestApp {
    spawn_app_with(test_config(kind).await).await
}

pub async fn spawn_app_with(test: TestConfig) -> TestApp {
    let app = Application::build(test.config)
        .await
        .expect("build the users service");
    let base_url = format!("http://127.0.0.1:{}", app.port());
    let pool = app.resources().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base_url,
        client: reqwest::Client::new(),
        pool,
        _database: test.database,
    }
}

impl TestApp {
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    /// POSTs a GraphQL request and returns the JSON body (asserting a 200).
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        test_support::graphql::post(&self.client, &self.graphql_url(), token, query, variables)
            .await
            .ok()
    }

    pub async fn register(&self, username: &str) -> Value {
        let body = self
            .graphql(
                REGISTER,
                json!({"input": {
                    "email": format!("{username}@example.com"),
                    "username": username,
                    "password": PASSWORD,
                    "fullName": format!("{username} Example"),
                }}),
                None,
            )
            .await;
        assert_eq!(body["errors"], Value::Null, "registration failed: {body}");
        body["data"]["register"].clone()
    }

    pub async fn login(&self, username: &str, password: &str) -> Value {
        self.graphql(
            LOGIN,
            json!({"username": username, "password": password}),
            None,
        )
        .await
    }

    /// Registers `username`, logs in and returns (user id, access token).
    pub async fn signed_in_user(&self, username: &str) -> (String, String) {
        let user = self.register(username).await;
        let body = self.login(username, PASSWORD).await;
        let token = body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned();
        (user["id"].as_str().expect("an id").to_owned(), token)
    }

    pub async fn me(&self, token: Option<&str>) -> Value {
        self.graphql(ME, json!({}), token).await
    }

    /// Runs SQL on the service's store (arranging rows the API cannot create).
    pub async fn execute(&self, sql: &'static str, user_id: i32) {
        db::on_pool!(&self.pool, |p| sqlx::query(sql)
            .bind(user_id)
            .execute(p)
            .await
            .map(|_| ()))
        .expect("run SQL on the test store");
    }

    pub async fn user_count(&self) -> i64 {
        db::on_pool!(&self.pool, |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users"
        )
        .fetch_one(p)
        .await)
        .expect("count users")
    }
}

pub const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { id email username fullName isActive isSuperuser createdAt updatedAt } }";
pub const LOGIN: &str = "mutation($username: String!, $password: String!) { login(username: $username, password: $password) { accessToken tokenType user { id username } } }";
pub const ME: &str =
    "{ me { id email username fullName isActive isSuperuser createdAt updatedAt } }";

/// `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {body}"))
}

pub fn error_message(body: &Value) -> &str {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {body}"))
}
