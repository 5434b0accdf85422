//! The two statistics endpoints: `/tasks/stats` (counts from the tasks
//! subgraph) and `/stats/` (the stats subgraph's summary).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::AppState;
use super::auth::MeData;
use crate::auth::Caller;
use crate::error::Error;
use crate::models::{TaskStats, UserStats};
use crate::operations::{TASK_COUNTS, USER_STATS};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithCounts {
    task_counts: TaskStats,
}

#[derive(Deserialize)]
struct WithStats {
    stats: UserStats,
}

pub async fn task_stats(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<TaskStats>, Error> {
    viewer_answer(&app, &caller, TASK_COUNTS, |me: WithCounts| me.task_counts).await
}

pub async fn user_stats(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<UserStats>, Error> {
    viewer_answer(&app, &caller, USER_STATS, |me: WithStats| me.stats).await
}

/// Sends a `me` query without variables and turns the viewer's part of the answer into
/// the REST body.
async fn viewer_answer<T: DeserializeOwned, R>(
    app: &AppState,
    caller: &Caller,
    operation: &str,
    answer: impl FnOnce(T) -> R,
) -> Result<Json<R>, Error> {
    let data: MeData<T> = app
        .send_as(caller, operation, json!({}), &Value::Null)
        .await?;
    Ok(Json(answer(data.viewer()?)))
}
