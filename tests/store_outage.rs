//! A database that cannot be reached (PostgreSQL refusing connections, without
//! restarting anything): the subgraph answers SERVICE_UNAVAILABLE, GraphQL gives
//! the partial data it can with coded errors at the right paths, REST answers 503
//! `Service unavailable: <part>` on every route that needs the store (never 422 or
//! 500), and everything recovers once the database is back.

mod chaos_kit;

use std::time::{Duration, Instant};

use chaos_kit::{Launcher, Store, poll_until, register, whole_system_answers};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_database_down_is_503_on_every_task_route_and_partial_graphql() {
    let launcher = Launcher::start(Store::Postgres, &[]).await;
    let http = launcher.http.clone();
    let rest = launcher.url_of("rest-compat").await;
    let router = launcher.url_of("router").await;
    let user = register(&http, &rest, "outage").await;
    let created: Value = http
        .post(format!("{rest}/api/v1/tasks/"))
        .bearer_auth(&user.token)
        .json(&json!({"title": "before the outage"}))
        .send()
        .await
        .expect("create answers")
        .json()
        .await
        .expect("JSON");
    let id = created["id"].as_i64().expect("an id");
    let pids = launcher.pids().await;

    launcher.break_database("tasks").await;
    let routes = [
        ("GET", "/api/v1/tasks/".to_owned(), None),
        ("GET", format!("/api/v1/tasks/{id}"), None),
        ("GET", "/api/v1/tasks/stats".to_owned(), None),
        ("GET", "/api/v1/stats/".to_owned(), None),
        (
            "POST",
            "/api/v1/tasks/".to_owned(),
            Some(json!({"title": "during"})),
        ),
        (
            "PUT",
            format!("/api/v1/tasks/{id}"),
            Some(json!({"title": "renamed"})),
        ),
        ("PATCH", format!("/api/v1/tasks/{id}/complete"), None),
        ("PATCH", format!("/api/v1/tasks/{id}/incomplete"), None),
        ("DELETE", format!("/api/v1/tasks/{id}"), None),
    ];
    let mut slowest = Duration::ZERO;
    for (method, path, body) in &routes {
        let started = Instant::now();
        let mut request = http
            .request(method.parse().expect("method"), format!("{rest}{path}"))
            .bearer_auth(&user.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("REST answers");
        slowest = slowest.max(started.elapsed());
        let status = response.status().as_u16();
        let detail: Value = response.json().await.expect("JSON");
        assert_eq!(status, 503, "{method} {path}: {detail}");
        assert_eq!(
            detail,
            json!({"detail": "Service unavailable: tasks"}),
            "{method} {path}"
        );
    }
    eprintln!("slowest 503 with the tasks database down: {slowest:?}");

    // GraphQL: what users knows is there, the tasks field is null with a coded error at its path.
    let reply: Value = http
        .post(format!("{router}/graphql"))
        .bearer_auth(&user.token)
        .json(
            &json!({"query": format!("{{ me {{ id username }} task(id: \"{id}\") {{ title }} }}")}),
        )
        .send()
        .await
        .expect("router answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(reply["data"]["me"]["username"], "outage", "{reply}");
    assert_eq!(reply["data"]["task"], Value::Null, "{reply}");
    let errors = reply["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{reply}");
    assert_eq!(
        errors[0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{reply}"
    );
    assert_eq!(errors[0]["extensions"]["serviceName"], "tasks", "{reply}");
    assert_eq!(errors[0]["path"], json!(["task"]), "{reply}");
    // Users still answers on its own.
    assert!(
        chaos_kit::answers_2xx(&http, &format!("{rest}/api/v1/auth/me"), Some(&user.token)).await
    );

    launcher.restore_database("tasks").await;
    poll_until(
        Duration::from_secs(10),
        "everything answers once the database is back",
        || async { whole_system_answers(&launcher, &user).await.then_some(()) },
    )
    .await;
    assert_eq!(launcher.pids().await, pids, "nothing was restarted");
    launcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_database_down_is_503_not_500() {
    let launcher = Launcher::start(Store::Postgres, &[]).await;
    let http = launcher.http.clone();
    let rest = launcher.url_of("rest-compat").await;
    let user = register(&http, &rest, "usersdown").await;
    launcher.break_database("users").await;
    for path in ["/api/v1/auth/me", "/api/v1/tasks/", "/api/v1/stats/"] {
        let response = http
            .get(format!("{rest}{path}"))
            .bearer_auth(&user.token)
            .send()
            .await
            .expect("REST answers");
        assert_eq!(response.status(), 503, "{path}");
        let detail: Value = response.json().await.expect("JSON");
        assert_eq!(
            detail,
            json!({"detail": "Service unavailable: users"}),
            "{path}"
        );
    }
    launcher.restore_database("users").await;
    poll_until(
        Duration::from_secs(10),
        "everything answers once the database is back",
        || async { whole_system_answers(&launcher, &user).await.then_some(()) },
    )
    .await;
    launcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_means_something() {
    let launcher = Launcher::start(Store::Postgres, &[]).await;
    let http = launcher.http.clone();
    let ready = |url: String| {
        let http = http.clone();
        async move {
            let response = http
                .get(format!("{url}/ready"))
                .send()
                .await
                .expect("answers");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("JSON"))
        }
    };
    let tasks = launcher.url_of("tasks").await;
    let router = launcher.url_of("router").await;
    let rest = launcher.url_of("rest-compat").await;
    assert_eq!(ready(tasks.clone()).await.0, 200);
    let (status, body) = ready(router.clone()).await;
    assert_eq!(status, 200, "{body}");
    for subgraph in ["users", "tasks", "stats"] {
        assert_eq!(body["subgraphs"][subgraph]["reachable"], true, "{body}");
    }
    assert_eq!(ready(rest.clone()).await.0, 200);

    // The tasks store is down: tasks is not ready (but alive).
    launcher.break_database("tasks").await;
    poll_until(
        Duration::from_secs(10),
        "tasks not ready without its store",
        || async { (ready(tasks.clone()).await.0 == 503).then_some(()) },
    )
    .await;
    assert!(chaos_kit::answers_2xx(&http, &format!("{tasks}/health"), None).await);
    launcher.restore_database("tasks").await;
    poll_until(Duration::from_secs(10), "tasks ready again", || async {
        (ready(tasks.clone()).await.0 == 200).then_some(())
    })
    .await;

    // The router is stopped: rest-compat is not ready; stats stopped: the router says so.
    let router_pid = launcher.pid_of("router").await;
    chaos_kit::stop_process(router_pid).await;
    let (status, body) = ready(rest.clone()).await;
    chaos_kit::signal(router_pid, nix::sys::signal::Signal::SIGCONT);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["router"]["reachable"], false, "{body}");
    let stats_pid = launcher.pid_of("stats").await;
    chaos_kit::stop_process(stats_pid).await;
    let (status, body) = ready(router.clone()).await;
    chaos_kit::signal(stats_pid, nix::sys::signal::Signal::SIGCONT);
    assert_eq!(status, 200, "the router still serves what it can: {body}");
    assert_eq!(body["subgraphs"]["stats"]["reachable"], false, "{body}");
    assert_eq!(body["subgraphs"]["users"]["reachable"], true, "{body}");
    launcher.stop().await;
}
