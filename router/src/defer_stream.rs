//! Serving a split query (see `defer`) as `multipart/mixed`: the deferred
//! operations start first, the primary's answer is the first part as soon as it
//! is ready, then each deferred fragment's part as its operation finishes, in
//! whatever order they finish, `hasNext` false on the last. A client that goes
//! away drops the body, and with it every operation still running.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::{Map, Value, json};

use crate::defer::{self, Deferred, Split};
use crate::engine::{Data, GraphQLRequest, Outcome, RequestContext};
use crate::error::{Error, bound_errors, bounded_body, refusal_status};
use crate::http::AppState;
use crate::negotiation::ResponseMediaType;

/// A deferred operation running on its own task; dropping it stops the task.
struct Running(tokio::task::JoinHandle<Value>);

impl Future for Running {
    type Output = Value;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Value> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|_| {
                json!({ "data": null, "path": [], "errors": [{
                    "message": "The deferred part could not be computed",
                    "extensions": { "code": "INTERNAL_SERVER_ERROR" },
                }] })
            })
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `split` and answers with the multipart stream, or with an ordinary
/// response when the primary operation is refused.
pub async fn serve(
    state: &AppState,
    request: GraphQLRequest,
    split: Split,
    context: RequestContext,
    media: ResponseMediaType,
) -> Result<Response, Error> {
    let engine = state.engine.current();
    let running: FuturesUnordered<Running> = split
        .deferred
        .into_iter()
        .map(|deferred| {
            let (engine, context) = (engine.clone(), context.clone());
            let request = GraphQLRequest {
                query: deferred.query.clone(),
                ..request.clone()
            };
            let (timeout, limits) = (state.request_timeout, state.responses);
            Running(tokio::spawn(async move {
                let answer = tokio::time::timeout(timeout, engine.execute(request, context)).await;
                let items = match answer {
                    Ok(response) => {
                        let errors = bound_errors(response.errors, &limits);
                        let data = response.data.map(Data::into_json);
                        defer::incremental_items(&deferred, data.as_ref(), &errors)
                    }
                    Err(_) => timed_out(&deferred, timeout),
                };
                Value::Array(items)
            }))
        })
        .collect();
    let primary = GraphQLRequest {
        query: split.primary,
        ..request
    };
    let response = tokio::time::timeout(state.request_timeout, engine.execute(primary, context))
        .await
        .map_err(|_| Error::Timeout {
            after: state.request_timeout,
        })?;
    let errors = bound_errors(response.errors, &state.responses);
    let mut initial = Map::new();
    match response.outcome {
        Outcome::Executed => {
            let data = response.data.map_or(Value::Null, Data::into_json);
            initial.insert("data".to_owned(), data);
        }
        Outcome::Refused(kind) => {
            // Nothing was executed: an ordinary error response, and the deferred operations stop.
            drop(running);
            let body = json!({ "errors": errors });
            return Ok(bounded_body(
                refusal_status(kind, media),
                media,
                &body,
                &state.responses,
            ));
        }
    }
    if !errors.is_empty() {
        initial.insert(
            "errors".to_owned(),
            serde_json::to_value(&errors).unwrap_or_default(),
        );
    }
    initial.insert("hasNext".to_owned(), Value::Bool(!running.is_empty()));

    let has_next = !running.is_empty();
    let mut first = bytes::BytesMut::from(defer::OPENING.as_bytes());
    first.extend_from_slice(&defer::part(&Value::Object(initial), has_next));
    let first = futures::stream::once(std::future::ready(first.freeze()));
    let rest = futures::stream::unfold(running, |mut running| async move {
        let items = running.next().await?;
        let has_next = !running.is_empty();
        let mut payload = Map::new();
        payload.insert("hasNext".to_owned(), Value::Bool(has_next));
        if items.as_array().is_some_and(|items| !items.is_empty()) {
            payload.insert("incremental".to_owned(), items);
        }
        Some((defer::part(&Value::Object(payload), has_next), running))
    });
    let stream = first.chain(rest).map(Ok::<_, std::convert::Infallible>);
    let mut answer = Response::new(Body::from_stream(stream));
    *answer.status_mut() = StatusCode::OK;
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(defer::CONTENT_TYPE),
    );
    Ok(answer)
}

fn timed_out(deferred: &Deferred, timeout: std::time::Duration) -> Vec<Value> {
    let mut item = json!({ "data": null, "path": [], "errors": [{
        "message": format!("The request took longer than the limit (request-timeout-ms) of {} ms", timeout.as_millis()),
        "extensions": { "code": "GATEWAY_TIMEOUT" },
    }] });
    if let Some(label) = &deferred.label {
        item["label"] = Value::from(label.as_str());
    }
    vec![item]
}
