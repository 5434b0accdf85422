//! `/api/v1/tasks`: the caller's tasks, one GraphQL operation per request.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::AppState;
use super::auth::MeData;
use crate::auth::Caller;
use crate::body::Body;
use crate::error::{Error, Issue};
use crate::models::{GraphqlTaskPage, Task, TaskList};
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
    task: Option<Task>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateData {
    create_task: Task,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateData {
    update_task: Task,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteData {
    delete_task: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteData {
    complete_task: Task,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UncompleteData {
    uncomplete_task: Task,
}

/// A request on `/tasks/{task_id}…`: the layer's state, the caller, and the
/// `{task_id}` segment checked to be an integer (not yet reported: a bad id is
/// answered after the caller's token, as the original does).
pub struct OnTask {
    app: AppState,
    caller: Caller,
    id: Result<i64, Issue>,
}

impl FromRequestParts<AppState> for OnTask {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Infallible> {
        let id = match Path::<String>::from_request_parts(parts, app).await {
            Ok(Path(raw)) => validation::task_id(&raw),
            // Undecodable percent-escapes are no integer either.
            Err(_) => validation::task_id(""),
        };
        let Ok(caller) = Caller::from_request_parts(parts, app).await;
        Ok(OnTask {
            app: app.clone(),
            caller,
            id,
        })
    }
}

impl OnTask {
    /// The task id of a request without a body, checked after the caller's token.
    async fn checked_id(&self) -> Result<i64, Error> {
        checked_task_id(&self.app, &self.caller, self.id.clone()).await
    }

    /// Answers a bodiless request with the task that `operation` (taking only
    /// the id) returns, picked out of its data by `task`.
    async fn answer<D: DeserializeOwned>(
        self,
        operation: &str,
        task: impl FnOnce(D) -> Result<Task, Error>,
    ) -> Result<Response, Error> {
        let id = self.checked_id().await?;
        let data: D = self
            .app
            .send_as(&self.caller, operation, id_variables(id), &Value::Null)
            .await?;
        task_response(StatusCode::OK, task(data)?)
    }
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

fn task_response(status: StatusCode, task: Task) -> Result<Response, Error> {
    Ok((status, Json(task)).into_response())
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
    let page = data.viewer()?.tasks;
    Ok(Json(TaskList::from_page(page, query.skip, query.limit)))
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

pub async fn read(on: OnTask) -> Result<Response, Error> {
    on.answer(READ_TASK, |data: ReadData| {
        data.task.ok_or(Error::TaskNotFound)
    })
    .await
}

pub async fn update(on: OnTask, body: Body) -> Result<Response, Error> {
    update_task(on.app, on.caller, on.id, body).await
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

pub async fn delete(on: OnTask) -> Result<StatusCode, Error> {
    let id = on.checked_id().await?;
    delete_task(on.app, on.caller, id).await
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

pub async fn complete(on: OnTask) -> Result<Response, Error> {
    on.answer(COMPLETE_TASK, |data: CompleteData| Ok(data.complete_task))
        .await
}

pub async fn incomplete(on: OnTask) -> Result<Response, Error> {
    on.answer(UNCOMPLETE_TASK, |data: UncompleteData| {
        Ok(data.uncomplete_task)
    })
    .await
}
