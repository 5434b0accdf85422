//! The stats subgraph's GraphQL schema. It owns `User.stats` and nothing else:
//! the router resolves `User.taskCounts` in the tasks subgraph first and hands
//! those aggregates to us in the `User` representation (`@requires`), so this
//! service never sees a task and needs no store.

use async_graphql::{
    Any, ComplexObject, EmptyMutation, EmptySubscription, ID, InputObject, InputType, Object,
    Schema, SimpleObject,
};
use common::document_scan::GraphqlLimits;
use subgraph_kit::ViewerExt;
use subgraph_kit::errors::bad_input;
use tokens::Viewer;

use crate::completion::completed_percentage;

pub type StatsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The schema with async-graphql's own limits from `limits`, ready to execute;
/// each request carries its [`Viewer`] as request data.
pub fn build(limits: &GraphqlLimits) -> StatsSchema {
    subgraph_kit::subgraph_schema(Query, EmptyMutation, limits).finish()
}

// The tasks subgraph's `TaskCounts`, field for field (the type is shareable),
// undocumented here so that the description clients see is the owner's.
#[derive(Debug, Clone, Copy, SimpleObject, InputObject)]
#[graphql(
    name = "TaskCounts",
    input_name = "TaskCountsRepresentation",
    shareable
)]
pub struct TaskCounts {
    pub total: i32,
    pub todo: i32,
    pub in_progress: i32,
    pub done: i32,
    pub completed: i32,
    pub low: i32,
    pub medium: i32,
    pub high: i32,
}

/// A user's task statistics.
#[derive(Debug, Clone, Copy, SimpleObject)]
pub struct UserStats {
    pub total_tasks: i32,
    pub completed_tasks: i32,
    /// Completed tasks as a percentage of all tasks, rounded to two decimals (0.0 with no tasks).
    pub completed_percentage: f64,
    pub breakdown: TaskCounts,
}

// The user entity as this subgraph knows it: an id plus the counts the router
// brought. Undocumented here so that the description clients see is the owner's.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct User {
    id: ID,
    // Resolved by the tasks subgraph; the router passes it in the representation.
    #[graphql(external)]
    task_counts: TaskCounts,
}

#[ComplexObject]
impl User {
    #[graphql(requires = "taskCounts { total todo inProgress done completed low medium high }")]
    async fn stats(&self) -> UserStats {
        let counts = self.task_counts;
        UserStats {
            total_tasks: counts.total,
            completed_tasks: counts.completed,
            completed_percentage: completed_percentage(counts.completed, counts.total),
            breakdown: self.task_counts,
        }
    }
}

pub struct Query;

#[Object]
impl Query {
    /// Resolves `User` representations: only the viewer's own, others are null.
    #[graphql(entity)]
    async fn find_user_by_id(
        &self,
        ctx: &async_graphql::Context<'_>,
        #[graphql(key)] id: ID,
        // Taken as `_Any` and parsed here, so that a missing or malformed value is
        // reported as BAD_USER_INPUT naming the field.
        #[graphql(name = "taskCounts")] task_counts: Option<Any>,
    ) -> async_graphql::Result<Option<User>> {
        let viewer_id = Viewer::of(ctx).require_user()?;
        if id.parse::<i64>().ok() != Some(viewer_id) {
            return Ok(None);
        }
        let task_counts = parse_task_counts(task_counts)?;
        Ok(Some(User { id, task_counts }))
    }
}

/// The counts of a representation (required by `stats`), or BAD_USER_INPUT saying what is wrong.
fn parse_task_counts(value: Option<Any>) -> async_graphql::Result<TaskCounts> {
    let Some(Any(value)) = value else {
        return Err(bad_input(
            "taskCounts",
            "the User representation must carry taskCounts (required by stats)",
        ));
    };
    <TaskCounts as InputType>::parse(Some(value)).map_err(|err| {
        bad_input(
            "taskCounts",
            format!(
                "malformed taskCounts in the User representation: {}",
                err.into_server_error(Default::default()).message
            ),
        )
    })
}
