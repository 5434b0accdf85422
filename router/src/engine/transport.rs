//! How subgraph requests leave the router: one trait (`SubgraphTransport`) so the
//! executor never knows whether the subgraph is across HTTP or in process, the
//! pooled HTTP implementation, and the wrapper that lets identical requests in
//! flight at the same time share one fetch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use http::HeaderMap;

use super::failure::FetchFailure;

/// One GraphQL request to a subgraph, body already serialised.
#[derive(Debug, Clone)]
pub struct SubgraphRequest {
    pub subgraph: Arc<str>,
    pub url: Arc<str>,
    /// `{"query": …, "variables": …}` as JSON.
    pub body: Bytes,
    /// Forwarded client headers plus `x-request-id`.
    pub headers: HeaderMap,
}

/// The raw answer of a subgraph.
#[derive(Debug, Clone)]
pub struct SubgraphResponse {
    pub status: u16,
    pub body: Bytes,
}

/// Why a subgraph could not be reached: the kind decides the error code clients see.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub kind: FetchFailure,
    pub message: Arc<str>,
}

impl TransportError {
    pub fn new(kind: FetchFailure, message: impl Into<Arc<str>>) -> TransportError {
        TransportError {
            kind,
            message: message.into(),
        }
    }
}

/// Sends subgraph requests. Implementations must be cheap to call concurrently.
pub trait SubgraphTransport: Send + Sync + 'static {
    fn fetch(
        &self,
        request: SubgraphRequest,
    ) -> BoxFuture<'static, Result<SubgraphResponse, TransportError>>;
}

/// Subgraphs over HTTP with pooled keep-alive connections.
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    pub fn new() -> Result<HttpTransport, TransportError> {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()
            .map_err(|error| {
                TransportError::new(
                    FetchFailure::Unavailable,
                    format!("cannot build the HTTP client: {error}"),
                )
            })?;
        Ok(HttpTransport { client })
    }
}

impl SubgraphTransport for HttpTransport {
    fn fetch(
        &self,
        request: SubgraphRequest,
    ) -> BoxFuture<'static, Result<SubgraphResponse, TransportError>> {
        let pending = self
            .client
            .post(&*request.url)
            .headers(request.headers)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(request.body)
            .send();
        async move {
            let response = pending.await.map_err(|error| failure(&error))?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(|error| failure(&error))?;
            Ok(SubgraphResponse { status, body })
        }
        .boxed()
    }
}

fn failure(error: &reqwest::Error) -> TransportError {
    let kind = if error.is_timeout() {
        FetchFailure::Timeout
    } else if error.is_decode() {
        FetchFailure::InvalidResponse
    } else {
        FetchFailure::Unavailable
    };
    TransportError::new(kind, describe(error))
}

/// reqwest's Display hides the cause ("error sending request"); clients deserve the reason.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

type SharedFetch = Shared<BoxFuture<'static, Result<SubgraphResponse, TransportError>>>;

/// What makes two subgraph requests identical.
#[derive(PartialEq, Eq, Hash)]
struct FetchKey {
    subgraph: Arc<str>,
    body: Bytes,
    headers: Vec<(String, Bytes)>,
}

/// Shares one fetch between identical requests in flight at the same time.
pub(crate) struct Deduplicator {
    in_flight: Arc<Mutex<HashMap<FetchKey, SharedFetch>>>,
}

impl Deduplicator {
    pub(crate) fn new() -> Deduplicator {
        Deduplicator {
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub(crate) fn fetch(
        &self,
        transport: &Arc<dyn SubgraphTransport>,
        request: SubgraphRequest,
    ) -> BoxFuture<'static, Result<SubgraphResponse, TransportError>> {
        let key = FetchKey {
            subgraph: request.subgraph.clone(),
            body: request.body.clone(),
            headers: request
                .headers
                .iter()
                // x-request-id differs per client request by design; it must not defeat sharing.
                .filter(|(name, _)| name.as_str() != "x-request-id")
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        Bytes::copy_from_slice(value.as_bytes()),
                    )
                })
                .collect(),
        };
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(shared) = in_flight.get(&key) {
            return shared.clone().boxed();
        }
        // The fetch runs as its own task so it completes (and leaves the map) even if
        // every waiter gives up, e.g. on timeout.
        let registry = self.in_flight.clone();
        let transport = transport.clone();
        let task_key = FetchKey {
            subgraph: key.subgraph.clone(),
            body: key.body.clone(),
            headers: key.headers.clone(),
        };
        let task = tokio::spawn(async move {
            let result = transport.fetch(request).await;
            registry
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .remove(&task_key);
            result
        });
        let shared = async move {
            task.await.unwrap_or_else(|error| {
                Err(TransportError::new(
                    FetchFailure::Unavailable,
                    format!("subgraph fetch aborted: {error}"),
                ))
            })
        }
        .boxed()
        .shared();
        in_flight.insert(key, shared.clone());
        shared.boxed()
    }
}
