//! The one skeleton every service runs on, and the HTTP scaffolding they share:
//! request ids and tracing on every request, `/health` and `/ready`.
//!
//! A service says what it is ([`Service`]: which of the five it is
//! ([`ServiceName`]), how it assembles its routes from its configuration, what
//! it holds and [`Drain`]s), and
//! [`Server`] does the rest the same way for all five: `build` binds (port 0
//! picks a free port) → `port` → `run_until_stopped` announces the one stdout
//! line tests and the launcher read, serves until SIGTERM/Ctrl-C (or
//! `run_until` any future), lets requests in flight finish and drains what the
//! service holds.

use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use axum::http::{HeaderMap, HeaderName, Request, StatusCode, header::AUTHORIZATION};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;

use crate::config::{ListenArgs, LogArgs};
pub use crate::http_server::ServerLimits;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// The five services, in start order: the one place each one's name, port
/// variable and default port are written, read by its [`Service`] (its binary's
/// command line, announce line and logs) and by the launcher (the subcommand
/// and port variable it gives each child) alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceName {
    Users,
    Tasks,
    Stats,
    Router,
    RestCompat,
}

impl ServiceName {
    pub const START_ORDER: [ServiceName; 5] = [
        ServiceName::Users,
        ServiceName::Tasks,
        ServiceName::Stats,
        ServiceName::Router,
        ServiceName::RestCompat,
    ];

    /// Its name in the announce line, the logs and `/health`; also its binary's,
    /// the launcher's subcommand that runs it and its name in the supergraph.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceName::Users => "users",
            ServiceName::Tasks => "tasks",
            ServiceName::Stats => "stats",
            ServiceName::Router => "router",
            ServiceName::RestCompat => "rest-compat",
        }
    }

    /// The environment variable of its `--port`.
    pub const fn port_variable(self) -> &'static str {
        match self {
            ServiceName::Users => "USERS_PORT",
            ServiceName::Tasks => "TASKS_PORT",
            ServiceName::Stats => "STATS_PORT",
            ServiceName::Router => "ROUTER_PORT",
            ServiceName::RestCompat => "REST_PORT",
        }
    }

    /// Its port when neither `--port` nor its [`ServiceName::port_variable`] is
    /// set, as text: clap's `default_value_t` keeps the rendered default in a
    /// `static` shared by every instance of a generic `Args` (the launcher would
    /// give all five services the first one's port), so the default is given as
    /// a `&'static str`.
    pub const fn default_port(self) -> &'static str {
        match self {
            ServiceName::Users => "8001",
            ServiceName::Tasks => "8002",
            ServiceName::Stats => "8003",
            ServiceName::Router => "4000",
            ServiceName::RestCompat => "8000",
        }
    }
}

/// What tells one service from another; everything else about starting,
/// serving and stopping is [`Server`]'s.
pub trait Service: Sized + Send + 'static {
    /// Which of the five it is: its name, port variable and default port.
    const NAME: ServiceName;

    /// Its settings (a clap `Args` struct flattening [`ListenArgs<Self>`]; its
    /// command line is [`crate::config::Cli<Self>`]), among them how its logs
    /// are written (read before anything else starts).
    type Config: AsRef<LogArgs> + Send + 'static;
    /// What it holds beside its routes until drained (its store, a background
    /// task); `()` for none. How it is given back is its own ([`Drain`]).
    type Resources: Drain;

    /// Everything up to binding: open and migrate stores, load, assemble the routes.
    fn assemble(
        config: Self::Config,
    ) -> impl Future<Output = anyhow::Result<Assembled<Self>>> + Send;

    /// Starts what runs beside the server (called once, just before serving).
    fn on_serve(_resources: &mut Self::Resources) {}
}

/// What a service holds until it stops (a store, a background task), given
/// back once the last request has finished: the thing itself knows how, so
/// every service holding one (a store's pool) drains it the same way.
pub trait Drain: Send + 'static {
    /// Gives it back (closes the store, stops the task).
    fn drain(self) -> impl Future<Output = ()> + Send;
}

/// Nothing held: nothing to give back.
impl Drain for () {
    async fn drain(self) {}
}

/// A service ready to bind: its routes, where and under which limits to serve
/// them, and what it holds.
pub struct Assembled<S: Service> {
    pub app: Router,
    pub listen: ListenArgs<S>,
    pub limits: ServerLimits,
    pub resources: S::Resources,
}

/// A service bound to its port, not serving yet. Each service crate names it
/// `Application` (`pub type Application = Server<Users>`).
pub struct Server<S: Service> {
    listener: TcpListener,
    addr: SocketAddr,
    app: Router,
    limits: ServerLimits,
    resources: S::Resources,
    service: PhantomData<fn() -> S>,
}

impl<S: Service> Server<S> {
    /// Assembles the service from `config` and binds its listener (port 0 picks a free one).
    pub async fn build(config: S::Config) -> anyhow::Result<Self> {
        Self::bind(S::assemble(config).await?).await
    }

    /// Binds the listener of a service already assembled (services composed in one
    /// process are assembled first, to be wired to each other).
    pub async fn bind(assembled: Assembled<S>) -> anyhow::Result<Self> {
        let Assembled {
            app,
            listen,
            limits,
            resources,
        } = assembled;
        let listener = crate::http_server::bind(&listen.host, listen.port)
            .await
            .with_context(|| format!("binding {}:{}", listen.host, listen.port))?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            addr,
            app,
            limits,
            resources,
            service: PhantomData,
        })
    }

    /// The port bound.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the service holds (tests arrange rows through a store).
    pub fn resources(&self) -> &S::Resources {
        &self.resources
    }

    /// Announces, serves until SIGTERM or Ctrl-C, then drains.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Announces, serves until `shutdown` resolves, lets requests in flight
    /// finish, then drains what the service holds.
    pub async fn run_until(
        mut self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        S::on_serve(&mut self.resources);
        announce(S::NAME.as_str(), self.addr);
        let served =
            crate::http_server::serve(self.listener, self.app, self.limits, shutdown).await;
        self.resources.drain().await;
        // The spans of the last requests are still buffered: send them before exiting.
        crate::telemetry::flush();
        served.context("serving HTTP")
    }
}

/// What `<service>` with no subcommand does, for the crate's own binary and
/// the launcher alike: logs set up, then build and run until stopped.
pub async fn run<S: Service>(config: S::Config) -> anyhow::Result<()> {
    crate::telemetry::init(AsRef::<LogArgs>::as_ref(&config).log_format);
    Server::<S>::build(config).await?.run_until_stopped().await
}

/// The header that carries a request's id from the edge to every subgraph.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
/// Another scheme, or no header, is no bearer token. The one reading of the header,
/// for the router's edge check and TaskTracker's own tokens alike.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A readiness probe: resolves to whether the service's store answers.
pub type ReadyCheck = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// `/health` (liveness, always 200 while the process serves) and `/ready` (the store answers).
pub fn health_routes(service: &'static str, ready: Option<ReadyCheck>) -> Router {
    let report: ReadyReport = Arc::new(move || {
        let ready = ready.clone();
        Box::pin(async move {
            let is_ready = match ready {
                Some(check) => check().await,
                None => true,
            };
            (is_ready, serde_json::Map::new())
        })
    });
    health_routes_with_report(service, report)
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
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            /// A signal that could not be installed never arrives.
            async fn received(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = received(interrupt) => {},
                () = received(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown signal received, draining in-flight requests");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(AUTHORIZATION, "Bearer abc".parse().expect("header"));
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, "BEARER  abc ".parse().expect("header"));
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert_eq!(bearer_token(&headers), None);
        headers.insert(AUTHORIZATION, "bearer ".parse().expect("header"));
        assert_eq!(bearer_token(&headers), None);
    }
}
