use reqwest::Method;
use serde_json::json;

use crate::helpers::{read, spawn_app};

#[tokio::test]
async fn valid_requests_with_the_router_down_are_503_never_made_up() {
    let app = spawn_app().await;
    let requests = [
        app.authed(Method::GET, "/api/v1/stats/"),
        app.authed(Method::GET, "/api/v1/tasks/stats"),
        app.authed(Method::GET, "/api/v1/tasks/?limit=5"),
        app.authed(Method::GET, "/api/v1/auth/me"),
        app.authed(Method::POST, "/api/v1/tasks/")
            .json(&json!({"title": "t"})),
        app.authed(Method::DELETE, "/api/v1/tasks/3"),
        app.client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "ann", "password": "secret"})),
        app.client
            .post(app.url("/api/v1/auth/register"))
            .json(&json!({"email": "ann@example.com", "username": "ann", "password": "secret"})),
    ];
    for request in requests {
        let (status, body) = read(request.send().await.expect("request")).await;
        assert_eq!(
            (status, body),
            (503, json!({"detail": "Service unavailable: router"}))
        );
    }
}
