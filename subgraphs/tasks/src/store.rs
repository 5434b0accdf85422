//! Every SQL statement of the tasks subgraph. Each query is one statement and
//! is scoped to its owner, so no caller can reach another user's rows by mistake.
//! The same SQL text runs on both stores (`$n` placeholders work on SQLite too),
//! except for "id in this list", which PostgreSQL spells with an array and SQLite
//! with `json_each`.

use chrono::{DateTime, Utc};
use common::db::Pool;
use common::on_pool;

use crate::error::Error;
use crate::model::{CountsRow, NewTask, TaskChanges, TaskCriteria, TaskRow, TaskStatus};

/// The columns of a `TaskRow`. Rows written by the original system may lack
/// `updated_at` (set only on update) and `is_completed` (a nullable column there).
macro_rules! task_columns {
    () => {
        "id, title, description, status, priority, COALESCE(is_completed, FALSE) AS is_completed, due_date, \
         created_at, COALESCE(updated_at, created_at) AS updated_at, owner_id"
    };
}

/// The filter shared by a page and its total: `$1` owner, `$2` status, `$3` priority.
macro_rules! matching_tasks {
    () => {
        "FROM tasks WHERE owner_id = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR priority = $3)"
    };
}

/// The per-owner aggregate behind `taskCounts`, grouped so that many owners take one statement.
macro_rules! counts_select {
    () => {
        "SELECT owner_id, COUNT(*) AS total, \
         SUM(CASE WHEN status = 'todo' THEN 1 ELSE 0 END) AS todo, \
         SUM(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END) AS in_progress, \
         SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done, \
         SUM(CASE WHEN is_completed THEN 1 ELSE 0 END) AS completed, \
         SUM(CASE WHEN priority = 'low' THEN 1 ELSE 0 END) AS low, \
         SUM(CASE WHEN priority = 'medium' THEN 1 ELSE 0 END) AS medium, \
         SUM(CASE WHEN priority = 'high' THEN 1 ELSE 0 END) AS high \
         FROM tasks "
    };
}

#[derive(sqlx::FromRow)]
struct OwnerCounts {
    owner_id: i32,
    #[sqlx(flatten)]
    counts: CountsRow,
}

/// The tasks table on whichever store is configured.
#[derive(Debug, Clone)]
pub struct TaskStore {
    pool: Pool,
}

impl TaskStore {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub async fn create(
        &self,
        owner_id: i32,
        task: NewTask,
        now: DateTime<Utc>,
    ) -> Result<TaskRow, Error> {
        let is_completed = task.status == TaskStatus::Done;
        let sql = concat!(
            "INSERT INTO tasks (title, description, status, priority, is_completed, due_date, created_at, updated_at, owner_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING ",
            task_columns!()
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as::<_, TaskRow>(sql)
                .bind(&task.title)
                .bind(&task.description)
                .bind(task.status)
                .bind(task.priority)
                .bind(is_completed)
                .bind(task.due_date)
                .bind(now)
                .bind(owner_id)
                .fetch_one(p)
                .await?
        }))
    }

    /// The owner's tasks among `ids`, in one statement; ids of other owners are simply not found.
    pub async fn find_many(&self, owner_id: i32, ids: &[i32]) -> Result<Vec<TaskRow>, Error> {
        Ok(match &self.pool {
            Pool::Postgres(p) => {
                let sql = concat!(
                    "SELECT ",
                    task_columns!(),
                    " FROM tasks WHERE owner_id = $1 AND id = ANY($2)"
                );
                sqlx::query_as::<_, TaskRow>(sql)
                    .bind(owner_id)
                    .bind(ids)
                    .fetch_all(p)
                    .await?
            }
            Pool::Sqlite(p) => {
                let sql = concat!(
                    "SELECT ",
                    task_columns!(),
                    " FROM tasks WHERE owner_id = $1 AND id IN (SELECT value FROM json_each($2))"
                );
                sqlx::query_as::<_, TaskRow>(sql)
                    .bind(owner_id)
                    .bind(json_list(ids))
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// One page of the owner's matching tasks, newest first.
    pub async fn page(
        &self,
        owner_id: i32,
        criteria: TaskCriteria,
        skip: i64,
        limit: i64,
    ) -> Result<Vec<TaskRow>, Error> {
        let sql = concat!(
            "SELECT ",
            task_columns!(),
            " ",
            matching_tasks!(),
            " ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as::<_, TaskRow>(sql)
                .bind(owner_id)
                .bind(criteria.status)
                .bind(criteria.priority)
                .bind(limit)
                .bind(skip)
                .fetch_all(p)
                .await?
        }))
    }

    /// How many of the owner's tasks match.
    pub async fn count(&self, owner_id: i32, criteria: TaskCriteria) -> Result<i64, Error> {
        let sql = concat!("SELECT COUNT(*) ", matching_tasks!());
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(owner_id)
                .bind(criteria.status)
                .bind(criteria.priority)
                .fetch_one(p)
                .await?
        }))
    }

    /// The counts of each owner, in one grouped statement; owners without tasks are absent.
    pub async fn counts(&self, owner_ids: &[i32]) -> Result<Vec<(i32, CountsRow)>, Error> {
        let rows = match &self.pool {
            Pool::Postgres(p) => {
                let sql = concat!(
                    counts_select!(),
                    "WHERE owner_id = ANY($1) GROUP BY owner_id"
                );
                sqlx::query_as::<_, OwnerCounts>(sql)
                    .bind(owner_ids)
                    .fetch_all(p)
                    .await?
            }
            Pool::Sqlite(p) => {
                let sql = concat!(
                    counts_select!(),
                    "WHERE owner_id IN (SELECT value FROM json_each($1)) GROUP BY owner_id"
                );
                sqlx::query_as::<_, OwnerCounts>(sql)
                    .bind(json_list(owner_ids))
                    .fetch_all(p)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|row| (row.owner_id, row.counts))
            .collect())
    }

    /// Applies `changes` to the owner's task; `None` when there is no such task of theirs.
    pub async fn update(
        &self,
        owner_id: i32,
        id: i32,
        changes: TaskChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<TaskRow>, Error> {
        let sql = concat!(
            "UPDATE tasks SET \
             title = COALESCE($3, title), \
             description = CASE WHEN $4 THEN $5 ELSE description END, \
             status = COALESCE($6, status), \
             priority = COALESCE($7, priority), \
             is_completed = COALESCE($8, is_completed), \
             due_date = CASE WHEN $9 THEN $10 ELSE due_date END, \
             updated_at = $11 \
             WHERE id = $1 AND owner_id = $2 RETURNING ",
            task_columns!()
        );
        let is_completed = changes
            .status
            .map(|status| status == TaskStatus::Done)
            .or(changes.is_completed);
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as::<_, TaskRow>(sql)
                .bind(id)
                .bind(owner_id)
                .bind(&changes.title)
                .bind(changes.description.is_some())
                .bind(changes.description.clone().flatten())
                .bind(changes.status)
                .bind(changes.priority)
                .bind(is_completed)
                .bind(changes.due_date.is_some())
                .bind(changes.due_date.flatten())
                .bind(now)
                .fetch_optional(p)
                .await?
        }))
    }

    /// Marks the owner's task done and completed.
    pub async fn complete(
        &self,
        owner_id: i32,
        id: i32,
        now: DateTime<Utc>,
    ) -> Result<Option<TaskRow>, Error> {
        let sql = concat!(
            "UPDATE tasks SET is_completed = $3, status = $4, updated_at = $5 \
             WHERE id = $1 AND owner_id = $2 RETURNING ",
            task_columns!()
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as::<_, TaskRow>(sql)
                .bind(id)
                .bind(owner_id)
                .bind(true)
                .bind(TaskStatus::Done)
                .bind(now)
                .fetch_optional(p)
                .await?
        }))
    }

    /// Clears the completed flag; a done task goes back to todo, other statuses stay.
    pub async fn uncomplete(
        &self,
        owner_id: i32,
        id: i32,
        now: DateTime<Utc>,
    ) -> Result<Option<TaskRow>, Error> {
        let sql = concat!(
            "UPDATE tasks SET is_completed = $3, status = CASE WHEN status = $4 THEN $5 ELSE status END, \
             updated_at = $6 WHERE id = $1 AND owner_id = $2 RETURNING ",
            task_columns!()
        );
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as::<_, TaskRow>(sql)
                .bind(id)
                .bind(owner_id)
                .bind(false)
                .bind(TaskStatus::Done)
                .bind(TaskStatus::Todo)
                .bind(now)
                .fetch_optional(p)
                .await?
        }))
    }

    /// Deletes the owner's task; whether there was one.
    pub async fn delete(&self, owner_id: i32, id: i32) -> Result<bool, Error> {
        let sql = "DELETE FROM tasks WHERE id = $1 AND owner_id = $2";
        let deleted = on_pool!(&self.pool, |p| {
            sqlx::query(sql)
                .bind(id)
                .bind(owner_id)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }
}

/// A JSON array of ids, for SQLite's `json_each`.
fn json_list(ids: &[i32]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_list_is_a_json_array() {
        assert_eq!(json_list(&[1, 22, 333]), "[1,22,333]");
        assert_eq!(json_list(&[]), "[]");
    }
}
