//! Every SQL statement of the tasks subgraph. Each query is one statement and
//! is scoped to its owner(s), so no caller can reach another user's rows by
//! mistake. The same SQL text runs on both stores (`$n` placeholders work on
//! SQLite too), except "column in this list of ids", which PostgreSQL spells
//! with an array and SQLite with `json_each` (see `in_list!` and `IdList`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use db::Pool;
use db::on_pool;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo};
use sqlx::{Encode, Postgres, Sqlite, Type};

use crate::error::Error;
use crate::model::{NewTask, TaskChanges, TaskCounts, TaskCriteria, TaskRow, TaskStatus};

/// The columns of a `TaskRow`. Rows written by the original system may lack
/// `updated_at` (set only on update) and `is_completed` (a nullable column there).
macro_rules! task_columns {
    () => {
        "id, title, description, status, priority, COALESCE(is_completed, FALSE) AS is_completed, due_date, \
         created_at, COALESCE(updated_at, created_at) AS updated_at, owner_id"
    };
}

/// `column` is one of the ids bound (as an [`IdList`]) to `param`.
macro_rules! in_list {
    (postgres, $column:literal, $param:literal) => {
        concat!($column, " = ANY(", $param, ")")
    };
    (sqlite, $column:literal, $param:literal) => {
        concat!($column, " IN (SELECT value FROM json_each(", $param, "))")
    };
}

/// The viewer's tasks among the ids in `$2`.
macro_rules! find_many_sql {
    ($dialect:ident) => {
        concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE owner_id = $1 AND ",
            in_list!($dialect, "id", "$2")
        )
    };
}

/// The tasks of the owners in `$1` matching `$2` (status) and `$3` (priority).
macro_rules! matching_sql {
    ($dialect:ident) => {
        concat!(
            "FROM tasks WHERE ",
            in_list!($dialect, "owner_id", "$1"),
            " AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR priority = $3)"
        )
    };
}

/// Positions `$4 < n <= $5` of each owner's matching tasks, newest first, each row
/// with the owner's number of matches: a page and its total in one statement.
macro_rules! pages_sql {
    ($dialect:ident) => {
        concat!(
            "SELECT * FROM (SELECT ",
            task_columns!(),
            ", ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY created_at DESC, id DESC) AS position, \
             COUNT(*) OVER (PARTITION BY owner_id) AS total ",
            matching_sql!($dialect),
            ") AS ranked WHERE position > $4 AND position <= $5 ORDER BY owner_id, position"
        )
    };
}

/// How many tasks of each owner match, for owners whose page came back empty.
macro_rules! totals_sql {
    ($dialect:ident) => {
        concat!(
            "SELECT owner_id, COUNT(*) AS total ",
            matching_sql!($dialect),
            " GROUP BY owner_id"
        )
    };
}

/// The aggregate behind `taskCounts`, grouped so that many owners take one statement.
macro_rules! counts_sql {
    ($dialect:ident) => {
        concat!(
            "SELECT owner_id, COUNT(*) AS total, \
             SUM(CASE WHEN status = 'todo' THEN 1 ELSE 0 END) AS todo, \
             SUM(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END) AS in_progress, \
             SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done, \
             SUM(CASE WHEN is_completed THEN 1 ELSE 0 END) AS completed, \
             SUM(CASE WHEN priority = 'low' THEN 1 ELSE 0 END) AS low, \
             SUM(CASE WHEN priority = 'medium' THEN 1 ELSE 0 END) AS medium, \
             SUM(CASE WHEN priority = 'high' THEN 1 ELSE 0 END) AS high \
             FROM tasks WHERE ",
            in_list!($dialect, "owner_id", "$1"),
            " GROUP BY owner_id"
        )
    };
}

/// A list of ids bound as one parameter: an `int4[]` on PostgreSQL, a JSON array on SQLite.
#[derive(Debug, Clone, Copy)]
pub struct IdList<'a>(pub &'a [i32]);

impl Type<Postgres> for IdList<'_> {
    fn type_info() -> PgTypeInfo {
        <Vec<i32> as Type<Postgres>>::type_info()
    }
}

impl<'q> Encode<'q, Postgres> for IdList<'_> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&[i32] as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl Type<Sqlite> for IdList<'_> {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for IdList<'_> {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        let json = serde_json::Value::from(self.0.to_vec()).to_string();
        <String as Encode<'q, Sqlite>>::encode(json, buf)
    }
}

#[derive(sqlx::FromRow)]
struct OwnerCounts {
    owner_id: i32,
    #[sqlx(flatten)]
    counts: TaskCounts,
}

#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    task: TaskRow,
    total: i64,
}

/// One owner's page of tasks and how many match in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<TaskRow>,
    pub total: i64,
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

    /// The statement for this store, of two spellings of one query.
    fn dialect(&self, postgres: &'static str, sqlite: &'static str) -> &'static str {
        match self.pool {
            Pool::Postgres(_) => postgres,
            Pool::Sqlite(_) => sqlite,
        }
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

    /// The owner's tasks among `ids`; ids of other owners are simply not found.
    pub async fn find_many(&self, owner_id: i32, ids: &[i32]) -> Result<Vec<TaskRow>, Error> {
        let sql = self.dialect(find_many_sql!(postgres), find_many_sql!(sqlite));
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as::<_, TaskRow>(sql)
                .bind(owner_id)
                .bind(IdList(ids))
                .fetch_all(p)
                .await?
        }))
    }

    /// A page of each owner's matching tasks, newest first, with the number of matches.
    /// One statement, plus one more only when some owner's page is empty.
    pub async fn pages(
        &self,
        owner_ids: &[i32],
        criteria: TaskCriteria,
        skip: i64,
        limit: i64,
    ) -> Result<HashMap<i32, Page>, Error> {
        let sql = self.dialect(pages_sql!(postgres), pages_sql!(sqlite));
        let rows = on_pool!(&self.pool, |p| {
            sqlx::query_as::<_, PageRow>(sql)
                .bind(IdList(owner_ids))
                .bind(criteria.status)
                .bind(criteria.priority)
                .bind(skip)
                .bind(skip.saturating_add(limit))
                .fetch_all(p)
                .await?
        });
        let mut pages: HashMap<i32, Page> = owner_ids
            .iter()
            .map(|owner_id| (*owner_id, Page::default()))
            .collect();
        for row in rows {
            let page = pages.entry(row.task.owner_id).or_default();
            page.total = row.total;
            page.items.push(row.task);
        }
        // An empty page after a skip may still lie past the end of many matches: count those.
        let uncounted: Vec<i32> = pages
            .iter()
            .filter(|(_, page)| page.items.is_empty())
            .map(|(owner_id, _)| *owner_id)
            .collect();
        if skip > 0 && !uncounted.is_empty() {
            for (owner_id, total) in self.totals(&uncounted, criteria).await? {
                pages.entry(owner_id).or_default().total = total;
            }
        }
        Ok(pages)
    }

    async fn totals(
        &self,
        owner_ids: &[i32],
        criteria: TaskCriteria,
    ) -> Result<Vec<(i32, i64)>, Error> {
        let sql = self.dialect(totals_sql!(postgres), totals_sql!(sqlite));
        // Rows of (owner_id, total), in the statement's column order.
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_as::<_, (i32, i64)>(sql)
                .bind(IdList(owner_ids))
                .bind(criteria.status)
                .bind(criteria.priority)
                .fetch_all(p)
                .await?
        }))
    }

    /// The counts of each owner, in one grouped statement; owners without tasks are absent.
    pub async fn counts(&self, owner_ids: &[i32]) -> Result<Vec<(i32, TaskCounts)>, Error> {
        let sql = self.dialect(counts_sql!(postgres), counts_sql!(sqlite));
        let rows = on_pool!(&self.pool, |p| {
            sqlx::query_as::<_, OwnerCounts>(sql)
                .bind(IdList(owner_ids))
                .fetch_all(p)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|row| (row.owner_id, row.counts))
            .collect())
    }

    /// Applies `changes` to the owner's task; `None` when there is no such task of theirs.
    /// A change that changes nothing leaves `updated_at` as it was.
    pub async fn update(
        &self,
        owner_id: i32,
        id: i32,
        changes: TaskChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<TaskRow>, Error> {
        self.write(owner_id, id, &changes, false, now).await
    }

    /// Sets the completed flag of the owner's task, keeping its status in step:
    /// completing makes it done, uncompleting sends a done task back to todo
    /// (other statuses stay). Repeating it changes nothing, `updated_at` included.
    pub async fn set_completed(
        &self,
        owner_id: i32,
        id: i32,
        completed: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<TaskRow>, Error> {
        // Completing is setting the status done (a given status decides the flag);
        // uncompleting clears the flag, and only it reopens a done task.
        let changes = TaskChanges {
            status: completed.then_some(TaskStatus::Done),
            is_completed: Some(completed),
            ..TaskChanges::default()
        };
        self.write(owner_id, id, &changes, !completed, now).await
    }

    /// The one statement that changes a task: `changes` applied to the owner's
    /// task and, with `reopen_done`, a done task not given a status sent back to
    /// todo. `updated_at` moves only when a value really changes: the original's
    /// ORM wrote nothing for a no-op update (`PUT {}`, the same title), so
    /// neither do we.
    async fn write(
        &self,
        owner_id: i32,
        id: i32,
        changes: &TaskChanges,
        reopen_done: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<TaskRow>, Error> {
        let sql = concat!(
            "UPDATE tasks SET \
             title = COALESCE($3, title), \
             description = CASE WHEN $4 THEN $5 ELSE description END, \
             status = COALESCE($6, CASE WHEN $12 AND status = $13 THEN $14 ELSE status END), \
             priority = COALESCE($7, priority), \
             is_completed = COALESCE($8, is_completed), \
             due_date = CASE WHEN $9 THEN $10 ELSE due_date END, \
             updated_at = CASE WHEN \
                 COALESCE($3, title) IS DISTINCT FROM title \
                 OR (CASE WHEN $4 THEN $5 ELSE description END) IS DISTINCT FROM description \
                 OR COALESCE($6, CASE WHEN $12 AND status = $13 THEN $14 ELSE status END) \
                    IS DISTINCT FROM status \
                 OR COALESCE($7, priority) IS DISTINCT FROM priority \
                 OR COALESCE($8, is_completed) IS DISTINCT FROM is_completed \
                 OR (CASE WHEN $9 THEN $10 ELSE due_date END) IS DISTINCT FROM due_date \
                 THEN $11 ELSE updated_at END \
             WHERE id = $1 AND owner_id = $2 RETURNING ",
            task_columns!()
        );
        // A given status decides the flag, even over an `isCompleted` given with it.
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
                .bind(reopen_done)
                .bind(TaskStatus::Done)
                .bind(TaskStatus::Todo)
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
