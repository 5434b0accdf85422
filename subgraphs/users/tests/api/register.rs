//! `register`: accounts are created as given, refused when taken or invalid,
//! and nothing is written when refused.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, REGISTER, Store, error_code, error_message, spawn_app};
use test_support::on_both_stores;

on_both_stores!(
    creates_an_active_account,
    an_empty_full_name_is_kept,
    a_taken_username_or_email_conflicts,
    racing_registrations_let_exactly_one_win,
    invalid_input_names_the_field,
    nul_characters_are_bad_input_on_register_and_login,
);

/// PostgreSQL's text cannot hold NUL: it must be refused as input, never reach the store.
async fn nul_characters_are_bad_input_on_register_and_login(kind: Store) {
    let app = spawn_app(kind).await;
    let valid = json!({"email": "nul@example.com", "username": "nully", "password": PASSWORD, "fullName": "N U"});
    for (field, value) in [
        ("email", "n\u{0}ul@example.com"),
        ("username", "nu\u{0}lly"),
        ("password", "s3cret\u{0}password"),
        ("fullName", "N\u{0}U"),
    ] {
        let mut input = valid.clone();
        input[field] = json!(value);
        let body = app.graphql(REGISTER, json!({ "input": input }), None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{field}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    assert_eq!(app.user_count().await, 0, "nothing was written");
    // The same in the document itself, and on login.
    let body = app
        .graphql(
            "mutation { login(username: \"a\\u0000b\", password: \"x\") { accessToken } }",
            Value::Null,
            None,
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "username",
        "{body}"
    );
    let body = app
        .graphql(
            crate::helpers::LOGIN,
            json!({"username": "someone", "password": "pass\u{0}word"}),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

async fn creates_an_active_account(kind: Store) {
    let app = spawn_app(kind).await;
    let user = app.register("alice").await;
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["username"], "alice");
    assert_eq!(user["fullName"], "alice Example");
    assert_eq!(user["isActive"], true);
    assert_eq!(user["isSuperuser"], false);
    let created_at = user["createdAt"].as_str().expect("createdAt");
    assert!(
        created_at.ends_with('Z') && created_at.len() == 27,
        "RFC 3339 with micros: {created_at}"
    );
    assert_eq!(user["createdAt"], user["updatedAt"]);
    assert!(user["id"].as_str().expect("id").parse::<i64>().is_ok());

    // The password is stored as a bcrypt hash of the configured cost, never as given.
    let hash: String = db::on_pool!(&app.pool, |p| sqlx::query_scalar(
        "SELECT hashed_password FROM users WHERE username = 'alice'"
    )
    .fetch_one(p)
    .await)
    .expect("read the hash");
    assert!(
        hash.starts_with("$2b$04$"),
        "bcrypt hash expected, got {hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

async fn an_empty_full_name_is_kept(kind: Store) {
    let app = spawn_app(kind).await;
    let input = json!({"input": {"email": "e@example.com", "username": "empty", "password": PASSWORD, "fullName": ""}});
    let body = app.graphql(REGISTER, input, None).await;
    assert_eq!(body["data"]["register"]["fullName"], "", "{body}");

    let input =
        json!({"input": {"email": "n@example.com", "username": "nameless", "password": PASSWORD}});
    let body = app.graphql(REGISTER, input, None).await;
    assert_eq!(body["data"]["register"]["fullName"], Value::Null, "{body}");
}

async fn a_taken_username_or_email_conflicts(kind: Store) {
    let app = spawn_app(kind).await;
    app.register("bob").await;
    for (email, username) in [("other@example.com", "bob"), ("bob@example.com", "robert")] {
        let input = json!({"input": {"email": email, "username": username, "password": PASSWORD}});
        let body = app.graphql(REGISTER, input, None).await;
        assert_eq!(error_code(&body), "CONFLICT", "{body}");
        assert_eq!(error_message(&body), "Username or email already registered");
        assert_eq!(body["data"], Value::Null);
    }
    assert_eq!(
        app.user_count().await,
        1,
        "a refused registration writes nothing"
    );
}

async fn racing_registrations_let_exactly_one_win(kind: Store) {
    let app = spawn_app(kind).await;
    let attempt = |n: usize| {
        let input = json!({"input": {"email": format!("race{n}@example.com"), "username": "racer", "password": PASSWORD}});
        let app = &app;
        async move { app.graphql(REGISTER, input, None).await }
    };
    let answers = futures::future::join_all((0..8).map(attempt)).await;
    let winners = answers
        .iter()
        .filter(|body| body["errors"].is_null())
        .count();
    assert_eq!(winners, 1, "exactly one registration wins: {answers:?}");
    for body in answers.iter().filter(|body| !body["errors"].is_null()) {
        assert_eq!(error_code(body), "CONFLICT", "{body}");
    }
    assert_eq!(app.user_count().await, 1);
}

async fn invalid_input_names_the_field(kind: Store) {
    let app = spawn_app(kind).await;
    let long = |n: usize| "x".repeat(n);
    let cases = [
        ("not-an-email", "carol", PASSWORD.to_owned(), None, "email"),
        (
            "carol@localhost",
            "carol",
            PASSWORD.to_owned(),
            None,
            "email",
        ),
        (
            // A quoted local part: email-validator refuses it (a name-address is accepted).
            "\"carol\"@example.com",
            "carol",
            PASSWORD.to_owned(),
            None,
            "email",
        ),
        (
            "carol@example.com",
            "ca",
            PASSWORD.to_owned(),
            None,
            "username",
        ),
        (
            "carol@example.com",
            &long(101),
            PASSWORD.to_owned(),
            None,
            "username",
        ),
        (
            "carol@example.com",
            "carol",
            "12345".to_owned(),
            None,
            "password",
        ),
        ("carol@example.com", "carol", long(101), None, "password"),
        (
            "carol@example.com",
            "carol",
            PASSWORD.to_owned(),
            Some(long(256)),
            "fullName",
        ),
    ];
    for (email, username, password, full_name, field) in cases {
        let input = json!({"input": {"email": email, "username": username, "password": password, "fullName": full_name}});
        let body = app.graphql(REGISTER, input, None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{field}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // The limits themselves are allowed.
    let input = json!({"input": {"email": "carol@example.com", "username": long(100), "password": long(100), "fullName": long(255)}});
    let body = app.graphql(REGISTER, input, None).await;
    assert_eq!(body["errors"], Value::Null, "{body}");
    assert_eq!(
        app.user_count().await,
        1,
        "only the valid registration was written"
    );
}
