//! One user can never see or change another user's tasks, through any query,
//! mutation or entity reference; and the owner's task stays as it was.

mod support;

use serde_json::{Value, json};
use support::{Store, TASK_FIELDS, assert_error, error_message, spawn_app};
use test_support::on_both_stores;

const ALICE: i64 = 1;
const BOB: i64 = 2;

on_both_stores!(
    other_users_tasks_are_invisible_and_untouchable,
    entities_resolve_only_the_viewers_own
);

async fn other_users_tasks_are_invisible_and_untouchable(store: Store) {
    let app = spawn_app(store).await;
    let (alice, bob) = (app.token(ALICE), app.token(BOB));
    let task = app
        .create_task(&alice, json!({ "title": "Alice's", "description": "secret", "status": "IN_PROGRESS", "priority": "HIGH" }))
        .await;
    let done = app
        .create_task(&alice, json!({ "title": "Alice's done", "status": "DONE" }))
        .await;

    assert_eq!(
        app.task(&bob, &task["id"]).await,
        Value::Null,
        "Bob cannot read it"
    );

    for target in [&task, &done] {
        let id = target["id"].as_str().expect("id");
        for operation in [
            format!(
                "mutation {{ updateTask(id: \"{id}\", input: {{ title: \"Bob's now\", description: null }}) {{ {TASK_FIELDS} }} }}"
            ),
            format!("mutation {{ deleteTask(id: \"{id}\") }}"),
            format!("mutation {{ completeTask(id: \"{id}\") {{ {TASK_FIELDS} }} }}"),
            format!("mutation {{ uncompleteTask(id: \"{id}\") {{ {TASK_FIELDS} }} }}"),
        ] {
            let response = app.graphql(Some(&bob), &operation, json!({})).await;
            assert_error(&response, "NOT_FOUND", None);
            assert_eq!(error_message(&response), "Task not found", "{operation}");
            assert!(
                !response.to_string().contains("secret"),
                "nothing of the task leaks: {response}"
            );
        }
    }

    assert_eq!(
        app.task(&alice, &task["id"]).await,
        task,
        "Alice's task is unchanged"
    );
    assert_eq!(
        app.task(&alice, &done["id"]).await,
        done,
        "Alice's done task is unchanged"
    );
    assert_eq!(
        app.page(&bob, BOB, "").await["totalCount"],
        0,
        "Bob's list is empty"
    );
    assert_eq!(
        app.counts(&bob, BOB).await["total"],
        0,
        "Bob's counts are zero"
    );
    assert_eq!(app.counts(&alice, ALICE).await["total"], 2);
}

async fn entities_resolve_only_the_viewers_own(store: Store) {
    let app = spawn_app(store).await;
    let (alice, bob) = (app.token(ALICE), app.token(BOB));
    let alices = app.create_task(&alice, json!({ "title": "Alice's" })).await;
    let bobs = app.create_task(&bob, json!({ "title": "Bob's" })).await;

    let query = "query($r: [_Any!]!) { _entities(representations: $r) { \
                 ... on Task { id title owner { id } } \
                 ... on User { id taskCounts { total } tasks { totalCount items { title } } } } }";
    let representations = json!([
        { "__typename": "Task", "id": alices["id"] },
        { "__typename": "Task", "id": bobs["id"] },
        { "__typename": "User", "id": ALICE.to_string() },
        { "__typename": "User", "id": BOB.to_string() },
        { "__typename": "Task", "id": "not-a-number" },
        { "__typename": "Task", "id": "99999999999999" },
    ]);
    let seen_by_bob = app.data(&bob, query, json!({ "r": representations })).await;
    assert_eq!(
        seen_by_bob["_entities"],
        json!([
            null,
            { "id": bobs["id"], "title": "Bob's", "owner": { "id": BOB.to_string() } },
            null,
            { "id": BOB.to_string(), "taskCounts": { "total": 1 }, "tasks": { "totalCount": 1, "items": [{ "title": "Bob's" }] } },
            null,
            null,
        ])
    );
    let seen_by_alice = app
        .data(&alice, query, json!({ "r": representations }))
        .await;
    assert_eq!(seen_by_alice["_entities"][0]["title"], "Alice's");
    assert_eq!(seen_by_alice["_entities"][1], Value::Null);
    assert_eq!(
        seen_by_alice["_entities"][2]["tasks"]["items"],
        json!([{ "title": "Alice's" }])
    );
    assert_eq!(seen_by_alice["_entities"][3], Value::Null);
}
