//! What TaskTracker's tests share, kept out of the production crates (this
//! crate is only ever a dev-dependency): a PostgreSQL database per test that
//! drops itself, a fresh data directory, the PostgreSQL/SQLite matrix every
//! stateful behaviour runs on, one GraphQL-over-HTTP client helper, the parts
//! of a service configuration every test kit spells the same way, the
//! hostile-client kit of the HTTP hardening tests, and the check that makes a
//! test fail (never pass unseen) when a tool it needs is missing.

pub mod config;
pub mod database;
pub mod graphql;
pub mod metrics;
pub mod rest_load;
pub mod siege;
pub mod tools;

pub use database::{TestDatabase, admin_url};

/// The two stores every stateful behaviour is tested on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Postgres,
    Sqlite,
}

/// A fresh, empty data directory for a test (`$TMPDIR/tasktracker-<prefix>-<uuid>`;
/// `scripts/setup` removes those an earlier run left behind).
pub fn fresh_data_dir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tasktracker-{prefix}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// For each named `async fn(test_support::Store)`, a module of two
/// `#[tokio::test]`s, `postgres` and `sqlite`: the store matrix. The calling
/// crate needs `tokio` (every test crate has it).
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::Store::Postgres).await;
            }

            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::Store::Sqlite).await;
            }
        }
    )*};
}
