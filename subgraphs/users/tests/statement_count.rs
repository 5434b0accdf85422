//! `_entities` with 100 `User` representations runs exactly ONE SQL statement,
//! counted from sqlx's own `sqlx::query` events (one per executed statement)
//! by a tracing layer in this test process, not by anything the service reports.
//!
//! A test binary of its own: the counter sees every statement in the process,
//! so its two tests take turns.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use helpers::{Store, spawn_app};

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Counts the events sqlx emits after executing each statement.
struct CountStatements;

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn count_statements() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing_subscriber::registry()
            .with(CountStatements)
            .try_init()
            .expect("install the statement counter");
    });
}

test_support::on_both_stores!(a_hundred_representations_are_one_statement);

async fn a_hundred_representations_are_one_statement(kind: Store) {
    let _turn = ONE_AT_A_TIME.lock().await;
    count_statements();
    let app = spawn_app(kind).await;
    let (other_id, _) = app.signed_in_user("wendy").await;
    let (own_id, token) = app.signed_in_user("xavier").await;
    let ids: Vec<&str> = (0..100)
        .map(|n| match n % 4 {
            0 | 1 => own_id.as_str(),
            2 => other_id.as_str(),
            _ => "424242",
        })
        .collect();
    let representations: Vec<Value> = ids
        .iter()
        .map(|id| json!({"__typename": "User", "id": id}))
        .collect();
    let query =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id username } } }";

    // Nothing else runs in this process now, so the difference is this request's statements.
    let before = STATEMENTS.load(Ordering::SeqCst);
    let body = app
        .graphql(query, json!({"r": representations}), Some(&token))
        .await;
    let statements = STATEMENTS.load(Ordering::SeqCst) - before;

    let entities = body["data"]["_entities"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(entities.len(), 100);
    for (entity, id) in entities.iter().zip(&ids) {
        if *id == own_id {
            assert_eq!(entity["username"], "xavier", "{body}");
        } else {
            assert_eq!(*entity, Value::Null, "{body}");
        }
    }
    assert_eq!(
        statements, 1,
        "100 representations must cost one SQL statement"
    );

    // The counter does see statements: a registration runs one.
    let before = STATEMENTS.load(Ordering::SeqCst);
    app.register("yvonne").await;
    assert!(
        STATEMENTS.load(Ordering::SeqCst) > before,
        "the counter must observe statements"
    );
}
