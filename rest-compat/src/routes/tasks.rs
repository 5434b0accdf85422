//! `/api/v1/tasks`: the caller's tasks, one GraphQL operation per request.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::AppState;
use super::auth::MeData;
use crate::auth::Caller;
use crate::body::Body;
use crate::error::{Error, Issue};
use crate::models::{GraphqlTask, GraphqlTaskPage, Task, TaskList};
use crate::operations::{
    COMPLETE_TASK, CREATE_TASK, DELETE_TASK, LIST_TASKS, READ_TASK, UNCOMPLETE_TASK, UPDATE_TASK,
};
use crate::requests::{self, with_task_id};
use crate::validation;

/// GraphQL's `Int` is 32-bit; a larger `skip` reads past every task anyway.
const GRAPHQL_INT_MAX: i64 = i32::MAX as i64;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserTasks {
    tasks: GraphqlTaskPage,
}

#[derive(Deserialize)]
struct ReadData {
    task: Option<GraphqlTask>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateData {
    create_task: GraphqlTask,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateData {
    update_task: GraphqlTask,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteData {
    delete_task: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteData {
    complete_task: GraphqlTask,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UncompleteData {
    uncomplete_task: GraphqlTask,
}

/// The `{task_id}` segment, checked to be an integer.
fn task_id(path: Result<Path<String>, PathRejection>) -> Result<i64, Issue> {
    match path {
        Ok(Path(raw)) => validation::task_id(&raw),
        // Undecodable percent-escapes are no integer either.
        Err(_) => validation::task_id(""),
    }
}

/// The `{task_id}` of a request without a body, checked after the caller's token.
async fn path_task_id(
    app: &AppState,
    caller: &Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<i64, Error> {
    checked_task_id(app, caller, task_id(path)).await
}

async fn checked_task_id(
    app: &AppState,
    caller: &Caller,
    id: Result<i64, Issue>,
) -> Result<i64, Error> {
    caller.require()?;
    let id = id.map_err(|issue| Error::Validation(vec![issue]));
    app.authenticated_first(caller, id).await
}

/// `PUT /tasks/stats`: the original's `/tasks/{task_id}` with the id `stats`.
pub async fn update_named_stats(
    State(app): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Response, Error> {
    update_task(app, caller, validation::task_id("stats"), body).await
}

/// `DELETE /tasks/stats`: the original's `/tasks/{task_id}` with the id `stats`.
pub async fn delete_named_stats(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, Error> {
    let id = checked_task_id(&app, &caller, validation::task_id("stats")).await?;
    delete_task(app, caller, id).await
}

/// Variables naming a task: the id as GraphQL's `ID` string.
fn id_variables(id: i64) -> Value {
    json!({"id": id.to_string()})
}

fn task_response(status: StatusCode, task: GraphqlTask) -> Result<Response, Error> {
    Ok((status, Json(Task::try_from(task)?)).into_response())
}

/// Answers a bodiless request on `/tasks/{task_id}…` with the task that
/// `operation` (taking only the id) returns, picked out of its data by `task`.
async fn answer_with_task<D: DeserializeOwned>(
    app: &AppState,
    caller: &Caller,
    path: Result<Path<String>, PathRejection>,
    operation: &str,
    task: impl FnOnce(D) -> Result<GraphqlTask, Error>,
) -> Result<Response, Error> {
    let id = path_task_id(app, caller, path).await?;
    let data: D = app
        .send_as(caller, operation, id_variables(id), &Value::Null)
        .await?;
    task_response(StatusCode::OK, task(data)?)
}

pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<TaskList>, Error> {
    caller.require()?;
    let query = app
        .authenticated_first(&caller, requests::list_query(query.as_deref()))
        .await?;
    let variables = json!({
        "filter": query.filter,
        "skip": query.skip.min(GRAPHQL_INT_MAX),
        "limit": query.limit,
    });
    let data: MeData<UserTasks> = app
        .send_as(&caller, LIST_TASKS, variables, &Value::Null)
        .await?;
    Ok(Json(TaskList::from_page(
        data.viewer()?.tasks,
        query.skip,
        query.limit,
    )?))
}

pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Response, Error> {
    let body = body.as_json();
    caller.require()?;
    let input = app
        .authenticated_first(
            &caller,
            requests::create_task_input(&body).map_err(Error::Validation),
        )
        .await?;
    let data: CreateData = app
        .send_as(&caller, CREATE_TASK, json!({"input": input}), &body)
        .await?;
    task_response(StatusCode::CREATED, data.create_task)
}

pub async fn read(
    State(app): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    answer_with_task(&app, &caller, path, READ_TASK, |data: ReadData| {
        data.task.ok_or(Error::TaskNotFound)
    })
    .await
}

pub async fn update(
    State(app): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, Error> {
    update_task(app, caller, task_id(path), body).await
}

async fn update_task(
    app: AppState,
    caller: Caller,
    id: Result<i64, Issue>,
    body: Body,
) -> Result<Response, Error> {
    let body = body.as_json();
    caller.require()?;
    let (id, input) = app
        .authenticated_first(
            &caller,
            with_task_id(id, requests::update_task_input(&body)),
        )
        .await?;
    let variables = json!({"id": id.to_string(), "input": input});
    let data: UpdateData = app.send_as(&caller, UPDATE_TASK, variables, &body).await?;
    task_response(StatusCode::OK, data.update_task)
}

pub async fn delete(
    State(app): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, Error> {
    let id = path_task_id(&app, &caller, path).await?;
    delete_task(app, caller, id).await
}

async fn delete_task(app: AppState, caller: Caller, id: i64) -> Result<StatusCode, Error> {
    let data: DeleteData = app
        .send_as(&caller, DELETE_TASK, id_variables(id), &Value::Null)
        .await?;
    if data.delete_task {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::TaskNotFound)
    }
}

pub async fn complete(
    State(app): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    answer_with_task(&app, &caller, path, COMPLETE_TASK, |data: CompleteData| {
        Ok(data.complete_task)
    })
    .await
}

pub async fn incomplete(
    State(app): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    answer_with_task(
        &app,
        &caller,
        path,
        UNCOMPLETE_TASK,
        |data: UncompleteData| Ok(data.uncomplete_task),
    )
    .await
}
