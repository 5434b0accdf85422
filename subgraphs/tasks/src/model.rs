//! What a task is, as stored: one Rust type per enum serves GraphQL (upper-case
//! values) and both stores (lower-case labels; a native enum type on PostgreSQL,
//! text on SQLite).

use chrono::{DateTime, Utc};

#[derive(async_graphql::Enum, sqlx::Type, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[sqlx(type_name = "taskstatus", rename_all = "snake_case")]
pub enum TaskStatus {
    Todo,
    InProgress,
    Done,
}

#[derive(async_graphql::Enum, sqlx::Type, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[sqlx(type_name = "taskpriority", rename_all = "snake_case")]
pub enum TaskPriority {
    Low,
    Medium,
    High,
}

/// One row of the `tasks` table.
#[derive(sqlx::FromRow, Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub id: i32,
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    pub priority: TaskPriority,
    pub is_completed: bool,
    pub due_date: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub owner_id: i32,
}

/// A new task, validated.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    pub priority: TaskPriority,
    pub due_date: Option<DateTime<Utc>>,
}

/// A validated partial update: `None` leaves a column unchanged; for the nullable
/// columns `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<TaskStatus>,
    pub priority: Option<TaskPriority>,
    pub is_completed: Option<bool>,
    pub due_date: Option<Option<DateTime<Utc>>>,
}

/// Which of an owner's tasks a page or count looks at; absent criteria match all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TaskCriteria {
    pub status: Option<TaskStatus>,
    pub priority: Option<TaskPriority>,
}

/// How many of a user's tasks are in each state. Shared with the stats subgraph.
// Read straight from the counting query and served as is, so one type is both row and GraphQL object.
#[derive(
    async_graphql::SimpleObject, sqlx::FromRow, Debug, Clone, Copy, Default, PartialEq, Eq,
)]
#[graphql(shareable)]
pub struct TaskCounts {
    pub total: i64,
    pub todo: i64,
    pub in_progress: i64,
    pub done: i64,
    pub completed: i64,
    pub low: i64,
    pub medium: i64,
    pub high: i64,
}
