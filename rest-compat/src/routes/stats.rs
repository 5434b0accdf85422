//! The two statistics endpoints: `/tasks/stats` (counts from the tasks
//! subgraph) and `/stats/` (the stats subgraph's summary).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::MeData;
use crate::auth::Caller;
use crate::error::Error;
use crate::models::{GraphqlTaskCounts, GraphqlUserStats, TaskStats, UserStats};
use crate::operations::{TASK_COUNTS, USER_STATS};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithCounts {
    task_counts: GraphqlTaskCounts,
}

#[derive(Deserialize)]
struct WithStats {
    stats: GraphqlUserStats,
}

pub async fn task_stats(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<TaskStats>, Error> {
    let data: MeData<WithCounts> = app
        .send_as(&caller, TASK_COUNTS, json!({}), &Value::Null)
        .await?;
    Ok(Json(TaskStats::from(data.viewer()?.task_counts)))
}

pub async fn user_stats(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<UserStats>, Error> {
    let data: MeData<WithStats> = app
        .send_as(&caller, USER_STATS, json!({}), &Value::Null)
        .await?;
    Ok(Json(UserStats::from(data.viewer()?.stats)))
}
