//! Structured logging with `tracing` (verbosity from RUST_LOG, format from `--log-format`)
//! and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, distributed tracing: every span of the
//! request path is exported over OTLP/HTTP + protobuf, joined across services by W3C
//! `traceparent` (see [`crate::trace_context`]).
//!
//! Tracing is off unless the endpoint is set, and off means free: no OpenTelemetry layer is
//! installed, the spans that exist only for traces are at DEBUG level and so disabled at
//! their call sites by the default `info` filter, and nothing reads or writes `traceparent`.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{FilterExt as _, Targets, filter_fn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// The standard variable that turns tracing on: the collector's base URL (`/v1/traces` is added).
pub const OTLP_ENDPOINT_VARIABLE: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The standard variable that names this process in traces (default: the service's own name).
pub const SERVICE_NAME_VARIABLE: &str = "OTEL_SERVICE_NAME";

/// Whether spans are exported: read on hot paths, so a plain flag.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// The provider to flush when the process stops.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether this process exports traces (the OpenTelemetry layer is installed).
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Installs the global subscriber once; later calls (tests) are ignored. With
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also exported (see the module doc).
pub fn init(format: LogFormat) {
    let endpoint = std::env::var(OTLP_ENDPOINT_VARIABLE).unwrap_or_default();
    if endpoint.trim().is_empty() {
        init_logging_only(format);
        return;
    }
    match tracer_provider() {
        Ok(provider) => init_with_tracing(format, provider),
        Err(error) => {
            init_logging_only(format);
            tracing::error!(%error, endpoint, "tracing disabled: the OTLP exporter cannot be built");
        }
    }
}

/// Sends the spans still buffered, e.g. when a server stops (the exporter keeps running:
/// a process may serve more than one server).
pub fn flush() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.force_flush()
    {
        tracing::warn!(%error, "flushing the last spans failed");
    }
}

fn env_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The subscriber as it always was: one fmt layer behind a global filter.
fn init_logging_only(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter())
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _already_set = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// The service's own name: `tasktracker <service>` or the service's binary.
fn default_service_name() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .and_then(|path| {
            std::path::Path::new(&path)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "tasktracker".to_owned());
    match args.next() {
        Some(service) if program == "tasktracker" && !service.starts_with('-') => service,
        _ => program,
    }
}

fn tracer_provider() -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::{Protocol, WithExportConfig as _};
    // The endpoint, headers, timeout and compression come from the standard OTEL_EXPORTER_OTLP_*
    // variables; the batch processor's from OTEL_BSP_* (e.g. OTEL_BSP_SCHEDULE_DELAY).
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()?;
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the service's own name.
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var(SERVICE_NAME_VARIABLE).is_ok_and(|name| !name.trim().is_empty()) {
        // The environment detector of Resource::builder already read it.
    } else {
        resource = resource.with_service_name(default_service_name());
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// What the exporter receives: the spans of our crates down to DEBUG, async-graphql's
/// operation and resolver spans, and INFO from everything else. (The router's parse, plan
/// and fetch spans are made with the SDK directly: `crate::trace_context::DirectSpan`.)
fn exported_spans() -> Targets {
    let ours = [
        "common",
        "tasktracker",
        "users",
        "tasks",
        "stats",
        "router",
        "rest_compat",
    ];
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_targets(ours.map(|target| (target, LevelFilter::DEBUG)))
        .with_target("async_graphql::graphql", LevelFilter::INFO)
        // Statements become spans of their own (crate::trace_context::SqlStatementSpans),
        // not events of the resolver's span.
        .with_target("sqlx::query", LevelFilter::OFF)
        // Probes and scrapes (crate::trace_context::server_span).
        .with_target("tasktracker_untraced", LevelFilter::OFF)
}

fn init_with_tracing(format: LogFormat, provider: SdkTracerProvider) {
    let tracer = provider.tracer("tasktracker");
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        // Each of these is per-span work (allocated attributes, clock reads on every
        // poll) that a request pays for and a trace hardly needs.
        .with_threads(false)
        .with_location(false)
        .with_target(false)
        .with_tracked_inactivity(false)
        // Activating the OpenTelemetry context on every enter and exit of a span (each
        // poll of a request's future) was the largest cost of exporting; the context is
        // taken from the tracing span where it is needed (crate::trace_context).
        .with_context_activation(false)
        .with_filter(exported_spans().and(filter_fn(|metadata| {
            // Log events become events of their span only when they report a problem:
            // per-request INFO lines (the router's "graphql request") would repeat what
            // the span already says, at the cost of a span event each.
            metadata.is_span() || *metadata.level() <= tracing::Level::WARN
        })));
    // Each layer has its own filter: the log lines stay exactly what RUST_LOG asks for.
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_filter(env_filter())
            .boxed(),
        LogFormat::Pretty => fmt.compact().with_filter(env_filter()).boxed(),
    };
    let statements = crate::trace_context::SqlStatementSpans::new(&provider)
        .with_filter(Targets::new().with_target("sqlx::query", LevelFilter::DEBUG));
    let installed = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .with(statements)
        .try_init()
        .is_ok();
    if installed {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        crate::trace_context::install_tracer(&provider);
        let _first = PROVIDER.set(provider);
        ENABLED.store(true, Ordering::Relaxed);
    }
}
