//! The REST resources as the original API wrote them (field names and order),
//! and how each is read from the GraphQL answer it comes from.

use serde::{Deserialize, Serialize};

use crate::error::Error;

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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlUser {
    id: String,
    email: String,
    username: String,
    full_name: Option<String>,
    is_active: bool,
    is_superuser: bool,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Serialize)]
pub struct User {
    email: String,
    username: String,
    full_name: Option<String>,
    id: i64,
    is_active: bool,
    is_superuser: bool,
    created_at: String,
    updated_at: String,
}

impl TryFrom<GraphqlUser> for User {
    type Error = Error;

    fn try_from(user: GraphqlUser) -> Result<Self, Error> {
        Ok(User {
            id: parse_id(&user.id)?,
            email: user.email,
            username: user.username,
            full_name: user.full_name,
            is_active: user.is_active,
            is_superuser: user.is_superuser,
            created_at: user.created_at,
            updated_at: user.updated_at,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct GraphqlId {
    id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlTask {
    id: String,
    title: String,
    description: Option<String>,
    status: String,
    priority: String,
    due_date: Option<String>,
    is_completed: bool,
    owner: GraphqlId,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Serialize)]
pub struct Task {
    title: String,
    description: Option<String>,
    status: String,
    priority: String,
    due_date: Option<String>,
    id: i64,
    is_completed: bool,
    owner_id: i64,
    created_at: String,
    updated_at: String,
}

impl TryFrom<GraphqlTask> for Task {
    type Error = Error;

    fn try_from(task: GraphqlTask) -> Result<Self, Error> {
        Ok(Task {
            id: parse_id(&task.id)?,
            owner_id: parse_id(&task.owner.id)?,
            title: task.title,
            description: task.description,
            status: task.status.to_lowercase(),
            priority: task.priority.to_lowercase(),
            due_date: task.due_date,
            is_completed: task.is_completed,
            created_at: task.created_at,
            updated_at: task.updated_at,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlTaskPage {
    items: Vec<GraphqlTask>,
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
    pub fn from_page(page: GraphqlTaskPage, skip: i64, limit: i64) -> Result<Self, Error> {
        let tasks = page
            .items
            .into_iter()
            .map(Task::try_from)
            .collect::<Result<_, _>>()?;
        Ok(TaskList {
            tasks,
            total: page.total_count,
            skip,
            limit,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlTaskCounts {
    total: i64,
    todo: i64,
    in_progress: i64,
    done: i64,
    completed: i64,
    low: i64,
    medium: i64,
    high: i64,
}

#[derive(Debug, Serialize)]
pub struct TaskStats {
    total: i64,
    todo: i64,
    in_progress: i64,
    done: i64,
    completed: i64,
    high_priority: i64,
    medium_priority: i64,
    low_priority: i64,
}

impl From<GraphqlTaskCounts> for TaskStats {
    fn from(counts: GraphqlTaskCounts) -> Self {
        TaskStats {
            total: counts.total,
            todo: counts.todo,
            in_progress: counts.in_progress,
            done: counts.done,
            completed: counts.completed,
            high_priority: counts.high,
            medium_priority: counts.medium,
            low_priority: counts.low,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlUserStats {
    total_tasks: i64,
    completed_tasks: i64,
    completed_percentage: f64,
}

/// `/stats/`: `completed_percentage` is always written as a JSON float (`30.0`, not `30`).
#[derive(Debug, Serialize)]
pub struct UserStats {
    total_tasks: i64,
    completed_tasks: i64,
    completed_percentage: f64,
}

impl From<GraphqlUserStats> for UserStats {
    fn from(stats: GraphqlUserStats) -> Self {
        UserStats {
            total_tasks: stats.total_tasks,
            completed_tasks: stats.completed_tasks,
            completed_percentage: stats.completed_percentage,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlAuthPayload {
    access_token: String,
    token_type: String,
}

#[derive(Debug, Serialize)]
pub struct Token {
    access_token: String,
    token_type: String,
}

impl From<GraphqlAuthPayload> for Token {
    fn from(payload: GraphqlAuthPayload) -> Self {
        Token {
            access_token: payload.access_token,
            token_type: payload.token_type,
        }
    }
}

fn parse_id(id: &str) -> Result<i64, Error> {
    id.parse()
        .map_err(|_| Error::internal(format!("the router sent a non-integer id {id:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tasks_are_written_in_the_original_order_and_case() {
        let graphql: GraphqlTask = serde_json::from_value(json!({
            "id": "7", "title": "t", "description": null, "status": "IN_PROGRESS", "priority": "HIGH",
            "dueDate": null, "isCompleted": false, "owner": {"id": "3"},
            "createdAt": "2025-11-15T18:20:31.123456Z", "updatedAt": "2025-11-15T18:20:31.123456Z"
        }))
        .expect("task");
        let task = Task::try_from(graphql).expect("converts");
        assert_eq!(
            serde_json::to_string(&task).expect("serialises"),
            r#"{"title":"t","description":null,"status":"in_progress","priority":"high","due_date":null,"id":7,"is_completed":false,"owner_id":3,"created_at":"2025-11-15T18:20:31.123456Z","updated_at":"2025-11-15T18:20:31.123456Z"}"#
        );
    }

    #[test]
    fn percentages_stay_floats() {
        let stats: GraphqlUserStats = serde_json::from_value(
            json!({"totalTasks": 10, "completedTasks": 3, "completedPercentage": 30}),
        )
        .expect("stats");
        assert_eq!(
            serde_json::to_string(&UserStats::from(stats)).expect("serialises"),
            r#"{"total_tasks":10,"completed_tasks":3,"completed_percentage":30.0}"#
        );
    }
}
