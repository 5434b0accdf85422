//! How subgraph requests leave the router: one trait (`SubgraphTransport`) so the
//! executor never knows whether the subgraph is across HTTP or in process, the
//! pooled HTTP implementation, and the wrapper that lets identical requests in
//! flight at the same time share one fetch.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use http::HeaderMap;
use thread_local::ThreadLocal;

use super::failure::FetchFailure;
use crate::in_flight::InFlight;

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

/// Subgraphs over HTTP with pooled keep-alive connections: a pool per thread,
/// because a connection is driven by the runtime that opened it, and requests
/// are served on pinned connection threads (`common::connection_threads`) whose
/// subgraph calls should stay on their own thread too.
pub struct HttpTransport {
    clients: ThreadLocal<reqwest::Client>,
}

impl HttpTransport {
    pub fn new() -> Result<HttpTransport, TransportError> {
        let transport = HttpTransport {
            clients: ThreadLocal::new(),
        };
        // A client that cannot be built is a start-up error, not a failed request.
        transport.client()?;
        Ok(transport)
    }

    fn client(&self) -> Result<&reqwest::Client, TransportError> {
        self.clients.get_or_try(|| {
            common::http_client::builder()
                .pool_max_idle_per_host(256)
                .tcp_nodelay(true)
                .build()
                .map_err(|error| {
                    TransportError::new(
                        FetchFailure::Unavailable,
                        format!("cannot build the HTTP client: {error}"),
                    )
                })
        })
    }
}

impl SubgraphTransport for HttpTransport {
    fn fetch(
        &self,
        request: SubgraphRequest,
    ) -> BoxFuture<'static, Result<SubgraphResponse, TransportError>> {
        let client = match self.client() {
            Ok(client) => client,
            Err(error) => return futures::future::ready(Err(error)).boxed(),
        };
        let pending = client
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

/// What makes two subgraph requests identical.
#[derive(PartialEq, Eq, Hash, Clone)]
struct FetchKey {
    subgraph: Arc<str>,
    body: Bytes,
    headers: Vec<(String, Bytes)>,
}

/// Shares one fetch between identical requests in flight at the same time. What is
/// shared (`V`) is up to the caller: the executor shares the parsed answer, so that
/// identical fetches are read once, not once per request waiting on them.
pub(crate) struct Deduplicator<V: Clone> {
    in_flight: InFlight<FetchKey, V>,
}

impl<V> Deduplicator<V>
where
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new() -> Self {
        Deduplicator {
            in_flight: InFlight::new(),
        }
    }

    /// Joins the fetch in flight identical to `request`, or makes `start(request)` it.
    pub(crate) fn fetch<F>(
        &self,
        request: SubgraphRequest,
        start: impl FnOnce(SubgraphRequest) -> F,
    ) -> BoxFuture<'static, V>
    where
        F: Future<Output = V> + Send + 'static,
    {
        let key = FetchKey {
            subgraph: request.subgraph.clone(),
            body: request.body.clone(),
            headers: request
                .headers
                .iter()
                // x-request-id differs per client request by design; it must not defeat sharing.
                // So does trace context (`traceparent`): the shared fetch carries the first one's.
                .filter(|(name, _)| {
                    name.as_str() != "x-request-id"
                        && !common::trace_context::is_trace_header(name.as_str())
                })
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        Bytes::copy_from_slice(value.as_bytes()),
                    )
                })
                .collect(),
        };
        self.in_flight
            .join(key, move || start(request))
            .work
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A transport whose fetches never answer; counts fetches started and dropped.
    #[derive(Default)]
    struct Held {
        started: Arc<AtomicUsize>,
        dropped: Arc<AtomicUsize>,
    }

    struct CountDrop(Arc<AtomicUsize>);

    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl SubgraphTransport for Held {
        fn fetch(
            &self,
            _request: SubgraphRequest,
        ) -> BoxFuture<'static, Result<SubgraphResponse, TransportError>> {
            self.started.fetch_add(1, Ordering::SeqCst);
            let guard = CountDrop(self.dropped.clone());
            async move {
                let _guard = guard;
                std::future::pending().await
            }
            .boxed()
        }
    }

    fn request() -> SubgraphRequest {
        SubgraphRequest {
            subgraph: "accounts".into(),
            url: "http://accounts.invalid/graphql".into(),
            body: Bytes::from_static(br#"{"query":"{ me { id } }"}"#),
            headers: HeaderMap::new(),
        }
    }

    #[tokio::test]
    async fn a_shared_fetch_lives_while_one_waiter_remains_and_ends_with_the_last() {
        let held = Held::default();
        let (started, dropped) = (held.started.clone(), held.dropped.clone());
        let transport: Arc<dyn SubgraphTransport> = Arc::new(held);
        let deduplicator = Deduplicator::new();
        let fetch = |request| transport.fetch(request);
        let mut first = deduplicator.fetch(request(), fetch);
        let mut second = deduplicator.fetch(request(), fetch);
        assert!(futures::poll!(&mut first).is_pending());
        assert!(futures::poll!(&mut second).is_pending());
        assert_eq!(started.load(Ordering::SeqCst), 1, "one fetch for both");
        drop(first);
        assert_eq!(dropped.load(Ordering::SeqCst), 0, "a waiter remains");
        assert_eq!(deduplicator.in_flight.len(), 1);
        // A third identical request joins the same fetch.
        let mut third = deduplicator.fetch(request(), fetch);
        assert!(futures::poll!(&mut third).is_pending());
        assert_eq!(started.load(Ordering::SeqCst), 1);
        drop(second);
        drop(third);
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "no waiter: fetch dropped"
        );
        assert_eq!(deduplicator.in_flight.len(), 0, "and gone from the table");
        // The next identical request starts afresh.
        let mut fourth = deduplicator.fetch(request(), fetch);
        assert!(futures::poll!(&mut fourth).is_pending());
        assert_eq!(started.load(Ordering::SeqCst), 2);
    }
}
