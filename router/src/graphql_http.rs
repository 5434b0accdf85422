//! GraphQL over HTTP (the GraphQL-over-HTTP spec): reads a request from a GET
//! query string or a JSON POST body, negotiates the response media type,
//! checks the edge token and the limits, runs the engine and answers with the
//! status code the spec asks for.
//!
//! In order: CSRF prevention (`csrf`, headers only), the edge token, the body's
//! transport checks, then per operation (one, or each of a batch, see `batching`):
//! the document from the request or a persisted one (`apq`, `trusted_documents`),
//! the limits (whatever the document's origin), cost, and execution — streamed
//! when the query defers fragments and the client takes multipart (`defer`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_graphql_parser::types::OperationType;
use axum::body::Body;
use axum::extract::Query;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::apq::{DocumentSource, Resolved};
use crate::config::{RequestLimits, ResponseLimits};
use crate::engine::{
    Data, Engine, GraphQLError, GraphQLRequest, Location, Outcome, OverCap, RequestContext,
    RequestErrorKind,
};
use crate::error::{Error, bound_errors, bounded_text, refusal_status, serialised_body};
use crate::http::AppState;
use crate::in_flight::InFlight;
use crate::negotiation::ResponseMediaType;
use crate::{defer, demand_control, graphiql, limits};

/// Answers one GraphQL request (GET or POST).
pub async fn serve(
    state: &AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    // Counts the request as abandoned if this future is dropped before it answers
    // (the client went away): everything it was doing is dropped with it.
    let mut unanswered = Unanswered {
        metrics: &state.metrics,
        answered: false,
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    // A client that takes only incremental delivery still gets JSON for whatever is not streamed.
    let negotiated = ResponseMediaType::negotiate(accept)
        .or_else(|| defer::accepts_multipart(accept).then_some(ResponseMediaType::Json));
    // Only headers are read: a refused request costs nothing more.
    if let Err(refusal) = state.csrf.check(&headers) {
        unanswered.answered = true;
        return Error::Csrf(refusal)
            .into_response_as(negotiated.unwrap_or(ResponseMediaType::Json));
    }
    let response = match negotiated {
        None => Error::NotAcceptable.into_response_as(ResponseMediaType::Json),
        Some(media) => match execute(state, &method, &uri, &headers, body, media).await {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(%error, "request refused at the edge");
                error.bounded(&state.responses).into_response_as(media)
            }
        },
    };
    unanswered.answered = true;
    tracing::info!(
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "graphql request"
    );
    response
}

struct Unanswered<'a> {
    metrics: &'a crate::metrics::Metrics,
    answered: bool,
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.metrics.record_abandoned_request();
        }
    }
}

async fn execute(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    media: ResponseMediaType,
) -> Result<Response, Error> {
    if let Some(verifier) = &state.edge_auth
        && let Err(refusal) = verifier.verify(headers)
    {
        tracing::debug!(%refusal, "bearer token refused at the edge");
        return Err(Error::Unauthenticated);
    }
    let source = if method == Method::GET {
        source_from_query_string(uri, &state.limits)?
    } else {
        match read_body(state, headers, body).await? {
            Value::Array(operations) => {
                return crate::batching::serve(state, operations, headers, media).await;
            }
            value => source_from_json(value)?,
        }
    };
    match run_operation(state, source, headers, method == Method::GET, media, true).await? {
        Answer::Json(status, body) => Ok(serialised_body(
            status,
            media,
            body.serialise(&state.responses),
        )),
        Answer::Serialised(status, body) => Ok(serialised_body(status, media, body)),
        Answer::Stream(response) => Ok(response),
    }
}

/// Runs one operation (of a request, or of a batch): finds its document, checks it
/// against the limits, cost and schema, executes it. The body is the GraphQL response.
pub(crate) async fn run_operation(
    state: &AppState,
    source: DocumentSource,
    headers: &HeaderMap,
    is_get: bool,
    media: ResponseMediaType,
    may_stream: bool,
) -> Result<Answer, Error> {
    let Resolved {
        mut request,
        register,
    } = state.persisted.resolve(source)?;
    let (checked, work) = check_document(state, &request.query).await?;
    state.metrics.record_limit_work(work.selections_visited);
    let checked = checked.map_err(|refusal| match refusal {
        limits::Refusal::Limit(error) => limit_error(error),
        limits::Refusal::Syntax(error) => parse_error(error),
        limits::Refusal::FragmentCycle(name) => Error::refused(
            RequestErrorKind::Validation,
            format!("Cannot spread fragment \"{name}\" within itself."),
            "GRAPHQL_VALIDATION_FAILED",
            None,
            Map::new(),
        ),
    })?;
    // Only a document that passed the limits is kept for hash-only requests.
    if let Some(hash) = register {
        state.persisted.register(&hash, &request.query);
    }
    let operation_type = checked
        .operation_types
        .selected(request.operation_name.as_deref());
    if is_get && operation_type == Some(OperationType::Mutation) {
        return Err(Error::MutationViaGet);
    }

    let context = RequestContext {
        forwarded_headers: state.forwarded_headers(headers),
        request_id: headers
            .get(common::server::REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    };
    let demand_control = &state.demand_control;
    // The estimate refused above the maximum (enforce mode only): a streamed `@defer` charges it again.
    let mut enforced_estimate = None;
    let cost = match demand_control::select_operation(
        &checked.document,
        request.operation_name.as_deref(),
    ) {
        Some(operation) if demand_control.settings.mode != demand_control::Mode::Off => {
            let model = demand_control.model();
            let no_variables = Map::new();
            let variables = request.variables.as_ref().unwrap_or(&no_variables);
            let estimate = demand_control::Estimator::estimate(
                &model,
                &demand_control.settings,
                &checked.document,
                operation,
                variables,
            );
            let enforce = demand_control.settings.mode == demand_control::Mode::Enforce;
            match estimate {
                Ok(estimated) => {
                    let max = demand_control.settings.max_cost;
                    let refused = enforce && estimated > max;
                    state.metrics.record_estimated_cost(estimated, refused);
                    if refused {
                        return Err(Error::Cost(demand_control::CostError::TooExpensive {
                            estimated,
                            max,
                        }));
                    }
                    if enforce {
                        enforced_estimate = Some(estimated);
                    }
                    Some((model, operation))
                }
                Err(error) if enforce => return Err(Error::Cost(error)),
                Err(_) => Some((model, operation)),
            }
        }
        _ => None,
    };

    // `@defer`: streamed to clients that take multipart, else removed (the whole response).
    if defer::mentions_defer(&request.query) {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok());
        let split = (may_stream && defer::accepts_multipart(accept))
            .then(|| {
                defer::split(
                    &request.query,
                    &checked.document,
                    request.operation_name.as_deref(),
                    request.variables.as_ref(),
                )
            })
            .flatten();
        if let Some(split) = split {
            // Each deferred fragment runs as an operation of its own (planned and fetched on
            // its way to the fragment): one charge per execution, so that N `@defer`s do not
            // cost the price of one. The whole estimate bounds each execution's own.
            if let Some(estimated) = enforced_estimate {
                let charged = estimated * (1 + split.deferred.len()) as f64;
                let max = demand_control.settings.max_cost;
                if charged > max {
                    state.metrics.record_cost_refusal();
                    return Err(Error::Cost(demand_control::CostError::TooExpensive {
                        estimated: charged,
                        max,
                    }));
                }
            }
            return crate::defer_stream::serve(state, request, split, context, media)
                .await
                .map(Answer::Stream);
        }
        if let Some(whole) = defer::without_defer(&request.query, &checked.document) {
            request.query = whole;
        }
    }

    let engine = state.engine.current();
    // Development mode only: plans reveal the subgraphs behind the API.
    let query_plan = (state.graphiql.dev && headers.contains_key(graphiql::QUERY_PLAN_HEADER))
        .then(|| {
            engine
                .query_plan(&request.query, request.operation_name.as_deref())
                .ok()
        })
        .flatten();
    let execution = Execution {
        state: state.clone(),
        engine,
        measure_cost: cost.is_some(),
        checked,
        media,
        query_plan,
    };
    let shareable = state.inbound_dedup.is_some()
        && may_stream
        && operation_type == Some(OperationType::Query)
        && execution.query_plan.is_none();
    if let (true, Some(in_flight)) = (shareable, &state.inbound_dedup) {
        let key = OperationKey::new(&execution, &request, &context);
        let joined = in_flight.join(key, move || execution.serialised(request, context));
        if joined.shared {
            state.metrics.record_shared_operation();
        }
        let (status, body) = within_deadline(state, joined.work).await?;
        return Ok(Answer::Serialised(status, body));
    }
    let (status, body) = within_deadline(state, execution.run(request, context)).await?;
    Ok(Answer::Json(status, body))
}

/// The deadline drops the whole execution (planning's result, every fetch,
/// merging); so does a client that goes away, as the server then drops this
/// future. A shared execution ends when the last request waiting for it does.
async fn within_deadline<T>(state: &AppState, work: impl Future<Output = T>) -> Result<T, Error> {
    tokio::time::timeout(state.request_timeout, work)
        .await
        .map_err(|_| Error::Timeout {
            after: state.request_timeout,
        })
}

/// A checked operation, ready to run: everything its execution needs, owned, so
/// that identical requests in flight can share it (inbound deduplication).
struct Execution {
    state: AppState,
    engine: Arc<Engine>,
    /// Demand control wants the response's actual cost.
    measure_cost: bool,
    checked: Arc<limits::CheckedDocument>,
    media: ResponseMediaType,
    /// Development mode: the plan, given back in `extensions`.
    query_plan: Option<String>,
}

impl Execution {
    /// Executes and builds the GraphQL response: its status and body.
    async fn run(
        self,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> (StatusCode, ResponseBody) {
        let operation_name = request.operation_name.clone();
        let response = self.engine.execute(request, context).await;
        let state = &self.state;
        if self.measure_cost
            && let (Some(operation), Some(data)) = (
                demand_control::select_operation(&self.checked.document, operation_name.as_deref()),
                &response.data,
            )
        {
            let model = state.demand_control.model();
            let actual =
                demand_control::actual_cost(&model, &self.checked.document, operation, data);
            state.metrics.record_actual_cost(actual);
        }
        let (status, data) = match response.outcome {
            Outcome::Executed => (StatusCode::OK, Some(response.data.unwrap_or_default())),
            Outcome::Refused(kind) => (refusal_status(kind, self.media), None),
        };
        let body = ResponseBody {
            data,
            errors: bound_errors(response.errors, &state.responses),
            extensions: self
                .query_plan
                .map(|plan| serde_json::json!({ "queryPlan": { "text": plan } })),
        };
        (status, body)
    }

    /// [`Execution::run`], serialised once for every request sharing it.
    async fn serialised(
        self,
        request: GraphQLRequest,
        context: RequestContext,
    ) -> (StatusCode, Bytes) {
        let limits = self.state.responses;
        let (status, body) = self.run(request, context).await;
        (status, body.serialise(&limits))
    }
}

/// What makes two client operations identical for inbound deduplication: all
/// that reaches the plan or a subgraph. The request id and trace context are
/// not part of it (a shared execution carries the first request's).
#[derive(PartialEq, Eq, Hash, Clone)]
pub(crate) struct OperationKey {
    /// The supergraph it runs on: a request after a reload never joins one before it.
    engine: usize,
    media: ResponseMediaType,
    query: Arc<str>,
    operation_name: Option<Arc<str>>,
    /// The variables as JSON text (as sent: the same values in another key order are another key).
    variables: Arc<str>,
    /// `Authorization` and every forwarded header, in order.
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

impl OperationKey {
    fn new(execution: &Execution, request: &GraphQLRequest, context: &RequestContext) -> Self {
        OperationKey {
            engine: Arc::as_ptr(&execution.engine) as usize,
            media: execution.media,
            query: request.query.as_str().into(),
            operation_name: request.operation_name.as_deref().map(Arc::from),
            variables: request
                .variables
                .as_ref()
                .map(|variables| serde_json::to_string(variables).unwrap_or_default())
                .unwrap_or_default()
                .into(),
            headers: context
                .forwarded_headers
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        }
    }
}

/// Identical operations in flight, sharing one serialised response.
pub(crate) type SharedOperations = InFlight<OperationKey, (StatusCode, Bytes)>;

/// A GraphQL response as sent: `data` is left out when the request was refused
/// before execution, `errors` when there are none.
#[derive(Debug, serde::Serialize)]
pub(crate) struct ResponseBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Data>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GraphQLError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

impl ResponseBody {
    /// The body as JSON text, bounded by the response limits as [`serialise_bounded`]
    /// bounds any body: `data`, nearly all of it, written straight from the
    /// executor's tree; `errors` and `extensions` by serde.
    pub(crate) fn serialise(&self, limits: &ResponseLimits) -> Bytes {
        bounded_text(limits, |out, cap| {
            let mut members = 0;
            let mut member = |out: &mut Vec<u8>, name: &str| {
                out.push(if members == 0 { b'{' } else { b',' });
                members += 1;
                out.extend_from_slice(format!("\"{name}\":").as_bytes());
            };
            if let Some(data) = &self.data {
                member(out, "data");
                data.write_json(out, cap)?;
            }
            if !self.errors.is_empty() {
                member(out, "errors");
                serde_json::to_writer(&mut *out, &self.errors).map_err(|_| OverCap)?;
            }
            if let Some(extensions) = &self.extensions {
                member(out, "extensions");
                serde_json::to_writer(&mut *out, extensions).map_err(|_| OverCap)?;
            }
            if members == 0 {
                out.push(b'{');
            }
            out.push(b'}');
            Ok(())
        })
    }
}

/// What one operation is answered with.
pub(crate) enum Answer {
    /// One GraphQL response.
    Json(StatusCode, ResponseBody),
    /// A GraphQL response already serialised (and bounded by the response limits).
    Serialised(StatusCode, Bytes),
    /// Incremental delivery of a deferred query (see `defer`).
    Stream(Response),
}

/// Documents longer than this are checked on the blocking pool: parsing a
/// large document takes milliseconds that must not hold an async worker (and
/// every request queued behind it).
const INLINE_CHECK_BYTES: usize = 4 * 1024;

/// Traced as the span `parse` (tracing on).
async fn check_document(
    state: &AppState,
    query: &str,
) -> Result<
    (
        Result<std::sync::Arc<limits::CheckedDocument>, limits::Refusal>,
        limits::Work,
    ),
    Error,
> {
    let _span = common::trace_context::DirectSpan::internal("parse");
    let mut work = limits::Work::default();
    if query.len() <= INLINE_CHECK_BYTES {
        let checked = state
            .checked_documents
            .check(query, &state.limits, &mut work);
        return Ok((checked, work));
    }
    let (documents, limits, query) = (
        state.checked_documents.clone(),
        state.limits,
        query.to_owned(),
    );
    tokio::task::spawn_blocking(move || {
        let checked = documents.check(&query, &limits, &mut work);
        (checked, work)
    })
    .await
    .map_err(|_| Error::BadRequest("The document could not be checked".to_owned()))
}

fn source_from_query_string(uri: &Uri, limits: &RequestLimits) -> Result<DocumentSource, Error> {
    let Query(params) = Query::<HashMap<String, String>>::try_from_uri(uri)
        .map_err(|error| Error::BadRequest(format!("The query string is malformed: {error}")))?;
    let json_parameter = |name: &str| -> Result<Option<Map<String, Value>>, Error> {
        match params.get(name).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(text) => {
                common::document_scan::scan_json(text.as_bytes(), limits.max_json_nesting)
                    .map_err(Error::Limit)?;
                let value = serde_json::from_str::<Value>(text).map_err(|error| {
                    Error::BadRequest(format!("The {name} parameter is not valid JSON: {error}"))
                })?;
                optional_map(name, value)
            }
        }
    };
    let non_empty = |name: &str| {
        params
            .get(name)
            .filter(|value| !value.trim().is_empty())
            .cloned()
    };
    Ok(DocumentSource {
        // A blank query is a missing one: the document may then come from `extensions` or `documentId`.
        query: non_empty("query"),
        variables: json_parameter("variables")?,
        extensions: json_parameter("extensions")?,
        operation_name: non_empty("operationName"),
        document_id: non_empty("documentId"),
    })
}

/// The JSON of a POST body (an object, or a batch's array), after the transport checks.
async fn read_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Value, Error> {
    check_content_type(headers)?;
    let max_bytes = state.limits.max_body_bytes;
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > max_bytes) {
        return Err(Error::PayloadTooLarge { max_bytes });
    }
    let bytes = axum::body::to_bytes(body, max_bytes)
        .await
        .map_err(|error| {
            if is_length_limit(&error) {
                Error::PayloadTooLarge { max_bytes }
            } else {
                Error::BadRequest("The request body could not be read".to_owned())
            }
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::BadRequest(
            "The request body is empty: expected a JSON object with a query".to_owned(),
        ));
    }
    common::document_scan::scan_json(&bytes, state.limits.max_json_nesting)
        .map_err(Error::Limit)?;
    serde_json::from_slice::<Value>(&bytes)
        .map_err(|error| Error::BadRequest(format!("The request body is not valid JSON: {error}")))
}

/// One operation's request object (a POST body, or one element of a batch).
pub(crate) fn source_from_json(value: Value) -> Result<DocumentSource, Error> {
    let Value::Object(mut fields) = value else {
        return Err(Error::BadRequest(
            "The request body must be a JSON object".to_owned(),
        ));
    };
    let query = match fields.remove("query") {
        Some(Value::String(query)) => Some(query),
        None | Some(Value::Null) => None,
        Some(_) => {
            return Err(Error::BadRequest(
                "The query parameter must be a string".to_owned(),
            ));
        }
    };
    let string = |fields: &mut Map<String, Value>, name: &str| match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(Error::BadRequest(format!(
            "The {name} parameter must be a string"
        ))),
    };
    Ok(DocumentSource {
        query,
        operation_name: string(&mut fields, "operationName")?,
        document_id: string(&mut fields, "documentId")?,
        variables: fields
            .remove("variables")
            .map_or(Ok(None), |value| optional_map("variables", value))?,
        extensions: fields
            .remove("extensions")
            .map_or(Ok(None), |value| optional_map("extensions", value))?,
    })
}

/// `variables` and `extensions` are maps or null.
fn optional_map(name: &str, value: Value) -> Result<Option<Map<String, Value>>, Error> {
    match value {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        _ => Err(Error::BadRequest(format!(
            "The {name} parameter must be a JSON object"
        ))),
    }
}

/// POST bodies must be `application/json`, in UTF-8 (the default when no charset is given).
fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
        return Err(Error::UnsupportedMediaType(
            "A POST request needs Content-Type: application/json".to_owned(),
        ));
    };
    let content_type = content_type.to_str().unwrap_or_default();
    let mut parts = content_type.split(';');
    let media_type = parts.next().unwrap_or_default().trim();
    let charset_is_utf8 = parts
        .filter_map(|param| param.split_once('='))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .all(|(_, value)| value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8"));
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(Error::UnsupportedMediaType(format!(
            "Content-Type {content_type:?} is not supported: send application/json"
        )));
    }
    if !charset_is_utf8 {
        return Err(Error::UnsupportedMediaType(format!(
            "Content-Type {content_type:?} is not supported: the body must be UTF-8"
        )));
    }
    Ok(())
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

fn limit_error(error: limits::LimitExceeded) -> Error {
    if error.limit.always_bad_request() {
        return Error::Limit(error);
    }
    let extensions = Map::from_iter([
        ("limit".to_owned(), Value::from(error.limit.name())),
        ("max".to_owned(), Value::from(error.max)),
    ]);
    Error::refused(
        RequestErrorKind::Validation,
        error.to_string(),
        error.limit.code(),
        None,
        extensions,
    )
}

fn parse_error(error: async_graphql_parser::Error) -> Error {
    let locations: Vec<Location> = error
        .positions()
        .map(|pos| Location {
            line: pos.line,
            column: pos.column,
        })
        .collect();
    let message = match &error {
        async_graphql_parser::Error::Syntax { message, .. } => {
            // pest's message spans several lines with a picture of the source; the last line says what was expected.
            let reason = message
                .lines()
                .rev()
                .find(|line| line.trim_start().starts_with('='))
                .map_or(message.as_str(), |line| {
                    line.trim_start().trim_start_matches('=').trim()
                });
            format!("Syntax Error: {reason}")
        }
        other => format!("Syntax Error: {other}"),
    };
    Error::refused(
        RequestErrorKind::Parse,
        message,
        "GRAPHQL_PARSE_FAILED",
        (!locations.is_empty()).then_some(locations),
        Map::new(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The hand-written envelope and the derived one (used in batches) agree.
    #[test]
    fn a_response_body_is_written_as_serde_would_write_it() {
        let limits = ResponseLimits::default();
        let error = GraphQLError::new("broken").with_code("SOME_CODE");
        for (data, errors, extensions) in [
            (None, vec![], None),
            (None, vec![error.clone()], None),
            (Some(Data::Null), vec![], None),
            (
                Some(Data::from(json!({"a": [1, "two", {"b": null}]}))),
                vec![error.clone(), error],
                Some(json!({"queryPlan": {"text": "QueryPlan {}"}})),
            ),
        ] {
            let body = ResponseBody {
                data,
                errors,
                extensions,
            };
            let expected = serde_json::to_vec(&body).expect("serialises");
            assert_eq!(
                String::from_utf8_lossy(&body.serialise(&limits)),
                String::from_utf8_lossy(&expected)
            );
        }
    }
}
