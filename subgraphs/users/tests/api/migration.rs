//! Adopting a PostgreSQL database the original system (Alembic) created: the
//! table and every row are kept, and its accounts keep working.

use serde_json::Value;

use crate::helpers::{Store, spawn_app_with, test_config};

/// The tables as the original Alembic migration created them (no NOT NULL on
/// the flags, `updated_at` only set by the ORM on update).
const ORIGINAL_SCHEMA: &str = r#"
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('0001');
CREATE TABLE users (
    id SERIAL NOT NULL,
    email VARCHAR NOT NULL,
    username VARCHAR NOT NULL,
    hashed_password VARCHAR NOT NULL,
    full_name VARCHAR,
    is_active BOOLEAN,
    is_superuser BOOLEAN,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
    updated_at TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_users_email ON users (email);
CREATE INDEX ix_users_id ON users (id);
CREATE UNIQUE INDEX ix_users_username ON users (username);
INSERT INTO users (email, username, hashed_password, full_name, is_active, is_superuser, created_at, updated_at) VALUES
  ('old@example.com', 'oldtimer', '$2b$12$DKFgIK/0QpGEhqS4UXeNDeusnFTw8/ZLyySjl7zENjzRcft3mO/ta', 'Old Timer', TRUE, FALSE, '2024-01-02T03:04:05.123456Z', NULL),
  ('gone@example.com', 'retired', '$2b$12$DKFgIK/0QpGEhqS4UXeNDeusnFTw8/ZLyySjl7zENjzRcft3mO/ta', NULL, FALSE, FALSE, '2024-01-03T00:00:00Z', '2024-02-01T00:00:00Z');
"#;

#[tokio::test]
async fn an_original_database_is_adopted_with_every_row() {
    let config = test_config(Store::Postgres).await;
    let url = config
        .config
        .store
        .database_url
        .clone()
        .expect("a PostgreSQL test database");
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    sqlx::raw_sql(ORIGINAL_SCHEMA)
        .execute(&pool)
        .await
        .expect("create the original schema");
    pool.close().await;

    let app = spawn_app_with(config.clone()).await;
    assert_eq!(app.user_count().await, 2, "every original row is kept");

    // The original account logs in with its original password and reads back as it was.
    let body = app.login("oldtimer", "correct horse battery staple").await;
    let token = body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    let me = app.me(Some(token)).await;
    let user = &me["data"]["me"];
    assert_eq!(user["email"], "old@example.com", "{me}");
    assert_eq!(user["fullName"], "Old Timer");
    assert_eq!(user["createdAt"], "2024-01-02T03:04:05.123456Z");
    assert_eq!(
        user["updatedAt"], user["createdAt"],
        "a never-updated row reads as updated when created"
    );

    // New accounts continue the original id sequence and respect its unique indexes.
    let new_user = app.register("newcomer").await;
    assert_eq!(new_user["id"], "3");
    let taken = app
        .graphql(
            crate::helpers::REGISTER,
            serde_json::json!({"input": {"email": "old@example.com", "username": "someone", "password": "secret123"}}),
            None,
        )
        .await;
    assert_eq!(crate::helpers::error_code(&taken), "CONFLICT");

    // Starting again on the adopted database changes nothing.
    let again = spawn_app_with(config).await;
    assert_eq!(again.user_count().await, 3);
    assert_eq!(
        again.login("retired", "correct horse battery staple").await["data"],
        Value::Null
    );
}
