//! The service around the schema: health and readiness, GraphQL over GET, the
//! printed schema, where the embedded store lives, and adopting a database of
//! the original system in place.

mod support;

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use support::{Store, spawn_app};
use test_support::on_both_stores;

on_both_stores!(
    health_and_readiness,
    get_runs_queries_but_never_mutations,
    printed_schema_is_the_service_sdl
);

async fn health_and_readiness(store: Store) {
    let app = spawn_app(store).await;
    for (path, body) in [
        (
            "/health",
            json!({ "status": "healthy", "service": "tasks" }),
        ),
        ("/ready", json!({ "status": "ready", "service": "tasks" })),
    ] {
        let response = app
            .client()
            .get(app.url(path))
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers().contains_key("x-request-id"),
            "{path} carries a request id"
        );
        assert_eq!(response.json::<Value>().await.expect("JSON"), body);
    }
}

async fn get_runs_queries_but_never_mutations(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(3);
    let task = app
        .create_task(&token, json!({ "title": "over GET" }))
        .await;
    let id = task["id"].as_str().expect("id").to_owned();

    let query = format!("{{ task(id: \"{id}\") {{ title }} }}");
    let response = app
        .client()
        .get(app.url("/graphql"))
        .query(&[("query", query)])
        .bearer_auth(&token)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.expect("JSON"),
        json!({ "data": { "task": { "title": "over GET" } } })
    );

    let mutation = format!("mutation {{ deleteTask(id: \"{id}\") }}");
    let response = app
        .client()
        .get(app.url("/graphql"))
        .query(&[("query", mutation)])
        .bearer_auth(&token)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 405);
    assert_eq!(
        app.task(&token, &json!(id)).await["title"],
        "over GET",
        "the task survived"
    );

    let page = app
        .client()
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("an answer");
    // GraphiQL lives on the router; a subgraph GET without a query is a bad request.
    assert_eq!(page.status(), 400);
}

async fn printed_schema_is_the_service_sdl(store: Store) {
    let app = spawn_app(store).await;
    let served = app.graphql(None, "{ _service { sdl } }", json!({})).await;
    let sdl = served["data"]["_service"]["sdl"].as_str().expect("an SDL");
    assert_eq!(tasks::print_schema(), sdl);
    for expected in [
        "type Task @key(fields: \"id\")",
        "type User @key(fields: \"id\")",
        "type TaskCounts @shareable",
        "tasks(filter: TaskFilter, skip: Int = 0, limit: Int = 100): TaskPage!",
        "status: TaskStatus = TODO",
        "priority: TaskPriority = MEDIUM",
        "federation/v2",
    ] {
        assert!(sdl.contains(expected), "missing {expected:?} in\n{sdl}");
    }
}

#[tokio::test]
async fn stops_serving_when_told_to() {
    let data_dir = test_support::fresh_data_dir("tasks-shutdown");
    let config = support::config(None, &data_dir, support::Options::default());
    let app = tasks::Application::build(config).await.expect("starts");
    let url = format!("http://127.0.0.1:{}/health", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    assert_eq!(
        client.get(&url).send().await.expect("serving").status(),
        200
    );
    stop.send(()).expect("the server listens for the signal");
    server.await.expect("joined").expect("a clean stop");
    assert!(
        reqwest::Client::new().get(&url).send().await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn oversized_requests_are_refused() {
    let app = spawn_app(Store::Sqlite).await;
    let padding = " ".repeat(subgraph_kit::graphql_http::MAX_REQUEST_BYTES);
    let response = app
        .client()
        .post(app.url("/graphql"))
        .json(&json!({ "query": format!("{{ _service {{ sdl }} }}{padding}") }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn the_embedded_store_is_a_file_in_the_data_directory() {
    let app = spawn_app(Store::Sqlite).await;
    let token = app.token(4);
    let task = app
        .create_task(&token, json!({ "title": "persisted" }))
        .await;
    let path = app.data_dir.join("tasks.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("the store file opens");
    let (title, status): (String, String) =
        sqlx::query_as("SELECT title, status FROM tasks WHERE id = $1")
            .bind(
                task["id"]
                    .as_str()
                    .expect("id")
                    .parse::<i64>()
                    .expect("numeric"),
            )
            .fetch_one(&mut conn)
            .await
            .expect("the row is in the file");
    assert_eq!(
        (title.as_str(), status.as_str()),
        ("persisted", "todo"),
        "enums are stored as lower-case labels"
    );
}

/// A database created by the original system (Alembic) is used as it is, rows and all.
#[tokio::test]
async fn an_original_postgres_database_is_adopted_in_place() {
    let database = test_support::TestDatabase::fresh("tasks_legacy").await;
    let mut conn = PgConnection::connect(database.url())
        .await
        .expect("connects");
    for statement in [
        "CREATE TYPE taskstatus AS ENUM ('todo', 'in_progress', 'done')",
        "CREATE TYPE taskpriority AS ENUM ('low', 'medium', 'high')",
        "CREATE TABLE tasks (id SERIAL PRIMARY KEY, title VARCHAR(255) NOT NULL, description TEXT, \
         status taskstatus, priority taskpriority, is_completed BOOLEAN, due_date TIMESTAMP WITH TIME ZONE, \
         created_at TIMESTAMP WITH TIME ZONE DEFAULT now(), updated_at TIMESTAMP WITH TIME ZONE, owner_id INTEGER)",
        "CREATE INDEX ix_tasks_id ON tasks (id)",
        "INSERT INTO tasks (title, description, status, priority, is_completed, created_at, owner_id) \
         VALUES ('from before', 'legacy row', 'in_progress', 'high', NULL, '2024-01-02T03:04:05.678901Z', 9)",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await
            .expect(statement);
    }
    conn.close().await.expect("closes");

    let app = support::spawn_app_at(Some(database)).await;
    let token = app.token(9);
    let page = app.page(&token, 9, "").await;
    assert_eq!(page["totalCount"], 1, "{page}");
    let legacy = app.task(&token, &page["items"][0]["id"]).await;
    assert_eq!(legacy["title"], "from before");
    assert_eq!(legacy["status"], "IN_PROGRESS");
    assert_eq!(
        legacy["isCompleted"], false,
        "a NULL flag reads as not completed"
    );
    assert_eq!(legacy["createdAt"], "2024-01-02T03:04:05.678901Z");
    assert_eq!(
        legacy["updatedAt"], legacy["createdAt"],
        "a never-updated row reads its creation time"
    );

    // And the service works on the adopted table.
    let newer = app.create_task(&token, json!({ "title": "after" })).await;
    let completed = app
        .data(
            &token,
            "mutation($id: ID!) { completeTask(id: $id) { status } }",
            json!({ "id": legacy["id"] }),
        )
        .await;
    assert_eq!(completed["completeTask"]["status"], "DONE");
    let titles: Vec<Value> = app.page(&token, 9, "").await["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["title"].clone())
        .collect();
    assert_eq!(titles, [newer["title"].clone(), json!("from before")]);
}
