//! `/` and `/health`: what the original answered there; `/ready`: whether the
//! router (everything this layer needs) answers, so that a load balancer stops
//! sending traffic here while the router is down.

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::graphql::RouterClient;

/// Its name in logs and `/health`, from the one table of services.
pub const SERVICE_NAME: &str = common::server::ServiceName::RestCompat.as_str();

/// How long `/ready` waits for the router's answer.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes(router: RouterClient) -> Router {
    let report: common::server::ReadyReport = Arc::new(move || {
        let router = router.clone();
        Box::pin(async move {
            let reachable = router.is_reachable(READY_TIMEOUT).await;
            let mut details = serde_json::Map::new();
            details.insert("router".into(), json!({"reachable": reachable}));
            (reachable, details)
        })
    });
    Router::new()
        .route("/", get(root))
        .merge(common::server::health_routes_with_report(
            SERVICE_NAME,
            report,
        ))
}

async fn root() -> Json<Value> {
    Json(json!({
        "name": "TaskTracker API",
        "version": env!("CARGO_PKG_VERSION"),
        "status": "running",
    }))
}
