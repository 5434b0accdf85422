//! A users service per test, on a fresh store of the kind asked for, spoken to
//! over real HTTP.

use std::path::PathBuf;

use common::config::{DataDirArgs, JwtArgs, LogArgs, LogFormat};
use common::db::Pool;
use serde_json::{Value, json};
use users::{Application, Config};

pub const SECRET: &str = "users-test-secret";
pub const PASSWORD: &str = "s3cret-password";

/// Which store a test runs on; every test runs on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Postgres,
    Sqlite,
}

/// Generates one `#[tokio::test]` per store kind for each named `async fn(StoreKind)`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::helpers::StoreKind::Postgres).await;
            }
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::StoreKind::Sqlite).await;
            }
        }
    )*};
}

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub pool: Pool,
}

/// The configuration of a test service: port 0, cheap bcrypt, a fixed secret.
pub async fn test_config(kind: StoreKind) -> Config {
    let database_url = match kind {
        StoreKind::Postgres => Some(
            common::testing::fresh_postgres_database("users_test")
                .await
                .expect("create a test database"),
        ),
        StoreKind::Sqlite => None,
    };
    Config {
        port: 0,
        host: "127.0.0.1".to_owned(),
        database_url,
        db_max_connections: 5,
        db_acquire_timeout_ms: common::db::DEFAULT_ACQUIRE_TIMEOUT_MS,
        bcrypt_cost: 4,
        max_concurrent_hashes: None,
        data: DataDirArgs {
            data_dir: fresh_data_dir(),
        },
        log: LogArgs {
            log_format: LogFormat::Pretty,
        },
        jwt: JwtArgs {
            secret_key: Some(SECRET.to_owned()),
            algorithm: "HS256".to_owned(),
            access_token_expire_minutes: 30,
        },
        http: common::server::ServerLimits::default(),
        graphql: common::document_scan::GraphqlLimits::default(),
    }
}

fn fresh_data_dir() -> PathBuf {
    common::testing::fresh_data_dir("users")
}

pub async fn spawn_app(kind: StoreKind) -> TestApp {
    spawn_app_with(test_config(kind).await).await
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    let app = Application::build(config)
        .await
        .expect("build the users service");
    let base_url = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base_url,
        client: reqwest::Client::new(),
        pool,
    }
}

impl TestApp {
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    /// POSTs a GraphQL request and returns the JSON body (asserting a 200).
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = self
            .client
            .post(self.graphql_url())
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("send the GraphQL request");
        assert_eq!(response.status(), 200, "GraphQL answers 200");
        response.json().await.expect("a JSON body")
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
        common::on_pool!(&self.pool, |p| sqlx::query(sql)
            .bind(user_id)
            .execute(p)
            .await
            .map(|_| ()))
        .expect("run SQL on the test store");
    }

    pub async fn user_count(&self) -> i64 {
        common::on_pool!(&self.pool, |p| sqlx::query_scalar::<_, i64>(
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
