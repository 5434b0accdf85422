//! A running deployment of the original system is adopted in place: its
//! databases, created by the original's Alembic migrations, keep every row, and
//! existing users log in with their old (passlib bcrypt) passwords.

mod support;

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use support::Stack;
use test_support::TestDatabase;

/// Made by the original system: passlib's `CryptContext(schemes=["bcrypt"]).hash("legacy-pass-123")`.
const PASSLIB_HASH: &str = "$2b$12$EpD5bHOFeNGIjpq.LnQ0AuJHLkFY3rBuXgFvI67aggYjE95TGEJWa";

async fn execute_script(url: &str, script: &str) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_owned()))
        .execute(&mut conn)
        .await
        .expect("script runs");
}

async fn count(url: &str, sql: &'static str) -> i64 {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar(sql)
        .fetch_one(&mut conn)
        .await
        .expect("count")
}

async fn graphql(
    client: &reqwest::Client,
    stack: &Stack,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    support::post_graphql(client, &stack.router_url, token, query, variables)
        .await
        .json
}

#[tokio::test]
async fn original_databases_are_adopted_in_place() {
    let users_database = TestDatabase::fresh("orig_users").await;
    let tasks_database = TestDatabase::fresh("orig_tasks").await;
    let (users_db, tasks_db) = (users_database.url(), tasks_database.url());
    execute_script(users_db, include_str!("fixtures/original_users_schema.sql")).await;
    execute_script(tasks_db, include_str!("fixtures/original_tasks_schema.sql")).await;

    // Rows as the original wrote them: nullable flags and a never-updated `updated_at`.
    execute_script(
        users_db,
        &format!(
            "INSERT INTO users (email, username, hashed_password, full_name, is_active, is_superuser, created_at, updated_at)
             VALUES ('someone@example.com', 'someone', '{PASSLIB_HASH}', NULL, true, false, '2025-01-02T03:04:05.123456Z', NULL),
                    ('other@example.com', 'other', '{PASSLIB_HASH}', 'Other Person', true, false, '2025-01-03T00:00:00Z', NULL);"
        ),
    )
    .await;
    execute_script(
        tasks_db,
        "INSERT INTO tasks (title, description, status, priority, is_completed, due_date, created_at, updated_at, owner_id) VALUES
           ('old task one', 'from the original', 'todo', 'high', false, NULL, '2025-02-01T10:00:00Z', NULL, 1),
           ('old task two', NULL, 'done', 'low', true, '2025-03-01T12:00:00Z', '2025-02-02T10:00:00Z', '2025-02-03T10:00:00Z', 1),
           ('someone else''s', NULL, 'in_progress', 'medium', false, NULL, '2025-02-03T10:00:00Z', NULL, 2);",
    )
    .await;

    let stack = Stack::start_on(
        test_support::fresh_data_dir("orig"),
        Some(users_database.clone()),
        Some(tasks_database.clone()),
    )
    .await;
    let client = reqwest::Client::new();

    let login = graphql(
        &client,
        &stack,
        None,
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken tokenType user { id username } } }",
        json!({"u": "someone", "p": "legacy-pass-123"}),
    )
    .await;
    assert_eq!(login["errors"], Value::Null, "login errors: {login}");
    assert_eq!(login["data"]["login"]["user"]["username"], "someone");
    assert_eq!(login["data"]["login"]["tokenType"], "bearer");
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();

    let listed = graphql(
        &client,
        &stack,
        Some(&token),
        "{ me { id updatedAt tasks { totalCount items { title description status priority isCompleted dueDate } } } }",
        json!({}),
    )
    .await;
    assert_eq!(listed["errors"], Value::Null, "list errors: {listed}");
    let me = &listed["data"]["me"];
    assert_eq!(me["id"], "1");
    assert_eq!(me["tasks"]["totalCount"], 2);
    assert_eq!(
        me["tasks"]["items"],
        json!([
            {"title": "old task two", "description": null, "status": "DONE", "priority": "LOW", "isCompleted": true, "dueDate": "2025-03-01T12:00:00.000000Z"},
            {"title": "old task one", "description": "from the original", "status": "TODO", "priority": "HIGH", "isCompleted": false, "dueDate": null},
        ])
    );

    // The same through the legacy REST API.
    let rest = client
        .post(format!("{}/api/v1/auth/login", stack.rest_url))
        .json(&json!({"username": "someone", "password": "legacy-pass-123"}))
        .send()
        .await
        .expect("rest answers");
    assert_eq!(rest.status(), 200);
    let rest_token = rest.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let tasks: Value = client
        .get(format!("{}/api/v1/tasks/", stack.rest_url))
        .bearer_auth(&rest_token)
        .send()
        .await
        .expect("rest answers")
        .json()
        .await
        .expect("json");
    assert_eq!(tasks["total"], 2);
    assert_eq!(tasks["tasks"][0]["title"], "old task two");

    // Every original row is still there.
    assert_eq!(count(users_db, "SELECT count(*) FROM users").await, 2);
    assert_eq!(count(tasks_db, "SELECT count(*) FROM tasks").await, 3);
    assert_eq!(
        count(users_db, "SELECT count(*) FROM alembic_version").await,
        1
    );
    stack.shutdown().await;
}
