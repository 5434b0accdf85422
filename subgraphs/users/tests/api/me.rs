//! `me`: null without a token, the account with a valid one, and the
//! contract's errors for every way a token or its account can be wrong.

use serde_json::Value;
use tokens::Claims;

use crate::helpers::{SECRET, Store, error_code, error_message, spawn_app};
use test_support::on_both_stores;

on_both_stores!(
    without_a_token_me_is_null,
    a_valid_token_gets_the_account,
    bad_and_expired_tokens_are_unauthenticated,
    an_inactive_account_is_forbidden,
    a_deleted_account_is_unauthenticated,
);

fn token_signed_with(key: &[u8], claims: &Claims) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(key).expect("an HMAC key");
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).expect("sign a test token")
}

fn token_with(claims: &Claims) -> String {
    token_signed_with(SECRET.as_bytes(), claims)
}

fn assert_unauthenticated(body: &Value) {
    assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
    assert_eq!(error_message(body), "Could not validate credentials");
    assert_eq!(body["data"]["me"], Value::Null);
}

async fn without_a_token_me_is_null(kind: Store) {
    let app = spawn_app(kind).await;
    app.register("henry").await;
    let body = app.me(None).await;
    assert_eq!(body, serde_json::json!({"data": {"me": null}}));
}

async fn a_valid_token_gets_the_account(kind: Store) {
    let app = spawn_app(kind).await;
    let registered = app.register("iris").await;
    app.register("jack").await;
    let (_, token) = app.signed_in_user("kate").await;
    let body = app.me(Some(&token)).await;
    assert_eq!(body["data"]["me"]["username"], "kate", "{body}");
    assert_ne!(body["data"]["me"]["id"], registered["id"]);
    assert_eq!(body["data"]["me"]["email"], "kate@example.com");
}

async fn bad_and_expired_tokens_are_unauthenticated(kind: Store) {
    let app = spawn_app(kind).await;
    let (id, _) = app.signed_in_user("liam").await;
    assert_unauthenticated(&app.me(Some("not-a-jwt")).await);

    let now = chrono::Utc::now().timestamp();
    let expired = token_with(&Claims {
        sub: id.clone(),
        exp: now - 60,
        iat: now - 3600,
    });
    assert_unauthenticated(&app.me(Some(&expired)).await);

    let forged = token_signed_with(
        b"somebody else's key",
        &Claims {
            sub: id.clone(),
            exp: now + 600,
            iat: now,
        },
    );
    assert_unauthenticated(&app.me(Some(&forged)).await);

    let not_an_id = token_with(&Claims {
        sub: "liam".to_owned(),
        exp: now + 600,
        iat: now,
    });
    assert_unauthenticated(&app.me(Some(&not_an_id)).await);

    // The same subject with a good signature and expiry is accepted: the failures above are the token's.
    let good = token_with(&Claims {
        sub: id,
        exp: now + 600,
        iat: now,
    });
    assert_eq!(app.me(Some(&good)).await["data"]["me"]["username"], "liam");
}

async fn an_inactive_account_is_forbidden(kind: Store) {
    let app = spawn_app(kind).await;
    let (id, token) = app.signed_in_user("mia").await;
    app.execute(
        "UPDATE users SET is_active = FALSE WHERE id = $1",
        id.parse().expect("numeric id"),
    )
    .await;
    let body = app.me(Some(&token)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(error_message(&body), "Inactive user");
    assert_eq!(body["data"]["me"], Value::Null);
}

async fn a_deleted_account_is_unauthenticated(kind: Store) {
    let app = spawn_app(kind).await;
    let (id, token) = app.signed_in_user("noah").await;
    app.execute(
        "DELETE FROM users WHERE id = $1",
        id.parse().expect("numeric id"),
    )
    .await;
    assert_unauthenticated(&app.me(Some(&token)).await);
}
