//! The existing web frontend's journey, request for request as it makes them
//! (plain JSON, `Authorization: Bearer`, only `response.ok` checked, the
//! fields it reads), against the whole system on each store, and in one process
//! (on SQLite).

mod support;

use serde_json::{Value, json};
use support::{Mode, Stack, Store};

async fn journey(store: Store, mode: Mode) {
    let stack = Stack::start_in(mode, store).await;
    let api = format!("{}/api/v1", stack.rest_url);
    let http = reqwest::Client::new();

    let response = http
        .post(format!("{api}/auth/register"))
        .json(&json!({"email": "pat@example.com", "username": "pat", "password": "pat-secret", "full_name": "Pat"}))
        .send()
        .await
        .expect("register");
    assert!(
        response.status().is_success(),
        "register: {}",
        response.status()
    );

    let login: Value = http
        .post(format!("{api}/auth/login"))
        .json(&json!({"username": "pat", "password": "pat-secret"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login JSON");
    let token = login["access_token"]
        .as_str()
        .expect("the frontend reads access_token")
        .to_owned();

    let me: Value = http
        .get(format!("{api}/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("me JSON");
    assert_eq!(me["username"], "pat");

    let response = http
        .post(format!("{api}/tasks/"))
        .bearer_auth(&token)
        .json(&json!({"title": "Buy milk", "description": "", "priority": "high"}))
        .send()
        .await
        .expect("create");
    assert!(
        response.status().is_success(),
        "create: {}",
        response.status()
    );
    let created: Value = response.json().await.expect("task JSON");
    let id = created["id"].as_i64().expect("an integer id");

    let list: Value = http
        .get(format!("{api}/tasks/"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("list JSON");
    let tasks = list["tasks"].as_array().expect("tasks[]");
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert_eq!(
        (
            &task["id"],
            &task["title"],
            &task["description"],
            &task["priority"],
            &task["status"],
            &task["is_completed"]
        ),
        (
            &json!(id),
            &json!("Buy milk"),
            &json!(""),
            &json!("high"),
            &json!("todo"),
            &json!(false)
        )
    );

    let response = http
        .patch(format!("{api}/tasks/{id}/complete"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("complete");
    assert!(
        response.status().is_success(),
        "complete: {}",
        response.status()
    );
    let completed: Value = response.json().await.expect("task JSON");
    assert_eq!(
        (&completed["is_completed"], &completed["status"]),
        (&json!(true), &json!("done"))
    );

    let stats: Value = http
        .get(format!("{api}/stats/"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON");
    assert_eq!(
        (&stats["total_tasks"], &stats["completed_tasks"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(
        stats["completed_percentage"].as_f64(),
        Some(100.0),
        "a number the frontend can toFixed(1)"
    );

    let response = http
        .put(format!("{api}/tasks/{id}"))
        .bearer_auth(&token)
        .json(&json!({"status": "todo", "is_completed": false}))
        .send()
        .await
        .expect("un-complete");
    assert!(
        response.status().is_success(),
        "un-complete: {}",
        response.status()
    );
    let reopened: Value = response.json().await.expect("task JSON");
    assert_eq!(
        (&reopened["is_completed"], &reopened["status"]),
        (&json!(false), &json!("todo"))
    );

    let stats: Value = http
        .get(format!("{api}/stats/"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON");
    assert_eq!(stats["completed_percentage"].as_f64(), Some(0.0));

    let response = http
        .delete(format!("{api}/tasks/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 204);
    assert!(response.bytes().await.expect("body").is_empty());

    let stats: Value = http
        .get(format!("{api}/stats/"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON");
    assert_eq!(
        stats,
        json!({"total_tasks": 0, "completed_tasks": 0, "completed_percentage": 0.0})
    );
    let list: Value = http
        .get(format!("{api}/tasks/"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("list JSON");
    assert_eq!((&list["tasks"], &list["total"]), (&json!([]), &json!(0)));

    stack.shutdown().await;
}

#[tokio::test]
async fn frontend_journey_on_postgres() {
    journey(Store::Postgres, Mode::Processes).await;
}

#[tokio::test]
async fn frontend_journey_on_sqlite() {
    journey(Store::Sqlite, Mode::Processes).await;
}

#[tokio::test]
async fn frontend_journey_on_sqlite_in_one_process() {
    journey(Store::Sqlite, Mode::OneProcess).await;
}
