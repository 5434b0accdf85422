//! Resolving many entities costs one SQL statement, not one per entity. The
//! statements are counted from sqlx's own `sqlx::query` events, captured by a
//! tracing layer installed here, so the count does not rely on the service's code.
//!
//! One test runs both stores in turn: the capture is process-wide, and no other
//! test may issue statements while a request is being counted.

mod support;

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use support::{Options, Store, TestApp, spawn_app_with};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

const ALICE: i64 = 11;
const BOB: i64 = 12;

#[derive(Clone, Default)]
struct StatementLog(Arc<Mutex<Vec<String>>>);

impl StatementLog {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("log lock"))
    }
}

impl<S: tracing::Subscriber> Layer<S> for StatementLog {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut statement = StatementText::default();
            event.record(&mut statement);
            self.0.lock().expect("log lock").push(statement.text());
        }
    }
}

/// sqlx logs a summary, and the full text in `db.statement` when the summary is shortened.
#[derive(Default)]
struct StatementText {
    summary: String,
    full: String,
}

impl StatementText {
    fn text(self) -> String {
        if self.full.trim().is_empty() {
            self.summary
        } else {
            self.full.trim().to_owned()
        }
    }
}

impl Visit for StatementText {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_owned(),
            "db.statement" => self.full = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

#[tokio::test]
async fn entities_are_loaded_in_one_statement_on_both_stores() {
    let log = StatementLog::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(log.clone()))
        .expect("the only subscriber of this test binary");
    for store in [Store::Postgres, Store::Sqlite] {
        hundred_tasks_take_one_statement(store, &log).await;
    }
}

async fn hundred_tasks_take_one_statement(store: Store, log: &StatementLog) {
    // One connection, warmed up below: PostgreSQL looks up the enum types once per connection.
    let app = spawn_app_with(
        store,
        Options {
            db_max_connections: Some(1),
            ..Options::default()
        },
    )
    .await;
    let (alice, bob) = (app.token(ALICE), app.token(BOB));
    let mut ids = Vec::new();
    for n in 0..95 {
        ids.push(
            app.create_task(
                &alice,
                json!({ "title": format!("task {n}"), "status": "DONE" }),
            )
            .await["id"]
                .clone(),
        );
    }
    let mut bobs = Vec::new();
    for n in 0..5 {
        bobs.push(
            app.create_task(&bob, json!({ "title": format!("bob {n}") }))
                .await["id"]
                .clone(),
        );
    }
    app.page(&alice, ALICE, "").await;
    assert!(
        !log.take().is_empty(),
        "{store:?}: the capture sees the service's statements"
    );

    let representations: Vec<Value> = ids
        .iter()
        .chain(&bobs)
        .map(|id| json!({ "__typename": "Task", "id": id }))
        .collect();
    assert_eq!(representations.len(), 100);
    let tasks = entities(
        &app,
        &alice,
        "... on Task { id title status owner { id } }",
        representations,
    )
    .await;
    let statements = log.take();
    assert_eq!(statements.len(), 1, "{store:?}: {statements:#?}");
    assert!(
        statements[0].contains("FROM tasks"),
        "{store:?}: {statements:#?}"
    );
    assert_eq!(tasks.len(), 100);
    for (task, id) in tasks.iter().zip(&ids) {
        assert_eq!(task["id"], *id);
        assert_eq!(task["owner"]["id"], ALICE.to_string());
    }
    assert!(
        tasks[95..].iter().all(Value::is_null),
        "{store:?}: Bob's tasks are null for Alice"
    );

    // Counts for every User reference in a request: one grouped statement.
    let users: Vec<Value> = (0..20)
        .map(|_| json!({ "__typename": "User", "id": ALICE.to_string() }))
        .collect();
    let counts = entities(
        &app,
        &alice,
        "... on User { taskCounts { total done } }",
        users,
    )
    .await;
    let statements = log.take();
    assert_eq!(statements.len(), 1, "{store:?}: {statements:#?}");
    assert!(
        counts
            .iter()
            .all(|user| user["taskCounts"] == json!({ "total": 95, "done": 95 })),
        "{counts:?}"
    );

    // A page and its total: one statement too.
    let users: Vec<Value> = (0..20)
        .map(|_| json!({ "__typename": "User", "id": ALICE.to_string() }))
        .collect();
    let pages = entities(
        &app,
        &alice,
        "... on User { tasks(skip: 5, limit: 10) { totalCount items { title } } }",
        users,
    )
    .await;
    let statements = log.take();
    assert_eq!(statements.len(), 1, "{store:?}: {statements:#?}");
    let page = &pages[0]["tasks"];
    assert_eq!(page["totalCount"], 95);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        page["items"][0]["title"], "task 89",
        "newest first, after skipping five"
    );
    assert!(pages.iter().all(|user| user["tasks"] == *page));
}

async fn entities(
    app: &TestApp,
    token: &str,
    selection: &str,
    representations: Vec<Value>,
) -> Vec<Value> {
    let query =
        format!("query($r: [_Any!]!) {{ _entities(representations: $r) {{ {selection} }} }}");
    let data = app
        .data(token, &query, json!({ "r": representations }))
        .await;
    data["_entities"].as_array().expect("a list").clone()
}
