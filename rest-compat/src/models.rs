//! The REST resources as the original API wrote them (field names and order),
//! each one type read straight from the GraphQL answer it comes from: serde
//! reads GraphQL's camelCase names and writes the original's snake_case ones
//! in declaration order, so a resource and its reading are declared once.

use serde::{Deserialize, Deserializer, Serialize};

/// The GraphQL selection a REST `User` is made from (a macro so that
/// operations can be assembled with `concat!` at compile time).
macro_rules! user_fields {
    () => {
        "id email username fullName isActive isSuperuser createdAt updatedAt"
    };
}
pub(crate) use user_fields;

/// The GraphQL selection a REST `Task` is made from.
macro_rules! task_fields {
    () => {
        "id title description status priority dueDate isCompleted owner { id } createdAt updatedAt"
    };
}
pub(crate) use task_fields;

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct User {
    email: String,
    username: String,
    full_name: Option<String>,
    #[serde(deserialize_with = "integer_id")]
    id: i64,
    is_active: bool,
    is_superuser: bool,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Task {
    title: String,
    description: Option<String>,
    /// GraphQL's enum values (`IN_PROGRESS`) as the REST API writes them (`in_progress`).
    #[serde(deserialize_with = "lower_case")]
    status: String,
    #[serde(deserialize_with = "lower_case")]
    priority: String,
    due_date: Option<String>,
    #[serde(deserialize_with = "integer_id")]
    id: i64,
    is_completed: bool,
    /// Read from the task's `owner { id }`.
    #[serde(rename(deserialize = "owner"), deserialize_with = "owner_id")]
    owner_id: i64,
    created_at: String,
    updated_at: String,
}

/// A page of the viewer's tasks as GraphQL answers it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlTaskPage {
    items: Vec<Task>,
    total_count: i64,
}

#[derive(Debug, Serialize)]
pub struct TaskList {
    tasks: Vec<Task>,
    total: i64,
    skip: i64,
    limit: i64,
}

impl TaskList {
    /// The page, echoing the `skip` and `limit` the client asked for.
    pub fn from_page(page: GraphqlTaskPage, skip: i64, limit: i64) -> Self {
        TaskList {
            tasks: page.items,
            total: page.total_count,
            skip,
            limit,
        }
    }
}

/// `/tasks/stats`, from the tasks subgraph's `taskCounts` (whose `low`, `medium`
/// and `high` the original called `…_priority`, and wrote last).
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct TaskStats {
    total: i64,
    todo: i64,
    in_progress: i64,
    done: i64,
    completed: i64,
    #[serde(rename(deserialize = "high"))]
    high_priority: i64,
    #[serde(rename(deserialize = "medium"))]
    medium_priority: i64,
    #[serde(rename(deserialize = "low"))]
    low_priority: i64,
}

/// `/stats/`: `completed_percentage` is always written as a JSON float (`30.0`, not `30`).
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct UserStats {
    total_tasks: i64,
    completed_tasks: i64,
    completed_percentage: f64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Token {
    access_token: String,
    token_type: String,
}

/// An `ID` the router sends as a string of digits, written by REST as the integer
/// it is. Anything else makes the answer unreadable (an internal error).
fn integer_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let id = String::deserialize(deserializer)?;
    id.parse()
        .map_err(|_| serde::de::Error::custom(format!("the router sent a non-integer id {id:?}")))
}

/// The `id` of an `owner { id }` object.
fn owner_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    struct Owner {
        #[serde(deserialize_with = "integer_id")]
        id: i64,
    }
    Ok(Owner::deserialize(deserializer)?.id)
}

fn lower_case<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(String::deserialize(deserializer)?.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tasks_are_written_in_the_original_order_and_case() {
        let task: Task = serde_json::from_value(json!({
            "id": "7", "title": "t", "description": null, "status": "IN_PROGRESS", "priority": "HIGH",
            "dueDate": null, "isCompleted": false, "owner": {"id": "3"},
            "createdAt": "2025-11-15T18:20:31.123456Z", "updatedAt": "2025-11-15T18:20:31.123456Z"
        }))
        .expect("task");
        assert_eq!(
            serde_json::to_string(&task).expect("serialises"),
            r#"{"title":"t","description":null,"status":"in_progress","priority":"high","due_date":null,"id":7,"is_completed":false,"owner_id":3,"created_at":"2025-11-15T18:20:31.123456Z","updated_at":"2025-11-15T18:20:31.123456Z"}"#
        );
    }

    #[test]
    fn a_non_integer_id_is_unreadable() {
        let user = serde_json::from_value::<User>(json!({
            "id": "u-1", "email": "a@example.com", "username": "a", "fullName": null,
            "isActive": true, "isSuperuser": false,
            "createdAt": "2025-11-15T18:20:31Z", "updatedAt": "2025-11-15T18:20:31Z"
        }));
        let error = user.expect_err("not an integer id").to_string();
        assert!(error.contains("non-integer id"), "{error}");
    }

    #[test]
    fn counts_are_written_with_the_original_names_and_order() {
        let stats: TaskStats = serde_json::from_value(json!({
            "total": 6, "todo": 1, "inProgress": 2, "done": 3, "completed": 3,
            "low": 1, "medium": 2, "high": 3
        }))
        .expect("counts");
        assert_eq!(
            serde_json::to_string(&stats).expect("serialises"),
            r#"{"total":6,"todo":1,"in_progress":2,"done":3,"completed":3,"high_priority":3,"medium_priority":2,"low_priority":1}"#
        );
    }

    #[test]
    fn percentages_stay_floats() {
        let stats: UserStats = serde_json::from_value(
            json!({"totalTasks": 10, "completedTasks": 3, "completedPercentage": 30}),
        )
        .expect("stats");
        assert_eq!(
            serde_json::to_string(&stats).expect("serialises"),
            r#"{"total_tasks":10,"completed_tasks":3,"completed_percentage":30.0}"#
        );
    }
}
