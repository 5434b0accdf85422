//! Account status through the real users subgraph: deleted users are refused as
//! unauthenticated, inactive ones as forbidden, and a users subgraph that cannot
//! be reached makes authenticated operations fail as SUBGRAPH_UNAVAILABLE.

mod support;

use clap::Parser;
use serde_json::{Value, json};
use support::{Options, Store, TestApp, assert_error, error_message, spawn_app_with};
use test_support::on_both_stores;
use tokens::JwtKeys;

on_both_stores!(
    account_status_is_enforced,
    account_answers_are_cached_per_token
);

/// The users subgraph on a runtime of its own, so that stopping it ends every
/// connection it holds open (as a crashed process would), not just its listener.
struct UsersService {
    graphql_url: String,
    database_url: String,
    /// Dropped with the service (PostgreSQL only).
    _database: Option<test_support::TestDatabase>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl UsersService {
    async fn start(store: Store) -> Self {
        let data_dir = test_support::fresh_data_dir("users-for-tasks");
        let mut args = vec![
            "users".to_owned(),
            "--port=0".to_owned(),
            "--bcrypt-cost=4".to_owned(),
            format!("--secret-key={}", support::SECRET),
            format!("--data-dir={}", data_dir.display()),
        ];
        let database = match store {
            Store::Postgres => Some(test_support::TestDatabase::fresh("users_for_tasks").await),
            Store::Sqlite => None,
        };
        let database_url = match &database {
            Some(database) => {
                args.push(format!("--database-url={}", database.url()));
                database.url().to_owned()
            }
            None => format!("sqlite:{}", data_dir.join("users.db").display()),
        };
        let config = users::Cli::try_parse_from(args)
            .expect("valid users arguments")
            .config;
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime for users");
            runtime.block_on(async move {
                let app = users::Application::build(config)
                    .await
                    .expect("the users service starts");
                port_tx
                    .send(app.port())
                    .expect("the test waits for the port");
                tokio::spawn(app.run_until_stopped());
                let _ = stopped.await;
            });
            // Dropping the runtime cancels every task of the service: listener and connections.
            drop(runtime);
        });
        let port = port_rx.await.expect("users reports its port");
        Self {
            graphql_url: format!("http://127.0.0.1:{port}/graphql"),
            database_url,
            _database: database,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the service and waits until it is gone.
    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            tokio::task::spawn_blocking(move || thread.join().expect("users stops cleanly"))
                .await
                .expect("joined");
        }
    }

    async fn register(&self, username: &str) -> i64 {
        let query = "mutation($input: RegisterInput!) { register(input: $input) { id } }";
        let input = json!({ "email": format!("{username}@example.com"), "username": username, "password": "secret-password" });
        let response: Value = test_support::graphql::post(
            &reqwest::Client::new(),
            &self.graphql_url,
            None,
            query,
            json!({ "input": input }),
        )
        .await
        .json;
        response["data"]["register"]["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("registered: {response}"))
    }

    /// Changes the users store directly, as an administrator would.
    async fn execute(&self, sql: &'static str, user_id: i64) {
        let user_id = i32::try_from(user_id).expect("a serial id");
        if self.database_url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.database_url)
                .await
                .expect("users store");
            sqlx::query(sql)
                .bind(user_id)
                .execute(&pool)
                .await
                .expect(sql);
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&self.database_url)
                .await
                .expect("users store");
            sqlx::query(sql)
                .bind(user_id)
                .execute(&pool)
                .await
                .expect(sql);
            pool.close().await;
        }
    }
}

async fn spawn_tasks(store: Store, users: &UsersService, account_cache_seconds: u64) -> TestApp {
    let options = Options {
        users_url: Some(users.graphql_url.clone()),
        account_cache_seconds,
        ..Options::default()
    };
    spawn_app_with(store, options).await
}

const CREATE: &str = "mutation { createTask(input: { title: \"checked\" }) { id } }";

async fn account_status_is_enforced(store: Store) {
    let mut users = UsersService::start(store).await;
    let app = spawn_tasks(store, &users, 0).await;
    let alice = users.register("alice").await;
    let bob = users.register("bobby").await;
    let (alice_token, bob_token) = (app.token(alice), app.token(bob));

    let created = app.graphql(Some(&alice_token), CREATE, json!({})).await;
    assert!(
        created.get("errors").is_none(),
        "an active user proceeds: {created}"
    );
    let task_id = created["data"]["createTask"]["id"].clone();

    users
        .execute("UPDATE users SET is_active = FALSE WHERE id = $1", alice)
        .await;
    for operation in [
        CREATE.to_owned(),
        format!("query {{ task(id: {task_id}) {{ id }} }}"),
    ] {
        let refused = app.graphql(Some(&alice_token), &operation, json!({})).await;
        assert_error(&refused, "FORBIDDEN", None);
        assert_eq!(error_message(&refused), "Inactive user");
    }
    users
        .execute("UPDATE users SET is_active = TRUE WHERE id = $1", alice)
        .await;
    assert_eq!(
        app.task(&alice_token, &task_id).await["id"],
        task_id,
        "reactivated, Alice proceeds"
    );

    users
        .execute("DELETE FROM users WHERE id = $1", alice)
        .await;
    let gone = app.graphql(Some(&alice_token), CREATE, json!({})).await;
    assert_error(&gone, "UNAUTHENTICATED", None);
    assert_eq!(error_message(&gone), "Could not validate credentials");
    let never_existed = app
        .graphql(Some(&app.token(alice + 1000)), CREATE, json!({}))
        .await;
    assert_error(&never_existed, "UNAUTHENTICATED", None);

    users.stop().await;
    for operation in [
        CREATE.to_owned(),
        format!("query {{ task(id: {task_id}) {{ id }} }}"),
    ] {
        let unavailable = app.graphql(Some(&bob_token), &operation, json!({})).await;
        assert_error(&unavailable, "SUBGRAPH_UNAVAILABLE", None);
        assert_eq!(
            unavailable["errors"][0]["extensions"]["serviceName"], "users",
            "{unavailable}"
        );
    }
    // Without a token there is no one to check: the answer does not need users.
    assert_error(
        &app.graphql(None, CREATE, json!({})).await,
        "UNAUTHENTICATED",
        None,
    );
}

async fn account_answers_are_cached_per_token(store: Store) {
    let mut users = UsersService::start(store).await;
    let app = spawn_tasks(store, &users, 600).await;
    let carol = users.register("carol").await;
    let token = app.token(carol);
    assert!(
        app.graphql(Some(&token), CREATE, json!({}))
            .await
            .get("errors")
            .is_none()
    );

    users
        .execute("UPDATE users SET is_active = FALSE WHERE id = $1", carol)
        .await;
    // A read may use the remembered answer (`counts` fails the test on any error)…
    assert_eq!(
        app.counts(&token, carol).await["total"],
        1,
        "the remembered answer is used for reads"
    );
    // …but a write always asks users again: the deactivation takes effect at once.
    assert_error(
        &app.graphql(Some(&token), CREATE, json!({})).await,
        "FORBIDDEN",
        None,
    );

    // Another token of the same user is asked about afresh.
    let other_token = JwtKeys::new(support::SECRET, "HS256", 45)
        .expect("keys")
        .issue(carol)
        .expect("token");
    assert_ne!(other_token, token);
    assert_error(
        &app.graphql(Some(&other_token), CREATE, json!({})).await,
        "FORBIDDEN",
        None,
    );

    // With users gone, a read of the token is answered from what the write's check
    // remembered (inactive), without asking users; a write cannot be checked at all.
    users.stop().await;
    assert_error(
        &app.graphql(
            Some(&token),
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { taskCounts { total } } } }",
            json!({ "r": [{ "__typename": "User", "id": carol.to_string() }] }),
        )
        .await,
        "FORBIDDEN",
        None,
    );
    assert_error(
        &app.graphql(Some(&token), CREATE, json!({})).await,
        "SUBGRAPH_UNAVAILABLE",
        None,
    );
}
