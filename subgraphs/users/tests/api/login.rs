//! `login`: a token for the right password (by username or e-mail), one
//! undistinguishable refusal for everything else.

use serde_json::Value;

use crate::helpers::{PASSWORD, Store, error_code, error_message, spawn_app};
use test_support::on_both_stores;

/// A hash made by the original system (passlib's `CryptContext(schemes=["bcrypt"])`, cost 12)
/// of [`PASSLIB_PASSWORD`].
const PASSLIB_HASH: &str = "$2b$12$DKFgIK/0QpGEhqS4UXeNDeusnFTw8/ZLyySjl7zENjzRcft3mO/ta";
const PASSLIB_PASSWORD: &str = "correct horse battery staple";

on_both_stores!(
    the_right_password_gets_a_working_token,
    the_email_address_is_not_a_username,
    an_exact_username_wins_over_an_email_address,
    wrong_password_unknown_user_and_inactive_user_are_refused_alike,
    hashes_made_by_the_original_system_verify,
);

fn assert_refused(body: &Value) {
    assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
    assert_eq!(error_message(body), "Incorrect username or password");
    assert_eq!(body["data"], Value::Null);
}

async fn the_right_password_gets_a_working_token(kind: Store) {
    let app = spawn_app(kind).await;
    let user = app.register("dave").await;
    let body = app.login("dave", PASSWORD).await;
    let login = &body["data"]["login"];
    assert_eq!(login["tokenType"], "bearer", "{body}");
    assert_eq!(login["user"]["id"], user["id"]);
    let token = login["accessToken"].as_str().expect("a token");
    let me = app.me(Some(token)).await;
    assert_eq!(me["data"]["me"]["username"], "dave", "{me}");
}

/// As in the original: login takes the username only, so an address that is
/// also someone's username can never pick the wrong account.
async fn the_email_address_is_not_a_username(kind: Store) {
    let app = spawn_app(kind).await;
    app.register("erin").await;
    assert_refused(&app.login("erin@example.com", PASSWORD).await);
    let body = app.login("erin", PASSWORD).await;
    assert_eq!(body["data"]["login"]["user"]["username"], "erin", "{body}");
}

async fn an_exact_username_wins_over_an_email_address(kind: Store) {
    let app = spawn_app(kind).await;
    let register = |email: &str, username: &str, password: &str| {
        let input = serde_json::json!({"input": {"email": email, "username": username, "password": password}});
        let app = &app;
        async move { app.graphql(crate::helpers::REGISTER, input, None).await }
    };
    register("ann@example.com", "bea@example.com", "ann-password").await;
    register("bea@example.com", "bea", "bea-password").await;
    let body = app.login("bea@example.com", "ann-password").await;
    assert_eq!(
        body["data"]["login"]["user"]["username"], "bea@example.com",
        "{body}"
    );
    assert_refused(&app.login("bea@example.com", "bea-password").await);
    let body = app.login("bea", "bea-password").await;
    assert_eq!(body["data"]["login"]["user"]["username"], "bea", "{body}");
}

async fn wrong_password_unknown_user_and_inactive_user_are_refused_alike(kind: Store) {
    let app = spawn_app(kind).await;
    let user = app.register("frank").await;
    assert_refused(&app.login("frank", "wrong-password").await);
    assert_refused(&app.login("nobody", PASSWORD).await);
    assert_refused(&app.login("", "").await);

    let id: i32 = user["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("numeric id");
    app.execute("UPDATE users SET is_active = FALSE WHERE id = $1", id)
        .await;
    assert_refused(&app.login("frank", PASSWORD).await);
}

async fn hashes_made_by_the_original_system_verify(kind: Store) {
    let app = spawn_app(kind).await;
    let user = app.register("grace").await;
    let id: i32 = user["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("numeric id");
    db::on_pool!(&app.pool, |p| sqlx::query(
        "UPDATE users SET hashed_password = $1 WHERE id = $2"
    )
    .bind(PASSLIB_HASH)
    .bind(id)
    .execute(p)
    .await
    .map(|_| ()))
    .expect("store the passlib hash");

    let body = app.login("grace", PASSLIB_PASSWORD).await;
    assert_eq!(body["data"]["login"]["user"]["username"], "grace", "{body}");
    assert_refused(&app.login("grace", PASSWORD).await);
}
