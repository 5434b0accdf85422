//! The whole system for end-to-end tests: the five services as real processes
//! (subcommands of the `tasktracker` binary), on fresh databases of their own.

#![allow(dead_code)] // each test file uses a different part of this kit

use std::path::PathBuf;

pub use tasktracker::launcher::ServiceName as Service;
use tasktracker::launcher::{Launch, Ports, System};
pub use test_support::Store;
use test_support::TestDatabase;
pub use test_support::graphql::GraphqlReply;

pub struct Stack {
    pub rest_url: String,
    pub router_url: String,
    pub users_url: String,
    pub tasks_url: String,
    pub stats_url: String,
    pub data_dir: PathBuf,
    pub users_database_url: String,
    pub tasks_database_url: String,
    system: Option<System>,
    /// The PostgreSQL databases, dropped after the system (declared after it).
    _databases: Vec<TestDatabase>,
}

impl Stack {
    /// Starts every service on free ports with fresh databases.
    pub async fn start(store: Store) -> Stack {
        let data_dir = test_support::fresh_data_dir("stack");
        let (users_db, tasks_db) = match store {
            Store::Postgres => (
                Some(TestDatabase::fresh("stack_users").await),
                Some(TestDatabase::fresh("stack_tasks").await),
            ),
            Store::Sqlite => (None, None),
        };
        Self::start_on(data_dir, users_db, tasks_db).await
    }

    /// Starts every service on free ports with the given databases (None: SQLite in `data_dir`).
    pub async fn start_on(
        data_dir: PathBuf,
        users_database: Option<TestDatabase>,
        tasks_database: Option<TestDatabase>,
    ) -> Stack {
        let users_db = users_database.as_ref().map(|db| db.url().to_owned());
        let tasks_db = tasks_database.as_ref().map(|db| db.url().to_owned());
        let launch = Launch {
            executable: PathBuf::from(env!("CARGO_BIN_EXE_tasktracker")),
            data_dir: data_dir.clone(),
            users_database_url: users_db.clone(),
            tasks_database_url: tasks_db.clone(),
            supergraph: None,
            ports: Ports::ephemeral(),
        };
        let system = System::start(&launch)
            .await
            .expect("the whole system starts");
        let url = |name| system.url(name).expect("service url").to_owned();
        Stack {
            rest_url: url(Service::RestCompat),
            router_url: url(Service::Router),
            users_url: url(Service::Users),
            tasks_url: url(Service::Tasks),
            stats_url: url(Service::Stats),
            users_database_url: users_db
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("users.db").display())),
            tasks_database_url: tasks_db
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tasks.db").display())),
            data_dir,
            system: Some(system),
            _databases: users_database.into_iter().chain(tasks_database).collect(),
        }
    }

    /// Stops one service (SIGTERM), e.g. to see how the others answer without it.
    pub async fn stop(&mut self, service: Service) {
        if let Some(system) = self.system.as_mut() {
            system.stop(service).await;
        }
    }

    /// Stops everything gracefully.
    pub async fn shutdown(mut self) {
        if let Some(system) = self.system.take() {
            system.shutdown().await;
        }
    }
}

/// Runs one SQL statement on the users database, through the same store layer
/// the users service uses (its migrations are already applied, so they are no-ops).
pub async fn users_sql(stack: &Stack, sql: &str, bind: &str) {
    let location = db::StoreLocation::Url(stack.users_database_url.clone());
    let pool = db::Pool::connect(&location, 1, &users::store::migrations())
        .await
        .expect("connect users db");
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    db::on_pool!(&pool, |p| sqlx::query(sql)
        .bind(bind)
        .execute(p)
        .await
        .map(|_| ()))
    .expect("users sql");
    pool.close().await;
}

/// Marks a user inactive directly in the users database (no API does this).
pub async fn deactivate_user(stack: &Stack, username: &str) {
    users_sql(
        stack,
        "UPDATE users SET is_active = false WHERE username = $1",
        username,
    )
    .await;
}

/// Deletes a user directly in the users database (their tokens must stop working).
pub async fn delete_user(stack: &Stack, username: &str) {
    users_sql(stack, "DELETE FROM users WHERE username = $1", username).await;
}

/// Posts one GraphQL operation to `{base_url}/graphql` (the router or a subgraph), with the bearer token if any.
pub async fn post_graphql(
    client: &reqwest::Client,
    base_url: &str,
    token: Option<&str>,
    query: &str,
    variables: serde_json::Value,
) -> GraphqlReply {
    let url = format!("{base_url}/graphql");
    test_support::graphql::post(client, &url, token, query, variables).await
}

/// Registers `username` (password `{username}-secret`, e-mail `{username}@example.com`)
/// and logs in through the router; returns the user's id and access token.
pub async fn register_and_login(
    client: &reqwest::Client,
    stack: &Stack,
    username: &str,
) -> (String, String) {
    let registered = post_graphql(
        client,
        &stack.router_url,
        None,
        "mutation($input: RegisterInput!) { register(input: $input) { id } }",
        serde_json::json!({"input": {
            "email": format!("{username}@example.com"),
            "username": username,
            "password": format!("{username}-secret"),
        }}),
    )
    .await;
    let id = registered.data()["register"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let login = post_graphql(
        client,
        &stack.router_url,
        None,
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
        serde_json::json!({"u": username, "p": format!("{username}-secret")}),
    )
    .await;
    let token = login.data()["login"]["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    (id, token)
}

/// A genuine access token for `user_id`, signed with the stack's own key but with a
/// different lifetime than login gives, so it differs from every token the services
/// have seen (and cached an account status for): a second device's login.
/// The key is the one the launcher generated in the data directory (tests set no `SECRET_KEY`).
pub fn another_genuine_token(stack: &Stack, user_id: &str) -> String {
    let secret = common::config::secret_from_data_dir(&stack.data_dir).expect("the stack's secret");
    let keys = tokens::JwtKeys::new(&secret, "HS256", 29).expect("keys");
    keys.issue(user_id.parse().expect("a numeric user id"))
        .expect("a token")
}

/// A well-formed token for `user_id` signed with a key the stack does not have.
pub fn token_signed_with_another_key(user_id: &str) -> String {
    let keys = tokens::JwtKeys::new("not-the-stack-secret", "HS256", 30).expect("keys");
    keys.issue(user_id.parse().expect("a numeric user id"))
        .expect("a token")
}

/// An unsigned token (`alg: none`) claiming to be `user_id`.
pub fn unsigned_token(user_id: &str) -> String {
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let claims =
        base64url(format!(r#"{{"sub":"{user_id}","iat":1700000000,"exp":4102444800}}"#).as_bytes());
    format!("{header}.{claims}.")
}

/// Unpadded base64url (RFC 4648 §5), enough to build tokens by hand.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}
