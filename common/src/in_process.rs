//! Services composed in one process: one service calls another's assembled
//! axum app directly (a tower `oneshot`), with no socket and no HTTP encoding,
//! instead of sending it the same request over HTTP.
//!
//! What the callee does is unchanged — its own handler runs, with its own
//! authentication, limits and errors, so its answers are byte for byte those it
//! gives over HTTP. What its HTTP server would add is added here too: requests
//! beyond its in-flight cap are shed with the same 503, and a handler that
//! panics fails that one call (as a connection dropped by a crashing server
//! would) instead of unwinding into the caller and taking the process down.
//!
//! [`Upstream`] is the one client type of a service that talks to another
//! (REST → router, tasks → users): over HTTP, or to a [`LocalService`].

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode, header};
use bytes::Bytes;
use futures::FutureExt;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::http_server::ServerLimits;

/// A service's app, called in this process.
#[derive(Clone)]
pub struct LocalService {
    name: Arc<str>,
    app: Router,
    in_flight: Arc<Semaphore>,
}

impl fmt::Debug for LocalService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalService")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Why an in-process call gave no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalCallError {
    /// The handler panicked (over HTTP: the connection dropped).
    Panicked { service: Arc<str> },
    /// The response body failed while being read.
    Body { service: Arc<str>, reason: String },
}

impl fmt::Display for LocalCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalCallError::Panicked { service } => {
                write!(f, "{service} failed while handling the request")
            }
            LocalCallError::Body { service, reason } => {
                write!(f, "the response of {service} was cut off: {reason}")
            }
        }
    }
}

impl std::error::Error for LocalCallError {}

impl LocalService {
    /// `app` as served by `name` under `limits` (its in-flight cap applies to in-process calls too).
    pub fn new(name: impl Into<Arc<str>>, app: Router, limits: &ServerLimits) -> LocalService {
        LocalService {
            name: name.into(),
            app,
            in_flight: Arc::new(Semaphore::new(
                usize::try_from(limits.max_in_flight).unwrap_or(usize::MAX),
            )),
        }
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends one request and reads the whole response.
    pub async fn call(&self, request: Request<Body>) -> Result<Response<Bytes>, LocalCallError> {
        let Ok(_permit) = crate::http_server::admit(&self.in_flight, request.uri().path()) else {
            return self.read(crate::http_server::overloaded()).await;
        };
        let answered = AssertUnwindSafe(self.app.clone().oneshot(request))
            .catch_unwind()
            .await;
        match answered {
            Ok(Ok(response)) => self.read(response).await,
            Ok(Err(infallible)) => match infallible {},
            Err(_) => Err(self.panicked()),
        }
    }

    async fn read(&self, response: Response<Body>) -> Result<Response<Bytes>, LocalCallError> {
        let (parts, body) = response.into_parts();
        match AssertUnwindSafe(axum::body::to_bytes(body, usize::MAX))
            .catch_unwind()
            .await
        {
            Ok(Ok(bytes)) => Ok(Response::from_parts(parts, bytes)),
            Ok(Err(error)) => Err(LocalCallError::Body {
                service: self.name.clone(),
                reason: error.to_string(),
            }),
            Err(_) => Err(self.panicked()),
        }
    }

    fn panicked(&self) -> LocalCallError {
        tracing::error!(service = %self.name, "a handler panicked; the request failed");
        LocalCallError::Panicked {
            service: self.name.clone(),
        }
    }
}

/// Another service's GraphQL endpoint, as one service sees it.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// Over HTTP (pooled keep-alive connections).
    Http {
        client: reqwest::Client,
        url: String,
    },
    /// Its app in this process, at `path`.
    Local { service: LocalService, path: String },
}

/// Why an upstream gave no response.
#[derive(Debug)]
pub enum UpstreamError {
    Http(reqwest::Error),
    Local(LocalCallError),
    /// The in-process call did not finish within the timeout.
    TimedOut(Duration),
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamError::Http(error) => error.fmt(f),
            UpstreamError::Local(error) => error.fmt(f),
            UpstreamError::TimedOut(timeout) => write!(f, "no answer within {timeout:?}"),
        }
    }
}

impl std::error::Error for UpstreamError {}

impl Upstream {
    /// The path of a GraphQL endpoint URL (`/graphql` for `http://host:4000/graphql`).
    pub fn local(service: LocalService, url_or_path: &str) -> Upstream {
        let path = url_or_path
            .parse::<axum::http::Uri>()
            .ok()
            .map(|uri| uri.path().to_owned())
            .filter(|path| path.starts_with('/'))
            .unwrap_or_else(|| "/graphql".to_owned());
        Upstream::Local { service, path }
    }

    /// POSTs `body` as JSON with `headers`, as reqwest's `.json()` sends it
    /// (`content-type: application/json`, `accept: */*`), within `timeout`
    /// (HTTP: `None` leaves the client's own); returns the status and the whole body.
    pub async fn post_json(
        &self,
        headers: HeaderMap,
        body: Bytes,
        timeout: Option<Duration>,
    ) -> Result<(StatusCode, Bytes), UpstreamError> {
        match self {
            Upstream::Http { client, url } => {
                let mut request = client
                    .post(url)
                    .headers(headers)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body);
                if let Some(timeout) = timeout {
                    request = request.timeout(timeout);
                }
                let response = request.send().await.map_err(UpstreamError::Http)?;
                let status = response.status();
                let body = response.bytes().await.map_err(UpstreamError::Http)?;
                Ok((status, body))
            }
            Upstream::Local { service, path } => {
                let length = body.len();
                let mut request = Request::post(path.as_str())
                    .body(Body::from(body))
                    .expect("a POST to a path is a valid request");
                let sent = request.headers_mut();
                sent.insert(header::CONTENT_LENGTH, header::HeaderValue::from(length));
                sent.insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("application/json"),
                );
                // reqwest's default, so the callee negotiates the same answer.
                sent.insert(header::ACCEPT, header::HeaderValue::from_static("*/*"));
                sent.extend(headers);
                let call = service.call(request);
                let response = match timeout {
                    Some(timeout) => tokio::time::timeout(timeout, call)
                        .await
                        .map_err(|_| UpstreamError::TimedOut(timeout))?,
                    None => call.await,
                }
                .map_err(UpstreamError::Local)?;
                let status = response.status();
                Ok((status, response.into_body()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::{get, post};

    use super::*;

    fn service(limits: &ServerLimits) -> LocalService {
        let app = Router::new()
            .route("/echo", post(|body: Bytes| async move { body }))
            .route(
                "/panic",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("a handler bug");
                    }
                    "never"
                }),
            )
            .route("/health", get(|| async { "alive" }));
        LocalService::new("test", app, limits)
    }

    fn get_request(path: &str) -> Request<Body> {
        Request::get(path).body(Body::empty()).expect("request")
    }

    #[tokio::test]
    async fn a_panicking_handler_fails_its_call_and_the_service_keeps_answering() {
        let service = service(&ServerLimits::DEFAULT);
        let failed = service.call(get_request("/panic")).await;
        assert!(
            matches!(failed, Err(LocalCallError::Panicked { .. })),
            "{failed:?}"
        );
        let echoed = Upstream::local(service, "http://anywhere/echo")
            .post_json(HeaderMap::new(), Bytes::from_static(b"{}"), None)
            .await
            .expect("the next call is answered");
        assert_eq!(echoed, (StatusCode::OK, Bytes::from_static(b"{}")));
    }

    #[tokio::test]
    async fn calls_beyond_the_in_flight_cap_are_shed_like_over_http_but_liveness_is_not() {
        let limits = ServerLimits {
            max_in_flight: 1,
            ..ServerLimits::DEFAULT
        };
        let service = service(&limits);
        // The one place taken, as by a request still running.
        let _held = service
            .in_flight
            .clone()
            .try_acquire_owned()
            .expect("a place");
        let shed = service
            .call(Request::post("/echo").body(Body::empty()).expect("request"))
            .await
            .expect("an answer");
        assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            String::from_utf8_lossy(shed.body()).contains("SERVICE_OVERLOADED"),
            "{shed:?}"
        );
        let alive = service
            .call(get_request("/health"))
            .await
            .expect("an answer");
        assert_eq!(alive.status(), StatusCode::OK);
    }
}
