//! HTTP scaffolding every service shares: request ids and tracing on every
//! request, `/health` and `/ready`, and serving until SIGTERM or Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;

pub use crate::http_server::ServerLimits;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// The header that carries a request's id from the edge to every subgraph.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A readiness probe: resolves to whether the service's store answers.
pub type ReadyCheck = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// `/health` (liveness, always 200 while the process serves) and `/ready` (the store answers).
pub fn health_routes(service: &'static str, ready: Option<ReadyCheck>) -> Router {
    Router::new()
        .route(
            "/health",
            get(move || async move { Json(json!({"status": "healthy", "service": service})) }),
        )
        .route(
            "/ready",
            get(move || {
                let ready = ready.clone();
                async move {
                    let is_ready = match ready {
                        Some(check) => check().await,
                        None => true,
                    };
                    let status = if is_ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                    let body = json!({"status": if is_ready { "ready" } else { "unavailable" }, "service": service});
                    (status, Json(body)).into_response()
                }
            }),
        )
}

/// A readiness probe with details: whether the service can serve, and a JSON
/// object merged into the `/ready` body (e.g. the reachability of each dependency).
pub type ReadyReport = Arc<
    dyn Fn() -> Pin<
            Box<dyn Future<Output = (bool, serde_json::Map<String, serde_json::Value>)> + Send>,
        > + Send
        + Sync,
>;

/// `/health` (liveness) and `/ready` answering 200 or 503 from `report`, with its details in the body.
pub fn health_routes_with_report(service: &'static str, report: ReadyReport) -> Router {
    Router::new()
        .route(
            "/health",
            get(move || async move { Json(json!({"status": "healthy", "service": service})) }),
        )
        .route(
            "/ready",
            get(move || {
                let report = report.clone();
                async move {
                    let (is_ready, details) = report().await;
                    let status = if is_ready {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    let mut body = serde_json::Map::new();
                    body.insert(
                        "status".into(),
                        json!(if is_ready { "ready" } else { "unavailable" }),
                    );
                    body.insert("service".into(), json!(service));
                    body.extend(details);
                    (status, Json(serde_json::Value::Object(body))).into_response()
                }
            }),
        )
}

/// Adds request ids (kept from `x-request-id` when the caller sent one) and a
/// tracing span per request that names it, so every log line carries the id.
pub fn with_request_tracing(app: Router) -> Router {
    app.layer(
        tower::ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID_HEADER)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("-");
                if crate::telemetry::enabled() {
                    // Joins the caller's trace and carries the trace id on every log line.
                    return crate::trace_context::server_span(request, request_id);
                }
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
            })
            .on_response(|response: &axum::http::Response<_>, latency, span: &tracing::Span| {
                crate::trace_context::record_status(span, response.status().as_u16());
                tower_http::trace::OnResponse::<axum::body::Body>::on_response(
                    tower_http::trace::DefaultOnResponse::default(),
                    response,
                    latency,
                    span,
                );
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER)),
    )
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
///
/// The handlers are installed when this is called, not when the future is
/// first polled: the serve loop polls it only between accepts, and a SIGTERM
/// sent as soon as the service has answered must stop it cleanly, not kill it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let terminate = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupt => {},
                () = terminate => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown signal received, draining in-flight requests");
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, letting requests in
/// flight finish, under `limits` (see [`crate::http_server`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let served = crate::http_server::serve(listener, app, limits, shutdown).await;
    // The spans of the last requests are still buffered: send them before exiting.
    crate::telemetry::flush();
    served
}

/// A service's listener, bound (port 0 picks a free one), with the app it will serve.
pub struct BoundApp {
    listener: TcpListener,
    addr: SocketAddr,
    app: Router,
    limits: ServerLimits,
}

impl BoundApp {
    /// Binds `host:port` for `app`; nothing is served until [`BoundApp::serve_until`].
    pub async fn bind(host: &str, port: u16, app: Router) -> anyhow::Result<Self> {
        let listener = crate::http_server::bind(host, port)
            .await
            .with_context(|| format!("binding {host}:{port}"))?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            addr,
            app,
            limits: ServerLimits::default(),
        })
    }

    /// Serves under `limits` instead of the defaults.
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` resolves, letting requests in flight finish.
    pub async fn serve_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        serve(self.listener, self.app, self.limits, shutdown).await
    }
}

/// Tells whoever started us (the launcher, a test) where we listen: one line on
/// stdout, `tasktracker: <service> listening on http://<addr>`. Logs go to stderr.
pub fn announce(service: &str, addr: SocketAddr) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "tasktracker: {service} listening on http://{addr}");
    let _ = stdout.flush();
    tracing::info!(%addr, "{service} listening");
}
