//! Subgraphs in the router's own process: a [`SubgraphTransport`] that hands a
//! subgraph request to that subgraph's app (any axum `Router`, wrapped as a
//! `common::in_process::LocalService`) with the same headers and body it would
//! POST over HTTP — no socket, no HTTP encoding — and sends every other subgraph
//! over HTTP (mixed mode: some subgraphs here, others remote).
//!
//! The subgraph's own handler answers, so its authentication, limits and errors
//! are those it gives over HTTP, byte for byte; a call that gets no answer fails
//! with the kind the HTTP transport gives a dropped connection. The router does
//! not know which subgraphs these are: whoever composes the process (the
//! `tasktracker` launcher) gives it the apps by subgraph name.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use axum::body::Body;
use common::in_process::LocalService;
use futures::FutureExt;
use futures::future::BoxFuture;

use super::failure::FetchFailure;
use super::transport::{SubgraphRequest, SubgraphResponse, SubgraphTransport, TransportError};

/// Subgraph name → its app in this process.
#[derive(Clone, Default)]
pub struct InProcessSubgraphs(HashMap<String, LocalService>);

impl InProcessSubgraphs {
    /// Subgraph `name` (as the supergraph's `join__graph` names it) answered by `service`.
    pub fn insert(&mut self, name: impl Into<String>, service: LocalService) {
        self.0.insert(name.into(), service);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl fmt::Debug for InProcessSubgraphs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.names().collect();
        names.sort_unstable();
        f.debug_tuple("InProcessSubgraphs").field(&names).finish()
    }
}

/// The subgraphs of [`InProcessSubgraphs`] called in process, the others through `remote`.
pub(crate) struct InProcessTransport {
    local: InProcessSubgraphs,
    remote: Arc<dyn SubgraphTransport>,
}

impl InProcessTransport {
    pub(crate) fn new(
        local: InProcessSubgraphs,
        remote: Arc<dyn SubgraphTransport>,
    ) -> InProcessTransport {
        InProcessTransport { local, remote }
    }
}

impl SubgraphTransport for InProcessTransport {
    fn fetch(
        &self,
        request: SubgraphRequest,
    ) -> BoxFuture<'static, Result<SubgraphResponse, TransportError>> {
        let Some(service) = self.local.0.get(&*request.subgraph).cloned() else {
            return self.remote.fetch(request);
        };
        async move {
            // The same request the HTTP transport sends: POST to the subgraph URL's path.
            let length = request.body.len();
            let mut http_request = http::Request::post(&*request.url)
                .body(Body::from(request.body))
                .map_err(|error| {
                    TransportError::new(
                        FetchFailure::Unavailable,
                        format!("cannot build the request: {error}"),
                    )
                })?;
            let headers = http_request.headers_mut();
            *headers = request.headers;
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            headers.insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static("application/json"),
            );
            headers.insert(
                http::header::CONTENT_LENGTH,
                http::HeaderValue::from(length),
            );
            let response = service.call(http_request).await.map_err(|error| {
                // Over HTTP the connection would have dropped: the subgraph is unavailable.
                TransportError::new(FetchFailure::Unavailable, error.to_string())
            })?;
            Ok(SubgraphResponse {
                status: response.status().as_u16(),
                body: response.into_body(),
            })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::post;
    use bytes::Bytes;
    use common::server::ServerLimits;
    use http::HeaderMap;
    use http::header::{AUTHORIZATION, CONTENT_TYPE};

    use super::*;

    /// Every remote fetch answers "remote".
    struct Remote;

    impl SubgraphTransport for Remote {
        fn fetch(
            &self,
            _request: SubgraphRequest,
        ) -> BoxFuture<'static, Result<SubgraphResponse, TransportError>> {
            futures::future::ready(Ok(SubgraphResponse {
                status: 200,
                body: Bytes::from_static(b"remote"),
            }))
            .boxed()
        }
    }

    fn request(subgraph: &str) -> SubgraphRequest {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, http::HeaderValue::from_static("Bearer t"));
        SubgraphRequest {
            subgraph: subgraph.into(),
            url: "http://127.0.0.1:1/graphql".into(),
            body: Bytes::from_static(br#"{"query":"{ a }"}"#),
            headers,
        }
    }

    fn transport() -> InProcessTransport {
        let echo = axum::Router::new().route(
            "/graphql",
            post(|headers: HeaderMap, body: Bytes| async move {
                format!(
                    "{:?} {:?} {}",
                    headers.get(AUTHORIZATION),
                    headers.get(CONTENT_TYPE),
                    String::from_utf8_lossy(&body)
                )
            }),
        );
        let broken = axum::Router::new().route(
            "/graphql",
            post(|| async {
                if std::hint::black_box(true) {
                    panic!("a resolver bug");
                }
                "never"
            }),
        );
        let mut local = InProcessSubgraphs::default();
        local.insert(
            "echo",
            LocalService::new("echo", echo, &ServerLimits::DEFAULT),
        );
        local.insert(
            "broken",
            LocalService::new("broken", broken, &ServerLimits::DEFAULT),
        );
        InProcessTransport::new(local, Arc::new(Remote))
    }

    #[tokio::test]
    async fn a_local_subgraph_gets_the_request_as_posted_and_the_others_go_remote() {
        let transport = transport();
        let echoed = transport.fetch(request("echo")).await.expect("answered");
        assert_eq!(echoed.status, 200);
        assert_eq!(
            String::from_utf8_lossy(&echoed.body),
            r#"Some("Bearer t") Some("application/json") {"query":"{ a }"}"#
        );
        let remote = transport
            .fetch(request("elsewhere"))
            .await
            .expect("answered");
        assert_eq!(remote.body, Bytes::from_static(b"remote"));
    }

    #[tokio::test]
    async fn a_panicking_subgraph_is_unavailable_as_over_a_dropped_connection() {
        let transport = transport();
        let failed = transport
            .fetch(request("broken"))
            .await
            .expect_err("no answer");
        assert_eq!(failed.kind, FetchFailure::Unavailable);
        assert!(
            transport.fetch(request("echo")).await.is_ok(),
            "the others still answer"
        );
    }
}
