//! W3C trace context across our services, and the spans that only traces need.
//!
//! A request's trace is joined from service to service by the `traceparent` header
//! (W3C Trace Context): accepted from clients on every service's HTTP span
//! ([`server_span`]), sent on every call to another service ([`current_headers`], [`DirectSpan::headers`]:
//! rest-compat → router, router → subgraphs, tasks → users), and each SQL statement
//! becomes a span of its own under the resolver that ran it ([`SqlStatementSpans`]).
//! Everything here is a no-op unless [`crate::telemetry::enabled`].

use std::time::{Duration, SystemTime};

use axum::extract::MatchedPath;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request};
use opentelemetry::KeyValue;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{Span as _, SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::field::{Field, Visit};
use tracing::{Event, Span, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::{Context as LayerContext, Layer};

use crate::telemetry::enabled;

/// Probes and scrapes are not traced: a kubelet asking `/ready` every few seconds
/// would bury the traces of real requests.
const UNTRACED_PATHS: [&str; 3] = ["/health", "/ready", "/metrics"];

/// The HTTP server span of one request (tracing on): its parent is the caller's
/// `traceparent`, when it sent a valid one, and its `trace_id` field puts the trace id
/// on every log line written while the request is served.
pub fn server_span<B>(request: &Request<B>, request_id: &str) -> Span {
    let path = request.uri().path();
    if UNTRACED_PATHS.contains(&path) {
        return tracing::info_span!(target: "tasktracker_untraced", "request", method = %request.method(), path, request_id);
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(path, MatchedPath::as_str);
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path,
        request_id,
        trace_id = tracing::field::Empty,
        otel.kind = "server",
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    // A span without an exporter (a filtered one) has no parent to set: nothing to do.
    let _ = span.set_parent(parent);
    // Set on the OpenTelemetry span only: the log lines keep their few fields.
    span.set_attribute("http.request.method", request.method().to_string());
    span.set_attribute("http.route", route.to_owned());
    let context = span.context();
    let otel_span = context.span();
    otel_span.update_name(format!("{} {route}", request.method()));
    span.record(
        "trace_id",
        tracing::field::display(otel_span.span_context().trace_id()),
    );
    span
}

/// Records the answer's status on the request's span (tracing on).
pub fn record_status(span: &Span, status: u16) {
    if enabled() {
        span.set_attribute("http.response.status_code", i64::from(status));
        if status >= 500 {
            span.set_status(opentelemetry::trace::Status::error(format!(
                "HTTP {status}"
            )));
        }
    }
}

/// The headers that carry the current span's context to another service (`traceparent`,
/// `tracestate`); empty when tracing is off or no span is current.
pub fn current_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    if enabled() {
        let context = Span::current().context();
        insert_trace_headers(&mut headers, context.span().span_context());
    }
    headers
}

/// The header names that carry trace context: they differ per caller by design, so
/// they never make two otherwise identical subgraph requests different.
pub fn is_trace_header(name: &str) -> bool {
    name == TRACEPARENT || name == TRACESTATE
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// The tracer of the spans made with the OpenTelemetry SDK directly rather than through
/// `tracing` ([`DirectSpan`]); set once when tracing is installed.
static TRACER: std::sync::OnceLock<SdkTracer> = std::sync::OnceLock::new();

/// Called by [`crate::telemetry`] when it installs the exporter.
pub(crate) fn install_tracer(provider: &SdkTracerProvider) {
    use opentelemetry::trace::TracerProvider as _;
    let _first = TRACER.set(provider.tracer("tasktracker"));
}

/// A span of the router's hot path (parse, plan, each subgraph fetch), child of the
/// current `tracing` span, ended when dropped.
///
/// It is made with the OpenTelemetry SDK, not as a `tracing` span: a `tracing` span pays
/// the registry's and the OpenTelemetry layer's bookkeeping when made, on every enter and
/// exit (every poll of an async call) and when closed, which on the router's hot path was
/// most of the cost of exporting. These spans have no `tracing` children, so nothing is
/// lost: log lines written meanwhile carry the request's trace id as before. A no-op (no
/// allocation) when tracing is off.
pub struct DirectSpan {
    span: Option<opentelemetry_sdk::trace::Span>,
}

impl DirectSpan {
    /// A client span: a call to another service (see [`DirectSpan::headers`]).
    pub fn client(name: impl FnOnce() -> String, attributes: &[(&'static str, &str)]) -> Self {
        Self::start(SpanKind::Client, name, attributes)
    }

    /// An internal span: a stage of the work of a request.
    pub fn internal(name: &'static str) -> Self {
        Self::start(SpanKind::Internal, || name.to_owned(), &[])
    }

    /// Starts the span now; `name` is only built, and `attributes` copied, when tracing is on.
    fn start(
        kind: SpanKind,
        name: impl FnOnce() -> String,
        attributes: &[(&'static str, &str)],
    ) -> Self {
        let Some(tracer) = TRACER.get().filter(|_| enabled()) else {
            return DirectSpan { span: None };
        };
        let parent = Span::current().context();
        let span = tracer
            .span_builder(name())
            .with_kind(kind)
            .with_attributes(
                attributes
                    .iter()
                    .map(|(key, value)| KeyValue::new(*key, (*value).to_owned())),
            )
            .start_with_context(tracer, &parent);
        DirectSpan { span: Some(span) }
    }

    /// `headers` plus this span's `traceparent`: the called service's spans become its children.
    pub fn headers(&self, headers: &HeaderMap) -> HeaderMap {
        let mut headers = headers.clone();
        if let Some(span) = &self.span {
            insert_trace_headers(&mut headers, span.span_context());
        }
        headers
    }

    /// Marks the call failed, with why.
    pub fn record_error(&mut self, description: impl FnOnce() -> String) {
        if let Some(span) = &mut self.span {
            span.set_status(opentelemetry::trace::Status::error(description()));
        }
    }
}

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// Writes W3C `traceparent` (version 00) and, when not empty, `tracestate` for `context`
/// (nothing for an invalid one): the one place our services put trace context on a call.
/// Written directly, because the SDK's propagator takes a global lock and formats through
/// `format!` on every call, and sends an empty `tracestate`.
fn insert_trace_headers(headers: &mut HeaderMap, context: &opentelemetry::trace::SpanContext) {
    use std::fmt::Write as _;
    if !context.is_valid() {
        return;
    }
    let mut traceparent = String::with_capacity(55);
    let _infallible = write!(
        traceparent,
        "00-{}-{}-{:02x}",
        context.trace_id(),
        context.span_id(),
        context.trace_flags().to_u8()
    );
    if let Ok(value) = HeaderValue::from_str(&traceparent) {
        headers.insert(TRACEPARENT, value);
    }
    let state = context.trace_state().header();
    if !state.is_empty()
        && let Ok(value) = HeaderValue::from_str(&state)
    {
        headers.insert(TRACESTATE, value);
    }
}

/// Turns sqlx's statement events (target `sqlx::query`, logged when a statement
/// finishes, with its duration) into client spans under the span that ran the
/// statement, with the start time the duration gives. sqlx has no statement spans of
/// its own; statements outside any traced request (migrations, probes) are left out.
pub struct SqlStatementSpans {
    tracer: SdkTracer,
    /// The subscriber this layer is part of, to read the current span's context.
    dispatch: std::sync::OnceLock<tracing::dispatcher::WeakDispatch>,
}

impl SqlStatementSpans {
    pub fn new(provider: &SdkTracerProvider) -> Self {
        use opentelemetry::trace::TracerProvider as _;
        Self {
            tracer: provider.tracer("sqlx"),
            dispatch: std::sync::OnceLock::new(),
        }
    }
}

impl<S: Subscriber> Layer<S> for SqlStatementSpans {
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        let _first = self.dispatch.set(subscriber.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        // The span that ran the statement: the innermost one entered on this thread
        // (this layer's own filter sees no spans, so not `lookup_current`).
        let (Some(id), Some(dispatch)) = (
            ctx.current_span().id().cloned(),
            self.dispatch.get().and_then(|weak| weak.upgrade()),
        ) else {
            return;
        };
        let Some(parent) = tracing_opentelemetry::get_otel_context(&id, &dispatch) else {
            return;
        };
        if !parent.span().span_context().is_valid() {
            return;
        }
        let mut statement = Statement::default();
        event.record(&mut statement);
        let end = SystemTime::now();
        let elapsed = Duration::try_from_secs_f64(statement.elapsed_secs).unwrap_or_default();
        let start = end.checked_sub(elapsed).unwrap_or(end);
        let operation = statement
            .summary
            .split_whitespace()
            .next()
            .unwrap_or("SQL")
            .to_ascii_uppercase();
        let text = if statement.full_text.trim().is_empty() {
            statement.summary
        } else {
            statement.full_text.trim().to_owned()
        };
        let mut span = self
            .tracer
            .span_builder(operation.clone())
            .with_kind(SpanKind::Client)
            .with_start_time(start)
            .with_attributes([
                KeyValue::new("db.operation.name", operation),
                KeyValue::new("db.query.text", text),
                KeyValue::new("db.response.returned_rows", statement.rows_returned),
                KeyValue::new("db.rows_affected", statement.rows_affected),
            ])
            .start_with_context(&self.tracer, &parent);
        span.end_with_timestamp(end);
    }
}

/// The fields of one sqlx statement event.
#[derive(Default)]
struct Statement {
    summary: String,
    full_text: String,
    rows_returned: i64,
    rows_affected: i64,
    elapsed_secs: f64,
}

impl Visit for Statement {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.full_text),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let value = i64::try_from(value).unwrap_or(i64::MAX);
        match field.name() {
            "rows_returned" => self.rows_returned = value,
            "rows_affected" => self.rows_affected = value,
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = value;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // sqlx passes the summary as a String value, which may arrive here.
        if field.name() == "summary" && self.summary.is_empty() {
            self.summary = format!("{value:?}").trim_matches('"').to_owned();
        }
    }
}
