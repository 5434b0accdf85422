//! The GraphQL schema of the tasks subgraph (Apollo Federation v2).

pub mod inputs;
pub mod task;
pub mod user;

// `Result` is async-graphql's: a resolver's error is a GraphQL error.
use async_graphql::{Context, EmptySubscription, ID, Object, Result, Schema};
use common::document_scan::GraphqlLimits;
use subgraph_kit::scalars::DateTime;

use crate::error::{Error, task_not_found};
use crate::loaders::{Loaders, OwnedTaskId};
use crate::model::TaskRow;
use crate::session::Session;
use crate::store::TaskStore;
use inputs::{CreateTaskInput, UpdateTaskInput, task_id};
use task::Task;
use user::User;

pub type TasksSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema with async-graphql's own limits from `limits`. Each request brings
/// its data: the `TaskStore`, its `Session` and its `Loaders`.
pub fn build(limits: &GraphqlLimits) -> TasksSchema {
    subgraph_kit::subgraph_schema(Query, Mutation, limits).finish()
}

fn session<'a>(ctx: &Context<'a>) -> Result<&'a Session> {
    ctx.data::<Session>()
}

fn store<'a>(ctx: &Context<'a>) -> Result<&'a TaskStore> {
    ctx.data::<TaskStore>()
}

/// The viewer's task with this id, through the request's batch loader.
async fn load_task(ctx: &Context<'_>, owner_id: i32, id: i32) -> Result<Option<TaskRow>> {
    ctx.data::<Loaders>()?
        .load(OwnedTaskId { owner_id, id })
        .await
        .map_err(Error::into_graphql)
}

pub struct Query;

#[Object]
impl Query {
    /// One of the viewer's tasks; null when missing or someone else's.
    async fn task(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Task>> {
        let owner_id = session(ctx)?.user_id().await?;
        let Some(id) = task_id(&id)? else {
            return Ok(None);
        };
        Ok(load_task(ctx, owner_id, id).await?.map(Task))
    }

    /// Resolves `Task` references of the viewer; any other reference is null.
    #[graphql(entity)]
    async fn find_task_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Task>> {
        let owner_id = session(ctx)?.user_id().await?;
        // A representation is never user input: one that names no possible task is null.
        let Ok(Some(id)) = task_id(&id) else {
            return Ok(None);
        };
        Ok(load_task(ctx, owner_id, id).await?.map(Task))
    }

    /// Resolves the viewer's own `User` reference; other users' are null.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        let owner_id = session(ctx)?.user_id().await?;
        let is_viewer = id.parse::<i64>().is_ok_and(|id| id == i64::from(owner_id));
        Ok(is_viewer.then_some(User { id: owner_id }))
    }
}

pub struct Mutation;

/// The viewer's id and the id of the task a mutation targets (NOT_FOUND for ids no row can have).
async fn target(ctx: &Context<'_>, id: &ID) -> Result<(i32, i32)> {
    let owner_id = session(ctx)?.user_id().await?;
    let id = task_id(id)?.ok_or_else(task_not_found)?;
    Ok((owner_id, id))
}

fn found(row: Result<Option<TaskRow>, Error>) -> Result<Task> {
    row.map_err(Error::into_graphql)?
        .map(Task)
        .ok_or_else(task_not_found)
}

/// Sets (or clears) the completed flag of the viewer's task `id`, its status in step.
async fn set_completed(ctx: &Context<'_>, id: &ID, completed: bool) -> Result<Task> {
    let (owner_id, id) = target(ctx, id).await?;
    let now = DateTime::now().0;
    found(
        store(ctx)?
            .set_completed(owner_id, id, completed, now)
            .await,
    )
}

#[Object]
impl Mutation {
    async fn create_task(&self, ctx: &Context<'_>, input: CreateTaskInput) -> Result<Task> {
        let owner_id = session(ctx)?.user_id().await?;
        let task = input.validate()?;
        let row = store(ctx)?
            .create(owner_id, task, DateTime::now().0)
            .await
            .map_err(Error::into_graphql)?;
        Ok(Task(row))
    }

    /// Changes only the fields given.
    async fn update_task(&self, ctx: &Context<'_>, id: ID, input: UpdateTaskInput) -> Result<Task> {
        let (owner_id, id) = target(ctx, &id).await?;
        let changes = input.validate()?;
        found(
            store(ctx)?
                .update(owner_id, id, changes, DateTime::now().0)
                .await,
        )
    }

    async fn delete_task(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let (owner_id, id) = target(ctx, &id).await?;
        let deleted = store(ctx)?
            .delete(owner_id, id)
            .await
            .map_err(Error::into_graphql)?;
        if deleted {
            Ok(true)
        } else {
            Err(task_not_found())
        }
    }

    /// Marks the task done.
    async fn complete_task(&self, ctx: &Context<'_>, id: ID) -> Result<Task> {
        set_completed(ctx, &id, true).await
    }

    /// Clears the completed flag; a done task goes back to todo.
    async fn uncomplete_task(&self, ctx: &Context<'_>, id: ID) -> Result<Task> {
        set_completed(ctx, &id, false).await
    }
}
