//! CORS exactly as the original configured Starlette's `CORSMiddleware`
//! (listed origins, credentials allowed, every method and header, preflight
//! cached 600 s), including what clients see at the edges: a preflight from an
//! origin not on the list is a 400 `Disallowed CORS origin`, an `OPTIONS`
//! without the preflight headers goes to the routes (a 405 JSON there), and a
//! simple request with any `Origin` carries `Access-Control-Allow-Credentials`.

use std::sync::Arc;

use anyhow::Context;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use axum::middleware::Next;

/// Starlette's answer for `allow_methods=["*"]`.
const ALLOW_METHODS: &str = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";
const MAX_AGE: &str = "600";

/// The allowed origins; `*` in the list allows every origin (echoed, since
/// credentials are allowed).
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Arc<Vec<HeaderValue>>,
    any: bool,
}

impl Cors {
    pub fn new(origins: &[String]) -> anyhow::Result<Self> {
        let any = origins.iter().any(|origin| origin == "*");
        let origins = origins
            .iter()
            .filter(|origin| *origin != "*")
            .map(|origin| {
                HeaderValue::from_str(origin)
                    .with_context(|| format!("invalid CORS origin {origin:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            origins: Arc::new(origins),
            any,
        })
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        self.any || self.origins.iter().any(|allowed| allowed == origin)
    }

    /// The middleware: `axum::middleware::from_fn_with_state(cors, Cors::handle)`.
    pub async fn handle(
        axum::extract::State(cors): axum::extract::State<Cors>,
        request: Request,
        next: Next,
    ) -> Response<Body> {
        let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
            return next.run(request).await;
        };
        let is_preflight = request.method() == Method::OPTIONS
            && request
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if is_preflight {
            return cors.preflight(&origin, request.headers());
        }
        let mut response = next.run(request).await;
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        if cors.allows(&origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        response
    }

    fn preflight(&self, origin: &HeaderValue, request: &HeaderMap) -> Response<Body> {
        let allowed = self.allows(origin);
        let (status, body) = if allowed {
            (StatusCode::OK, "OK")
        } else {
            (StatusCode::BAD_REQUEST, "Disallowed CORS origin")
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        if allowed {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            if let Some(requested) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
                headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            }
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}
