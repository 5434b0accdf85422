use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, read, spawn_app};

async fn post_json(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    read(
        app.authed(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn register_reports_every_bad_field_like_pydantic() {
    let app = spawn_app().await;
    let body = json!({"email": "not-an-email", "username": "ab", "full_name": "x".repeat(256), "password": "12345"});
    let (status, detail) = post_json(&app, "/api/v1/auth/register", &body).await;
    assert_eq!(status, 422);
    assert_eq!(
        detail,
        json!({"detail": [
            {"type": "value_error", "loc": ["body", "email"],
             "msg": "value is not a valid email address: The email address is not valid. It must have exactly one @-sign.",
             "input": "not-an-email", "ctx": {"reason": "The email address is not valid. It must have exactly one @-sign."}},
            {"type": "string_too_short", "loc": ["body", "username"], "msg": "String should have at least 3 characters",
             "input": "ab", "ctx": {"min_length": 3}, "url": "https://errors.pydantic.dev/2.5/v/string_too_short"},
            {"type": "string_too_long", "loc": ["body", "full_name"], "msg": "String should have at most 255 characters",
             "input": "x".repeat(256), "ctx": {"max_length": 255}, "url": "https://errors.pydantic.dev/2.5/v/string_too_long"},
            {"type": "string_too_short", "loc": ["body", "password"], "msg": "String should have at least 6 characters",
             "input": "12345", "ctx": {"min_length": 6}, "url": "https://errors.pydantic.dev/2.5/v/string_too_short"}
        ]})
    );
}

#[tokio::test]
async fn missing_fields_quote_the_whole_body() {
    let app = spawn_app().await;
    let body = json!({"email": "ann@example.com"});
    let (status, detail) = post_json(&app, "/api/v1/auth/register/", &body).await;
    assert_eq!(status, 422);
    assert_eq!(
        detail["detail"],
        json!([
            {"type": "missing", "loc": ["body", "username"], "msg": "Field required", "input": body, "url": "https://errors.pydantic.dev/2.5/v/missing"},
            {"type": "missing", "loc": ["body", "password"], "msg": "Field required", "input": body, "url": "https://errors.pydantic.dev/2.5/v/missing"}
        ])
    );
}

#[tokio::test]
async fn malformed_json_is_json_invalid_even_without_a_token() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/tasks/"))
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .expect("request");
    let (status, detail) = read(response).await;
    assert_eq!(status, 422);
    assert_eq!(detail["detail"][0]["type"], "json_invalid");
    assert_eq!(detail["detail"][0]["loc"], json!(["body", 10]));
    assert_eq!(detail["detail"][0]["msg"], "JSON decode error");
}

#[tokio::test]
async fn non_json_and_empty_bodies_are_refused() {
    let app = spawn_app().await;
    let response = app
        .authed(Method::POST, "/api/v1/tasks/")
        .header("content-type", "text/plain")
        .body(r#"{"title": "t"}"#)
        .send()
        .await
        .expect("request");
    let (status, detail) = read(response).await;
    assert_eq!(status, 422);
    assert_eq!(detail["detail"][0]["type"], "model_attributes_type");
    assert_eq!(detail["detail"][0]["loc"], json!(["body"]));

    let response = app
        .authed(Method::POST, "/api/v1/tasks/")
        .send()
        .await
        .expect("request");
    let (status, detail) = read(response).await;
    assert_eq!(
        (status, detail),
        (
            422,
            json!({"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null, "url": "https://errors.pydantic.dev/2.5/v/missing"}]})
        )
    );

    let (status, detail) = post_json(&app, "/api/v1/tasks/", &json!(["title"])).await;
    assert_eq!(status, 422);
    assert_eq!(detail["detail"][0]["type"], "model_attributes_type");
}

#[tokio::test]
async fn task_create_checks_title_enums_and_dates() {
    let app = spawn_app().await;
    let body = json!({"title": "", "status": "started", "priority": 3, "due_date": "tomorrow", "unknown": true});
    let (status, detail) = post_json(&app, "/api/v1/tasks/", &body).await;
    assert_eq!(status, 422);
    assert_eq!(
        detail["detail"],
        json!([
            {"type": "string_too_short", "loc": ["body", "title"], "msg": "String should have at least 1 character",
             "input": "", "ctx": {"min_length": 1}, "url": "https://errors.pydantic.dev/2.5/v/string_too_short"},
            {"type": "enum", "loc": ["body", "status"], "msg": "Input should be 'todo', 'in_progress' or 'done'",
             "input": "started", "ctx": {"expected": "'todo', 'in_progress' or 'done'"}},
            {"type": "string_type", "loc": ["body", "priority"], "msg": "Input should be a valid string",
             "input": 3, "url": "https://errors.pydantic.dev/2.5/v/string_type"},
            {"type": "datetime_parsing", "loc": ["body", "due_date"],
             "msg": "Input should be a valid datetime, input is too short",
             "input": "tomorrow", "ctx": {"error": "input is too short"}, "url": "https://errors.pydantic.dev/2.5/v/datetime_parsing"}
        ])
    );
    let (status, detail) =
        post_json(&app, "/api/v1/tasks/", &json!({"title": "x".repeat(256)})).await;
    assert_eq!(status, 422);
    assert_eq!(detail["detail"][0]["type"], "string_too_long");
    let (status, detail) =
        post_json(&app, "/api/v1/tasks/", &json!({"title": "nul \u{0} byte"})).await;
    assert_eq!(status, 422, "{detail}");
}

#[tokio::test]
async fn task_update_refuses_nulls_that_cannot_clear() {
    let app = spawn_app().await;
    let body = json!({"title": null, "status": null, "priority": null, "is_completed": null});
    let response = app
        .authed(Method::PUT, "/api/v1/tasks/1")
        .json(&body)
        .send()
        .await
        .expect("request");
    let (status, detail) = read(response).await;
    assert_eq!(status, 422);
    let kinds: Vec<(&str, &Value)> = detail["detail"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|issue| (issue["type"].as_str().unwrap_or_default(), &issue["loc"][1]))
        .collect();
    assert_eq!(
        kinds,
        [
            ("string_type", &json!("title")),
            ("string_type", &json!("status")),
            ("string_type", &json!("priority")),
            ("bool_type", &json!("is_completed"))
        ]
    );
    let response = app
        .authed(Method::PUT, "/api/v1/tasks/1")
        .json(&json!({"is_completed": "maybe"}))
        .send()
        .await
        .expect("request");
    let (status, detail) = read(response).await;
    assert_eq!(status, 422);
    assert_eq!(detail["detail"][0]["type"], "bool_parsing");
    assert_eq!(
        detail["detail"][0]["msg"],
        "Input should be a valid boolean, unable to interpret input"
    );
}

#[tokio::test]
async fn non_integer_task_ids_are_path_errors() {
    let app = spawn_app().await;
    let expected = json!({"detail": [{"type": "int_parsing", "loc": ["path", "task_id"],
        "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "abc", "url": "https://errors.pydantic.dev/2.5/v/int_parsing"}]});
    for (method, path) in [
        (Method::GET, "/api/v1/tasks/abc"),
        (Method::DELETE, "/api/v1/tasks/abc/"),
        (Method::PATCH, "/api/v1/tasks/abc/complete"),
        (Method::PATCH, "/api/v1/tasks/abc/incomplete/"),
    ] {
        let (status, body) = read(
            app.authed(method.clone(), path)
                .send()
                .await
                .expect("request"),
        )
        .await;
        assert_eq!((status, body), (422, expected.clone()), "{method} {path}");
    }
    // Path and body problems are reported together, path first.
    let response = app
        .authed(Method::PUT, "/api/v1/tasks/1.5")
        .json(&json!({"title": ""}))
        .send()
        .await
        .expect("request");
    let (status, body) = read(response).await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["loc"], json!(["path", "task_id"]));
    assert_eq!(body["detail"][1]["loc"], json!(["body", "title"]));
}

#[tokio::test]
async fn list_query_parameters_are_bounded() {
    let app = spawn_app().await;
    let response = app
        .authed(
            Method::GET,
            "/api/v1/tasks/?skip=-1&limit=1001&status=later&priority=urgent",
        )
        .send()
        .await
        .expect("request");
    let (status, body) = read(response).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["detail"],
        json!([
            {"type": "greater_than_equal", "loc": ["query", "skip"], "msg": "Input should be greater than or equal to 0",
             "input": "-1", "ctx": {"ge": 0}, "url": "https://errors.pydantic.dev/2.5/v/greater_than_equal"},
            {"type": "less_than_equal", "loc": ["query", "limit"], "msg": "Input should be less than or equal to 1000",
             "input": "1001", "ctx": {"le": 1000}, "url": "https://errors.pydantic.dev/2.5/v/less_than_equal"},
            {"type": "enum", "loc": ["query", "status"], "msg": "Input should be 'todo', 'in_progress' or 'done'",
             "input": "later", "ctx": {"expected": "'todo', 'in_progress' or 'done'"}},
            {"type": "enum", "loc": ["query", "priority"], "msg": "Input should be 'low', 'medium' or 'high'",
             "input": "urgent", "ctx": {"expected": "'low', 'medium' or 'high'"}}
        ])
    );
    let (status, body) = read(
        app.authed(Method::GET, "/api/v1/tasks?limit=0")
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["type"], "greater_than_equal");
    let (status, body) = read(
        app.authed(Method::GET, "/api/v1/tasks?skip=x")
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["type"], "int_parsing");
}

#[tokio::test]
async fn login_wants_both_fields_in_json_or_form() {
    let app = spawn_app().await;
    let (status, body) = post_json(&app, "/api/v1/auth/login", &json!({"username": "ann"})).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["detail"],
        json!([{"type": "missing", "loc": ["body", "password"], "msg": "Field required", "input": {"username": "ann"}, "url": "https://errors.pydantic.dev/2.5/v/missing"}])
    );
    let response = app
        .client
        .post(app.url("/api/v1/auth/login/"))
        .form(&[("username", "ann")])
        .send()
        .await
        .expect("request");
    let (status, body) = read(response).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["detail"],
        json!([{"type": "missing", "loc": ["body", "password"], "msg": "Field required", "input": null, "url": "https://errors.pydantic.dev/2.5/v/missing"}])
    );
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .form(&[
            ("username", "ann"),
            ("password", "secret"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("request");
    let (status, body) = read(response).await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["type"], "string_pattern_mismatch");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app().await;
    let body = json!({"title": "t", "description": "x".repeat(2 * 1024 * 1024)});
    let (status, body) = post_json(&app, "/api/v1/tasks/", &body).await;
    assert_eq!(
        (status, body),
        (413, json!({"detail": "Request body too large"}))
    );
}
