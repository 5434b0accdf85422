use reqwest::Method;

use crate::helpers::{spawn_app, spawn_app_with};

async fn preflight(app: &crate::helpers::TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/api/v1/tasks/"))
        .header("origin", origin)
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("preflight")
}

#[tokio::test]
async fn preflight_from_the_frontend_is_allowed_with_credentials() {
    let app = spawn_app().await;
    let response = preflight(&app, "http://localhost:3000").await;
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-max-age"], "600");
    let methods = headers["access-control-allow-methods"]
        .to_str()
        .expect("ascii");
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed_headers = headers["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_lowercase();
    assert!(
        allowed_headers.contains("authorization") && allowed_headers.contains("content-type"),
        "{allowed_headers}"
    );
}

#[tokio::test]
async fn other_origins_get_no_cors_grant() {
    let app = spawn_app().await;
    let response = preflight(&app, "http://evil.example").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn simple_requests_carry_the_grant_even_on_errors() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/tasks/"))
        .header("origin", "http://localhost:8000")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://localhost:8000"
    );
}

#[tokio::test]
async fn origins_come_from_backend_cors_origins() {
    let app =
        spawn_app_with(|cli| cli.cors_origins = Some(r#"["https://tasks.example"]"#.to_owned()))
            .await;
    let allowed = preflight(&app, "https://tasks.example").await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://tasks.example"
    );
    let default_one = preflight(&app, "http://localhost:3000").await;
    assert!(
        default_one
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let app = spawn_app_with(|cli| {
        cli.cors_origins = Some("https://a.example, https://b.example".to_owned())
    })
    .await;
    let allowed = preflight(&app, "https://b.example").await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://b.example"
    );
}

/// Starlette's answers at the edges (checked against FastAPI 0.104 / Starlette 0.27).
#[tokio::test]
async fn disallowed_preflight_is_400_and_plain_options_reaches_the_routes() {
    let app = spawn_app().await;
    let refused = preflight(&app, "http://evil.example").await;
    assert_eq!(refused.status().as_u16(), 400);
    assert_eq!(
        refused.headers()["access-control-allow-credentials"],
        "true"
    );
    assert_eq!(
        refused.text().await.expect("body"),
        "Disallowed CORS origin"
    );
    let plain = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/tasks/"))
        .send()
        .await
        .expect("options");
    assert_eq!(plain.status().as_u16(), 405);
    assert_eq!(
        plain.json::<serde_json::Value>().await.expect("json"),
        serde_json::json!({"detail": "Method Not Allowed"})
    );
    let allowed = preflight(&app, "http://localhost:3000").await;
    assert_eq!(allowed.text().await.expect("body"), "OK");
}
