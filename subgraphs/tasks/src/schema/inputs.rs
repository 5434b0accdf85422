//! The GraphQL inputs of the tasks subgraph and their validation into the
//! model's types. Every refusal names the offending field (`extensions.field`).

use async_graphql::{ID, InputObject, MaybeUndefined};
use common::rules::{PAGE_LIMIT, PAGE_SKIP, TITLE};
use subgraph_kit::errors::bad_input;
use subgraph_kit::scalars::DateTime;

use crate::model::{NewTask, TaskChanges, TaskCriteria, TaskPriority, TaskStatus};

#[derive(InputObject, Debug, Clone, Copy, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub priority: Option<TaskPriority>,
}

impl From<Option<TaskFilter>> for TaskCriteria {
    fn from(filter: Option<TaskFilter>) -> Self {
        let filter = filter.unwrap_or_default();
        TaskCriteria {
            status: filter.status,
            priority: filter.priority,
        }
    }
}

#[derive(InputObject, Debug, Clone)]
pub struct CreateTaskInput {
    pub title: String,
    pub description: Option<String>,
    #[graphql(default_with = "Some(TaskStatus::Todo)")]
    pub status: Option<TaskStatus>,
    #[graphql(default_with = "Some(TaskPriority::Medium)")]
    pub priority: Option<TaskPriority>,
    pub due_date: Option<DateTime>,
}

impl CreateTaskInput {
    pub fn validate(self) -> async_graphql::Result<NewTask> {
        Ok(NewTask {
            title: valid_title(self.title)?,
            description: storable_description(self.description)?,
            status: self.status.ok_or_else(|| null_refused("status"))?,
            priority: self.priority.ok_or_else(|| null_refused("priority"))?,
            due_date: self.due_date.map(|due| due.0),
        })
    }
}

/// Only the fields given change. `null` clears `description` or `dueDate`; the other fields cannot be null.
#[derive(InputObject, Debug, Clone)]
pub struct UpdateTaskInput {
    pub title: MaybeUndefined<String>,
    pub description: MaybeUndefined<String>,
    pub status: MaybeUndefined<TaskStatus>,
    pub priority: MaybeUndefined<TaskPriority>,
    pub is_completed: MaybeUndefined<bool>,
    pub due_date: MaybeUndefined<DateTime>,
}

impl UpdateTaskInput {
    pub fn validate(self) -> async_graphql::Result<TaskChanges> {
        Ok(TaskChanges {
            title: required("title", self.title)?
                .map(valid_title)
                .transpose()?,
            description: clearable(self.description)
                .map(storable_description)
                .transpose()?,
            status: required("status", self.status)?,
            priority: required("priority", self.priority)?,
            is_completed: required("isCompleted", self.is_completed)?,
            due_date: clearable(self.due_date).map(|due| due.map(|due| due.0)),
        })
    }
}

/// A field that may be left out but not set to null.
fn required<T>(field: &str, value: MaybeUndefined<T>) -> async_graphql::Result<Option<T>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(null_refused(field)),
        MaybeUndefined::Value(value) => Ok(Some(value)),
    }
}

/// A field that may be left out (`None`), cleared (`Some(None)`) or set.
fn clearable<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    value.into()
}

fn null_refused(field: &str) -> async_graphql::Error {
    bad_input(field, format!("{field} cannot be null"))
}

/// A description a store can hold.
fn storable_description(description: Option<String>) -> async_graphql::Result<Option<String>> {
    if let Some(text) = &description {
        subgraph_kit::storable::check("description", text)?;
    }
    Ok(description)
}

fn valid_title(title: String) -> async_graphql::Result<String> {
    subgraph_kit::storable::check("title", &title)?;
    if !TITLE.admits(&title) {
        return Err(bad_input("title", TITLE.message("title")));
    }
    Ok(title)
}

/// A page request within `common::rules`' `PAGE_SKIP` and `PAGE_LIMIT`. An
/// argument left out (or given as a variable the request did not send, see
/// `subgraph_kit`'s `unsent_variables`) takes its default before it gets here,
/// so `None` is an explicit `null`, refused like any value out of range.
pub fn valid_page(skip: Option<i64>, limit: Option<i64>) -> async_graphql::Result<(i64, i64)> {
    let skip = skip
        .filter(|skip| PAGE_SKIP.admits(*skip))
        .ok_or_else(|| bad_input("skip", PAGE_SKIP.message("skip")))?;
    let limit = limit
        .filter(|limit| PAGE_LIMIT.admits(*limit))
        .ok_or_else(|| bad_input("limit", PAGE_LIMIT.message("limit")))?;
    Ok((skip, limit))
}

/// A task id. Malformed ids are refused; well-formed ids that no row can have
/// (beyond the 32-bit serial range) are `None`, i.e. not found.
pub fn task_id(id: &ID) -> async_graphql::Result<Option<i32>> {
    let id: i64 = id
        .parse()
        .map_err(|_| bad_input("id", format!("{:?} is not a valid task id", id.as_str())))?;
    Ok(i32::try_from(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_counted_in_characters() {
        assert!(valid_title("é".repeat(TITLE.max)).is_ok());
        assert!(valid_title("é".repeat(TITLE.max + 1)).is_err());
        assert!(valid_title(String::new()).is_err());
    }

    /// The one copy of a limit that cannot follow `common::rules` by itself: the
    /// width of the tasks table's `title` column. A longer `TITLE.max` needs a
    /// migration widening the column on both stores; this fails until it has one.
    #[test]
    fn the_title_column_holds_the_longest_title() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/tasks");
        for store in ["postgres", "sqlite"] {
            let mut widths = Vec::new();
            let dir = format!("{root}/{store}");
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|err| panic!("{dir}: {err}"))
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .collect();
            files.sort();
            for file in files {
                let sql = std::fs::read_to_string(&file).expect("a readable migration");
                widths.extend(
                    sql.lines()
                        .filter(|line| line.trim_start().starts_with("title"))
                        .filter_map(|line| line.split_once("VARCHAR(")?.1.split_once(')'))
                        .filter_map(|(width, _)| width.parse::<usize>().ok()),
                );
            }
            assert_eq!(
                widths.last(),
                Some(&TITLE.max),
                "the last width given to {store}'s title column"
            );
        }
    }

    #[test]
    fn ids() {
        assert_eq!(task_id(&ID::from("42")).expect("valid"), Some(42));
        assert_eq!(task_id(&ID::from("99999999999")).expect("valid"), None);
        assert!(task_id(&ID::from("abc")).is_err());
        assert!(task_id(&ID::from("")).is_err());
    }
}
