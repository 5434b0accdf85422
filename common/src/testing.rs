//! Helpers for tests: each test gets a database of its own on the local
//! PostgreSQL server (`TEST_DATABASE_URL`, default the trust-auth server on
//! 127.0.0.1:5432), so no test depends on leftovers or on another test.

use sqlx::{Connection, PgConnection};

/// The server tests create their databases on.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Creates an empty database with a unique name and returns its URL.
pub async fn fresh_postgres_database(prefix: &str) -> anyhow::Result<String> {
    let admin = admin_url();
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    Ok(format!("{base}/{name}"))
}

/// A fresh, empty data directory for an embedded-store test.
pub fn fresh_data_dir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tasktracker-{prefix}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
