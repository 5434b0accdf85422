//! The whole system for end-to-end tests: the five services as real processes
//! (subcommands of the `tasktracker` binary), on fresh databases of their own.

#![allow(dead_code)] // each test file uses a different part of this kit

use std::path::PathBuf;

pub use tasktracker::launcher::ServiceName as Service;
use tasktracker::launcher::{Launch, Ports, System};

/// Which store the stateful subgraphs run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Postgres,
    Sqlite,
}

pub struct Stack {
    pub rest_url: String,
    pub router_url: String,
    pub users_url: String,
    pub tasks_url: String,
    pub stats_url: String,
    pub data_dir: PathBuf,
    pub users_database_url: String,
    pub tasks_database_url: String,
    system: Option<System>,
}

impl Stack {
    /// Starts every service on free ports with fresh databases.
    pub async fn start(store: Store) -> Stack {
        let data_dir = common::testing::fresh_data_dir("stack");
        let (users_db, tasks_db) = match store {
            Store::Postgres => (
                Some(common::testing::fresh_postgres_database("users").await.expect("users database")),
                Some(common::testing::fresh_postgres_database("tasks").await.expect("tasks database")),
            ),
            Store::Sqlite => (None, None),
        };
        Self::start_on(data_dir, users_db, tasks_db).await
    }

    /// Starts every service on free ports with the given databases (None: SQLite in `data_dir`).
    pub async fn start_on(data_dir: PathBuf, users_db: Option<String>, tasks_db: Option<String>) -> Stack {
        let launch = Launch {
            executable: PathBuf::from(env!("CARGO_BIN_EXE_tasktracker")),
            data_dir: data_dir.clone(),
            users_database_url: users_db.clone(),
            tasks_database_url: tasks_db.clone(),
            supergraph: None,
            ports: Ports::ephemeral(),
        };
        let system = System::start(&launch).await.expect("the whole system starts");
        let url = |name| system.url(name).expect("service url").to_owned();
        Stack {
            rest_url: url(Service::RestCompat),
            router_url: url(Service::Router),
            users_url: url(Service::Users),
            tasks_url: url(Service::Tasks),
            stats_url: url(Service::Stats),
            users_database_url: users_db
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("users.db").display())),
            tasks_database_url: tasks_db
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tasks.db").display())),
            data_dir,
            system: Some(system),
        }
    }

    /// Stops one service (SIGTERM), e.g. to see how the others answer without it.
    pub async fn stop(&mut self, service: Service) {
        if let Some(system) = self.system.as_mut() {
            system.stop(service).await;
        }
    }

    /// Stops everything gracefully.
    pub async fn shutdown(mut self) {
        if let Some(system) = self.system.take() {
            system.shutdown().await;
        }
    }
}

/// Runs one SQL statement on the users database (whichever store it is).
pub async fn users_sql(stack: &Stack, sql: &str, bind: &str) {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if stack.users_database_url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&stack.users_database_url).await.expect("connect users db");
        sqlx::query(sql).bind(bind).execute(&mut conn).await.expect("users sql");
    } else {
        let mut conn = sqlx::PgConnection::connect(&stack.users_database_url).await.expect("connect users db");
        sqlx::query(sql).bind(bind).execute(&mut conn).await.expect("users sql");
    }
}

/// Marks a user inactive directly in the users database (no API does this).
pub async fn deactivate_user(stack: &Stack, username: &str) {
    users_sql(stack, "UPDATE users SET is_active = false WHERE username = $1", username).await;
}

/// Deletes a user directly in the users database (their tokens must stop working).
pub async fn delete_user(stack: &Stack, username: &str) {
    users_sql(stack, "DELETE FROM users WHERE username = $1", username).await;
}
