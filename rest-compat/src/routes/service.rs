//! `/` and `/health`: what the original answered there.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub const SERVICE_NAME: &str = "rest-compat";

pub fn routes() -> Router {
    Router::new()
        .route("/", get(root))
        .merge(common::server::health_routes(SERVICE_NAME, None))
}

async fn root() -> Json<Value> {
    Json(json!({
        "name": "TaskTracker API",
        "version": env!("CARGO_PKG_VERSION"),
        "status": "running",
    }))
}
