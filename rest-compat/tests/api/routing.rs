use reqwest::Method;
use serde_json::json;

use crate::helpers::{read, spawn_app};

#[tokio::test]
async fn health_and_root_answer() {
    let app = spawn_app().await;
    let (status, body) = read(
        app.client
            .get(app.url("/health"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({"status": "healthy", "service": "rest-compat"}))
    );
    let (status, body) = read(app.client.get(app.url("/")).send().await.expect("request")).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "running");
    assert!(
        body["name"].is_string() && body["version"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_routes_are_fastapi_404s() {
    let app = spawn_app().await;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/tasks/",
        "/api/v1/tasks/1/archive",
    ] {
        let (status, body) =
            read(app.client.get(app.url(path)).send().await.expect("request")).await;
        assert_eq!(
            (status, body),
            (404, json!({"detail": "Not Found"})),
            "{path}"
        );
    }
}

#[tokio::test]
async fn wrong_methods_are_fastapi_405s() {
    let app = spawn_app().await;
    let cases = [
        (Method::DELETE, "/api/v1/tasks/"),
        (Method::POST, "/api/v1/auth/me"),
        (Method::GET, "/api/v1/auth/login"),
        (Method::GET, "/api/v1/auth/register/"),
        (Method::POST, "/api/v1/tasks/5"),
        (Method::GET, "/api/v1/tasks/5/complete"),
        (Method::PUT, "/api/v1/stats/"),
    ];
    for (method, path) in cases {
        let response = app
            .authed(method.clone(), path)
            .send()
            .await
            .expect("request");
        let (status, body) = read(response).await;
        assert_eq!(
            (status, body),
            (405, json!({"detail": "Method Not Allowed"})),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn every_authenticated_route_wants_a_bearer_token_with_and_without_slash() {
    let app = spawn_app().await;
    let routes = [
        (Method::GET, "/api/v1/auth/me"),
        (Method::GET, "/api/v1/tasks"),
        (Method::POST, "/api/v1/tasks"),
        (Method::GET, "/api/v1/tasks/stats"),
        (Method::GET, "/api/v1/tasks/1"),
        (Method::PUT, "/api/v1/tasks/1"),
        (Method::DELETE, "/api/v1/tasks/1"),
        (Method::PATCH, "/api/v1/tasks/1/complete"),
        (Method::PATCH, "/api/v1/tasks/1/incomplete"),
        (Method::GET, "/api/v1/stats"),
    ];
    for (method, path) in routes {
        for path in [path.to_owned(), format!("{path}/")] {
            for authorization in [None, Some("Basic dXNlcjpwYXNz")] {
                let mut request = app
                    .client
                    .request(method.clone(), app.url(&path))
                    .json(&json!({"title": "t"}));
                if let Some(value) = authorization {
                    request = request.header("authorization", value);
                }
                let response = request.send().await.expect("request");
                assert_eq!(
                    response.headers()["www-authenticate"],
                    "Bearer",
                    "{method} {path}"
                );
                let (status, body) = read(response).await;
                assert_eq!(
                    (status, body),
                    (401, json!({"detail": "Not authenticated"})),
                    "{method} {path}"
                );
            }
        }
    }
}
