//! A PostgreSQL database per test, dropped when the test ends: each test gets
//! an empty database of its own on the local server (`TEST_DATABASE_URL`,
//! default the trust-auth server on 127.0.0.1:5432), so no test depends on
//! leftovers or on another test, and none leaves one behind.
//!
//! Every database made here is named `tasktracker_test_<32 hex digits>` and
//! carries the comment [`REGISTRY_COMMENT`] on the server: that pair is the
//! record `scripts/setup` reads, so that it only ever drops databases these
//! helpers created (a test process killed before its guards ran), never
//! anything else on a shared server.

use std::sync::Arc;

use anyhow::Context;
use sqlx::{Connection, PgConnection};

/// The prefix of every test database's name.
pub const NAME_PREFIX: &str = "tasktracker_test_";

/// The comment every test database carries (followed by `: <purpose>`);
/// `scripts/setup` matches it as well as the name.
pub const REGISTRY_COMMENT: &str = "created by TaskTracker tests (test-support)";

/// The server tests create their databases on.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// An empty database that is dropped (`WITH (FORCE)`, cutting the connections
/// a service under test still holds) when the last clone of it is dropped.
/// Keep it alive for as long as anything uses the database.
#[derive(Clone, Debug)]
pub struct TestDatabase(Arc<Created>);

#[derive(Debug)]
struct Created {
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty database; `purpose` (what the test uses it for) goes
    /// into its registry comment.
    pub async fn create(purpose: &str) -> anyhow::Result<Self> {
        let admin = admin_url();
        let name = format!("{NAME_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let purpose: String = purpose
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            .collect();
        let mut conn = PgConnection::connect(&admin).await.with_context(|| {
            format!(
                "connecting to PostgreSQL at {admin} to create a test database (`scripts/setup` installs and starts it)"
            )
        })?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await?;
        // The guard exists from here on, so a failure below still drops the database.
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        let database = Self(Arc::new(Created {
            url: format!("{base}/{name}"),
            name,
        }));
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "COMMENT ON DATABASE \"{}\" IS '{REGISTRY_COMMENT}: {purpose}'",
            database.name()
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(database)
    }

    /// Like [`TestDatabase::create`], panicking with the reason (for test kits).
    pub async fn fresh(purpose: &str) -> Self {
        Self::create(purpose)
            .await
            .unwrap_or_else(|err| panic!("a fresh PostgreSQL database for {purpose}: {err:#}"))
    }

    /// The URL to connect to it with.
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// Its name on the server.
    pub fn name(&self) -> &str {
        &self.0.name
    }
}

impl Drop for Created {
    /// Drops the database on a thread and runtime of its own: the test's
    /// runtime may be shutting down (or be the single thread this runs on).
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(drop_database(&name))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!(
                "test-support: could not drop test database {}: {err:#} (`scripts/setup` drops it later)",
                self.name
            ),
            Err(_) => eprintln!(
                "test-support: dropping test database {} panicked",
                self.name
            ),
        }
    }
}

async fn drop_database(name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(&admin_url()).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}
