//! Query batching: a POST body that is a JSON array of operations, answered
//! with an array of responses in the same order, as Apollo Client's
//! `BatchHttpLink` and Apollo Router's batching speak. It saves round trips for
//! clients that fire many small operations at once. Each operation is found,
//! checked, planned and executed on its own (concurrently), exactly as if it had
//! come alone: one operation's refusal is that operation's response, not the
//! batch's. Off by default (a batch multiplies what one request costs); the
//! batch size is bounded.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clap::Args;
use serde_json::Value;

use crate::config::Switch;
use crate::error::{Error, bounded_body};
use crate::graphql_http::{Answer, ResponseBody, run_operation, source_from_json};
use crate::http::AppState;
use crate::negotiation::ResponseMediaType;

/// A batch arrived while batching is off.
pub const NOT_ENABLED: &str = "BATCHING_NOT_ENABLED";
/// A batch has more operations than `--batching-max-size`.
pub const LIMIT_EXCEEDED: &str = "BATCH_LIMIT_EXCEEDED";

/// Command line of query batching.
#[derive(Debug, Clone, Copy, Args)]
pub struct BatchingArgs {
    /// Accept a JSON array of operations in one POST, answered with an array of responses in order.
    #[arg(long = "batching", env = "ROUTER_BATCHING", value_enum, default_value_t = Switch::Off)]
    pub batching: Switch,

    /// Most operations in one batch.
    #[arg(id = "batching_max_size", long = "batching-max-size", env = "ROUTER_BATCHING_MAX_SIZE", default_value_t = BatchingArgs::DEFAULT_MAX_SIZE)]
    pub max_size: usize,
}

impl BatchingArgs {
    pub const DEFAULT_MAX_SIZE: usize = 32;
}

impl Default for BatchingArgs {
    fn default() -> Self {
        Self {
            batching: Switch::Off,
            max_size: Self::DEFAULT_MAX_SIZE,
        }
    }
}

/// Answers a batch: 200 with one response per operation, or a coded 400 when
/// batching is off, the batch is empty or too large.
pub async fn serve(
    state: &AppState,
    operations: Vec<Value>,
    headers: &HeaderMap,
    media: ResponseMediaType,
) -> Result<Response, Error> {
    let settings = state.batching;
    if settings.batching == Switch::Off {
        return Err(Error::Batch {
            message: "Batches of operations are not enabled on this router (--batching on)"
                .to_owned(),
            code: NOT_ENABLED,
        });
    }
    if operations.is_empty() {
        return Err(Error::BadRequest(
            "The batch is empty: expected at least one operation".to_owned(),
        ));
    }
    if operations.len() > settings.max_size {
        return Err(Error::Batch {
            message: format!(
                "The batch has {} operations, more than the limit (batching-max-size) of {}",
                operations.len(),
                settings.max_size
            ),
            code: LIMIT_EXCEEDED,
        });
    }
    let answers = futures::future::join_all(operations.into_iter().map(|operation| async move {
        // Never streamed: a batch's answer is one JSON array (`@defer` is then removed).
        let outcome = match source_from_json(operation) {
            Ok(source) => run_operation(state, source, headers, false, media, false).await,
            Err(error) => Err(error),
        };
        match outcome {
            Ok(Answer::Json(_, body)) => BatchAnswer::Executed(body),
            // Only single operations share an execution; a batch's are run as values.
            Ok(Answer::Serialised(_, body)) => {
                BatchAnswer::Refused(serde_json::from_slice(&body).unwrap_or(Value::Null))
            }
            Ok(Answer::Stream(_)) => BatchAnswer::Refused(
                Error::BadRequest("An operation of a batch cannot be streamed".to_owned())
                    .into_parts(media)
                    .1,
            ),
            Err(error) => BatchAnswer::Refused(error.bounded(&state.responses).into_parts(media).1),
        }
    }))
    .await;
    Ok(bounded_body(
        StatusCode::OK,
        media,
        &answers,
        &state.responses,
    ))
}

/// One operation's place in a batch's answer.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum BatchAnswer {
    Executed(ResponseBody),
    /// The error body of an operation that did not run.
    Refused(Value),
}
