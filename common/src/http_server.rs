//! The HTTP server every service runs, built to protect itself from clients that
//! never finish: axum's own `serve` keeps a half-sent request or an idle
//! keep-alive connection open forever, accepts until the process runs out of
//! file descriptors and lets any number of requests run at once.
//!
//! Here every connection has a watchdog (header-read and idle timeouts), every
//! request body a read timeout, the number of connections a cap (at the cap the
//! oldest idle connection is closed to make room, as nginx does, and when none is
//! idle the newcomer gets a 503), and the number of requests in flight a cap
//! beyond which requests are shed with 503 + `Retry-After` instead of queued.
//! The soft `RLIMIT_NOFILE` is raised to the hard limit at start and the
//! connection cap kept below it. Connections are served on pinned per-core
//! threads (`connection_threads`), and closed lingering: a client still sending
//! a body the server refused reads the refusal instead of a reset connection.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use clap::Args;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use crate::config::at_least_one;
use crate::connection_threads::{ConnectionThreads, thread_count};

/// File descriptors kept free beyond connections and requests in flight: the
/// store's pool, outgoing HTTP clients, log files, the listener.
const RESERVED_FDS: u64 = 256;

/// The liveness probe every service serves; never shed.
const LIVENESS_PATH: &str = "/health";

/// The `Retry-After` a shed request is given, in seconds.
const RETRY_AFTER_SECONDS: &str = "1";

/// What an overloaded server answers. One body both kinds of clients read: the
/// GraphQL clients look at `errors`, the REST clients at `detail`.
const OVERLOADED_BODY: &str = r#"{"detail":"Service unavailable: overloaded, retry later","errors":[{"message":"Service unavailable: overloaded, retry later","extensions":{"code":"SERVICE_OVERLOADED"}}]}"#;

/// Limits of the HTTP server of every service (flags and environment variables
/// are the same for all five).
#[derive(Debug, Clone, Args)]
pub struct ServerLimits {
    /// Time a client has to send a request's headers once their first byte arrived, in
    /// milliseconds; a connection still short of a full head then is closed.
    #[arg(long = "http-header-read-timeout-ms", value_parser = at_least_one::<u64>())]
    #[arg(env = "HTTP_HEADER_READ_TIMEOUT_MS", default_value_t = Self::DEFAULT.header_read_timeout_ms)]
    pub header_read_timeout_ms: u64,

    /// How long a connection may stay open without a request in flight (keep-alive, or
    /// connected and silent), in milliseconds, before it is closed.
    #[arg(long = "http-idle-timeout-ms", value_parser = at_least_one::<u64>())]
    #[arg(env = "HTTP_IDLE_TIMEOUT_MS", default_value_t = Self::DEFAULT.idle_timeout_ms)]
    pub idle_timeout_ms: u64,

    /// Time a request body has to arrive whole, counted from its head, in milliseconds;
    /// a body still incomplete then fails the request with 400.
    #[arg(long = "http-body-read-timeout-ms", value_parser = at_least_one::<u64>())]
    #[arg(env = "HTTP_BODY_READ_TIMEOUT_MS", default_value_t = Self::DEFAULT.body_read_timeout_ms)]
    pub body_read_timeout_ms: u64,

    /// Most connections held open at once (also kept below the open-file limit). At the cap
    /// the oldest idle connection is closed for a new one; with none idle, the new one gets 503.
    #[arg(long = "http-max-connections", value_parser = at_least_one::<u64>())]
    #[arg(env = "HTTP_MAX_CONNECTIONS", default_value_t = Self::DEFAULT.max_connections)]
    pub max_connections: u64,

    /// Most requests processed at once; beyond it requests are answered 503 with `Retry-After`.
    #[arg(long = "http-max-in-flight", value_parser = at_least_one::<u64>())]
    #[arg(env = "HTTP_MAX_IN_FLIGHT", default_value_t = Self::DEFAULT.max_in_flight)]
    pub max_in_flight: u64,

    /// Threads connections are served on, each connection pinned to one (0: one per core).
    #[arg(long = "http-connection-threads")]
    #[arg(env = "HTTP_CONNECTION_THREADS", default_value_t = Self::DEFAULT.connection_threads)]
    pub connection_threads: u64,
}

impl ServerLimits {
    /// The defaults: generous for real clients, short enough that a slow-loris
    /// attack holds nothing for long.
    pub const DEFAULT: ServerLimits = ServerLimits {
        header_read_timeout_ms: 10_000,
        idle_timeout_ms: 60_000,
        body_read_timeout_ms: 30_000,
        max_connections: 10_000,
        max_in_flight: 1_024,
        connection_threads: 0,
    };

    fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    fn body_read_timeout(&self) -> Duration {
        Duration::from_millis(self.body_read_timeout_ms)
    }

    /// The connection cap in force: the configured one, kept below what the
    /// open-file limit `nofile` allows once requests in flight have their share.
    pub fn effective_max_connections(&self, nofile: u64) -> usize {
        let room = nofile.saturating_sub(RESERVED_FDS + self.max_in_flight);
        usize::try_from(self.max_connections.min(room).max(1)).unwrap_or(usize::MAX)
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Connections the kernel queues for `accept` (capped by `net.core.somaxconn`):
/// above tokio's 1,024 so that a burst of connections is queued, not dropped
/// (a dropped SYN costs the client a one-second retransmit).
const LISTEN_BACKLOG: u32 = 4_096;

/// Binds `host:port` (port 0 picks a free one) with a deep accept queue.
pub async fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    let mut last_error = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(addr) {
            Ok(()) => return socket.listen(LISTEN_BACKLOG),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "no address to bind")
    }))
}

/// Raises the soft open-file limit to the hard one (a default soft limit of
/// 1,024 is far below what a server needs) and returns the limit in force.
pub fn raise_open_file_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(err) => {
                tracing::warn!(%err, soft, hard, "could not raise the open-file limit");
                soft
            }
        },
        Ok((soft, _)) => soft,
        Err(err) => {
            tracing::warn!(%err, "could not read the open-file limit");
            1_024
        }
    }
}

/// Serves `app` on `listener` under `limits` until `shutdown` resolves, then
/// lets requests in flight finish (idle connections are closed at once).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let nofile = raise_open_file_limit();
    let max_connections = limits.effective_max_connections(nofile);
    tracing::debug!(max_connections, nofile, "connection cap");
    let shared = Arc::new(Shared {
        app,
        in_flight: Arc::new(Semaphore::new(
            usize::try_from(limits.max_in_flight).unwrap_or(usize::MAX),
        )),
        limits,
        connections: Mutex::new(Registry::default()),
        next_id: AtomicU64::new(0),
        max_connections,
    });
    let threads = ConnectionThreads::start(
        thread_count(shared.limits.connection_threads),
        "http-connection",
    )?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The watchdog owns the header-read timeout (hyper's would also cut idle keep-alive
    // connections at the same deadline).
    builder.http1().header_read_timeout(None);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        // Reap finished connection tasks so the set does not grow without bound.
        while tasks.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                // EMFILE and friends: the listener stays healthy, the descriptor
                // table will have room again once connections close.
                tracing::warn!(%err, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Some(connection) = shared.admit() else {
            refuse_overloaded(&stream);
            continue;
        };
        let shared = shared.clone();
        let builder = builder.clone();
        let stop = stop_rx.clone();
        // The socket moves to its connection thread's reactor.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(err) => {
                tracing::debug!(%err, "could not hand the connection over");
                continue;
            }
        };
        let thread = threads.next();
        tasks.spawn_on(
            async move {
                // Unregistered however the task ends, a panic included.
                let _registered = Registered {
                    shared: shared.clone(),
                    connection: connection.clone(),
                };
                match TcpStream::from_std(stream) {
                    Ok(stream) => serve_connection(shared, builder, stream, connection, stop).await,
                    Err(err) => tracing::debug!(%err, "could not take the connection over"),
                }
            },
            thread,
        );
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    drop(threads);
    Ok(())
}

/// What the accept loop and every connection share.
struct Shared {
    app: Router,
    limits: ServerLimits,
    in_flight: Arc<Semaphore>,
    connections: Mutex<Registry>,
    next_id: AtomicU64,
    max_connections: usize,
}

impl Shared {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a new connection, making room by evicting the oldest idle one
    /// at the cap. `None` when every connection has a request in flight.
    fn admit(&self) -> Option<Arc<ConnectionState>> {
        let mut registry = self.registry();
        if registry.open.len() - registry.evicting >= self.max_connections {
            // Busy connections are at most the requests in flight, so the scan
            // stops after a bounded number of steps.
            let victim = registry.open.values().find(|connection| {
                !connection.evicted.load(Ordering::Acquire) && connection.is_idle()
            })?;
            victim.evicted.store(true, Ordering::Release);
            victim.activity.notify_one();
            registry.evicting += 1;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(ConnectionState {
            id,
            requests: AtomicUsize::new(0),
            head_started: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            activity: Notify::new(),
        });
        registry.open.insert(id, connection.clone());
        Some(connection)
    }

    fn forget(&self, connection: &ConnectionState) {
        let mut registry = self.registry();
        if registry.open.remove(&connection.id).is_some()
            && connection.evicted.load(Ordering::Acquire)
        {
            registry.evicting -= 1;
        }
    }
}

/// A connection's place in the registry, given up when dropped.
struct Registered {
    shared: Arc<Shared>,
    connection: Arc<ConnectionState>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.shared.forget(&self.connection);
    }
}

/// The open connections.
#[derive(Default)]
struct Registry {
    /// By age (ids increase), for eviction of the oldest idle one.
    open: BTreeMap<u64, Arc<ConnectionState>>,
    /// How many of them are evicted but not closed yet.
    evicting: usize,
}

/// A connection as its watchdog sees it.
struct ConnectionState {
    id: u64,
    /// Requests of this connection being processed (HTTP/2 may have several).
    requests: AtomicUsize,
    /// Bytes of a new request arrived while none was being processed.
    head_started: AtomicBool,
    /// Chosen to make room for a newer connection.
    evicted: AtomicBool,
    /// Wakes the watchdog on every change of the above.
    activity: Notify,
}

impl ConnectionState {
    fn is_idle(&self) -> bool {
        self.requests.load(Ordering::Acquire) == 0
    }
}

/// At the connection cap with every connection busy: a 503 written straight to
/// the socket (it is fresh, so the few bytes fit its send buffer), then closed.
fn refuse_overloaded(stream: &TcpStream) {
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: {RETRY_AFTER_SECONDS}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{OVERLOADED_BODY}",
        OVERLOADED_BODY.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

async fn serve_connection(
    shared: Arc<Shared>,
    builder: auto::Builder<TokioExecutor>,
    stream: TcpStream,
    state: Arc<ConnectionState>,
    mut stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Watched {
        inner: stream,
        state: state.clone(),
        lingering: None,
    });
    let service_state = state.clone();
    let service_shared = shared.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        handle(service_shared.clone(), service_state.clone(), request)
    });
    let connection = builder.serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let watchdog = watchdog(&shared.limits, &state);
    let mut watchdog = std::pin::pin!(watchdog);
    // One place for the server's stop, whether it came before this connection
    // was accepted or while it runs (`wait_for` looks at the current value first).
    let stop = async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    let mut stop = std::pin::pin!(stop);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%err, "connection ended with an error");
                }
                return;
            }
            // Dropping the connection closes the socket.
            () = &mut watchdog => return,
            () = &mut stop, if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Resolves when the connection must be closed: evicted while idle, idle for
/// too long, or too slow to send a request's head.
async fn watchdog(limits: &ServerLimits, state: &ConnectionState) {
    loop {
        if !state.is_idle() {
            state.activity.notified().await;
            continue;
        }
        if state.evicted.load(Ordering::Acquire) {
            return;
        }
        let reading_head = state.head_started.load(Ordering::Acquire);
        let allowed = if reading_head {
            limits.header_read_timeout()
        } else {
            limits.idle_timeout()
        };
        tokio::select! {
            () = tokio::time::sleep(allowed) => {
                if state.is_idle() && state.head_started.load(Ordering::Acquire) == reading_head {
                    return;
                }
            }
            () = state.activity.notified() => {}
        }
    }
}

/// Counts the request in its connection, sheds it beyond the in-flight cap and
/// bounds the time between pieces of its body.
async fn handle(
    shared: Arc<Shared>,
    state: Arc<ConnectionState>,
    request: Request<Incoming>,
) -> Result<Response<Body>, std::convert::Infallible> {
    let _request = RequestGuard::new(state);
    let Ok(_permit) = admit(&shared.in_flight, request.uri().path()) else {
        return Ok(overloaded());
    };
    let timeout = shared.limits.body_read_timeout();
    let request = request.map(|body| Body::new(DeadlineBody::new(body, timeout)));
    shared.app.clone().oneshot(request).await
}

/// A request beyond the in-flight cap: it is answered [`overloaded`].
pub(crate) struct Shed;

/// A request's place among those in flight (`None` for liveness), or [`Shed`] at
/// the cap. Shared by the server and in-process calls (`crate::in_process`), so a
/// service sheds the same way however it is called.
pub(crate) fn admit(
    in_flight: &Arc<Semaphore>,
    path: &str,
) -> Result<Option<OwnedSemaphorePermit>, Shed> {
    // Liveness stays answerable under load: a shedding server is alive, and a
    // supervisor that restarted it for a 503 would only make the overload worse.
    if path == LIVENESS_PATH {
        return Ok(None);
    }
    match in_flight.clone().try_acquire_owned() {
        Ok(permit) => Ok(Some(permit)),
        Err(_) => Err(Shed),
    }
}

/// A request in flight on its connection, from its head to its response's head.
struct RequestGuard(Arc<ConnectionState>);

impl RequestGuard {
    fn new(state: Arc<ConnectionState>) -> Self {
        state.requests.fetch_add(1, Ordering::AcqRel);
        state.head_started.store(false, Ordering::Release);
        state.activity.notify_one();
        Self(state)
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::AcqRel);
        self.0.activity.notify_one();
    }
}

/// 503 with `Retry-After`.
pub fn overloaded() -> Response<Body> {
    let headers = [
        (header::RETRY_AFTER, RETRY_AFTER_SECONDS),
        (header::CONTENT_TYPE, "application/json"),
    ];
    (StatusCode::SERVICE_UNAVAILABLE, headers, OVERLOADED_BODY).into_response()
}

/// A request body that must arrive whole within a deadline. A per-piece
/// timeout would let a client sending a byte now and then hold a request slot
/// for ever; this bounds the whole body.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, allowed: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(allowed)),
        }
    }
}

/// The error a body past its deadline fails with (a 400 where it is read).
#[derive(Debug)]
struct BodyDeadlinePassed;

impl std::fmt::Display for BodyDeadlinePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyDeadlinePassed {}

impl hyper::body::Body for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyDeadlinePassed))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, telling the watchdog when the bytes of a new request arrive.
struct Watched {
    inner: TcpStream,
    state: Arc<ConnectionState>,
    /// Set once the write side is shut: the rest of a refused body being drained.
    lingering: Option<Lingering>,
}

/// A refused request's body may still be on its way when the server answers (a 413 on
/// its `Content-Length`). Closing a socket with unread bytes makes the kernel reset the
/// connection, and the client then loses the answer it has not read yet. So when
/// bytes are still arriving at shutdown, the write side is closed first and what
/// arrives is read and dropped until the client closes, up to `LINGER_BYTES` or
/// `LINGER_TIME` (nginx's lingering close). A connection with nothing arriving closes at once.
struct Lingering {
    deadline: Pin<Box<tokio::time::Sleep>>,
    drained: usize,
}

const LINGER_TIME: Duration = Duration::from_secs(5);
const LINGER_BYTES: usize = 64 * 1024 * 1024;

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before
            && self.state.is_idle()
            && !self.state.head_started.swap(true, Ordering::AcqRel)
        {
            self.state.activity.notify_one();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let lingering = match &mut this.lingering {
            Some(lingering) => lingering,
            None => {
                std::task::ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                this.lingering.insert(Lingering {
                    deadline: Box::pin(tokio::time::sleep(LINGER_TIME)),
                    drained: 0,
                })
            }
        };
        let mut scratch = [0u8; 16 * 1024];
        loop {
            if lingering.drained >= LINGER_BYTES || lingering.deadline.as_mut().poll(cx).is_ready()
            {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    lingering.drained += buf.filled().len();
                }
                // Nothing was arriving: nothing to wait for.
                Poll::Pending if lingering.drained > 0 => return Poll::Pending,
                // The client closed, failed, or never had more to send.
                _ => return Poll::Ready(Ok(())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::routing::get;
    use tokio::sync::{Notify, mpsc};

    use super::*;
    use test_support::siege::{get as get_request, raw_exchange};

    /// A server whose `/hold` requests stay in flight until released, and
    /// which reports each one that has started.
    async fn holding_server(
        limits: ServerLimits,
    ) -> (
        std::net::SocketAddr,
        mpsc::UnboundedReceiver<()>,
        Arc<Notify>,
    ) {
        let (entered_tx, entered_rx) = mpsc::unbounded_channel();
        let release = Arc::new(Notify::new());
        let handler_release = release.clone();
        let app = Router::new()
            .route(
                "/hold",
                get(move || {
                    let entered = entered_tx.clone();
                    let release = handler_release.clone();
                    async move {
                        let _ = entered.send(());
                        release.notified().await;
                        "released"
                    }
                }),
            )
            .route("/health", get(|| async { "ok" }))
            .route("/other", get(|| async { "ok" }));
        let listener = bind("127.0.0.1", 0).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve(listener, app, limits, std::future::pending()));
        (addr, entered_rx, release)
    }

    #[tokio::test]
    async fn requests_beyond_the_in_flight_cap_are_shed_with_503_and_retry_after() {
        let limits = ServerLimits {
            max_in_flight: 1,
            ..ServerLimits::default()
        };
        let (addr, mut entered, release) = holding_server(limits).await;
        let first =
            tokio::spawn(async move { raw_exchange(addr, &get_request("/hold"), false).await });
        entered
            .recv()
            .await
            .expect("the first request is in flight");

        let shed = raw_exchange(addr, &get_request("/other"), false)
            .await
            .expect("an answer");
        assert_eq!(shed.status, 503, "{shed:?}");
        assert!(
            shed.head.to_ascii_lowercase().contains("retry-after: 1"),
            "{shed:?}"
        );
        assert_eq!(shed.error_code().as_deref(), Some("SERVICE_OVERLOADED"));
        let alive = raw_exchange(addr, &get_request("/health"), false)
            .await
            .expect("an answer");
        assert_eq!(alive.status, 200, "liveness is never shed: {alive:?}");

        release.notify_one();
        let first = first.await.expect("join").expect("an answer");
        assert_eq!(first.status, 200);
        let after = raw_exchange(addr, &get_request("/other"), false)
            .await
            .expect("an answer");
        assert_eq!(after.status, 200, "capacity is given back: {after:?}");
    }

    #[tokio::test]
    async fn at_the_connection_cap_with_every_connection_busy_a_new_one_gets_503() {
        let limits = ServerLimits {
            max_connections: 1,
            ..ServerLimits::default()
        };
        let (addr, mut entered, release) = holding_server(limits).await;
        let first =
            tokio::spawn(async move { raw_exchange(addr, &get_request("/hold"), false).await });
        entered
            .recv()
            .await
            .expect("the first request is in flight");

        let refused = raw_exchange(addr, &get_request("/health"), false)
            .await
            .expect("an answer");
        assert_eq!(refused.status, 503, "{refused:?}");
        assert!(
            refused.head.to_ascii_lowercase().contains("retry-after"),
            "{refused:?}"
        );

        release.notify_one();
        assert_eq!(first.await.expect("join").expect("an answer").status, 200);
    }

    #[tokio::test]
    async fn at_the_connection_cap_the_oldest_idle_connection_makes_room() {
        let limits = ServerLimits {
            max_connections: 2,
            ..ServerLimits::default()
        };
        let (addr, _entered, _release) = holding_server(limits).await;
        let mut oldest = TcpStream::connect(addr).await.expect("connect");
        let _younger = TcpStream::connect(addr).await.expect("connect");
        let response = raw_exchange(addr, &get_request("/health"), false)
            .await
            .expect("an answer");
        assert_eq!(response.status, 200, "{response:?}");
        test_support::siege::closed_by_server(&mut oldest)
            .await
            .expect("the oldest idle connection was closed for the new one");
    }

    /// A body refused on its `Content-Length` is answered while the client is still
    /// sending it: the client must still read the 413, not a reset connection.
    #[tokio::test]
    async fn a_client_still_sending_a_refused_body_reads_the_answer() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let app = Router::new()
            .route("/upload", axum::routing::post(|| async { "taken" }))
            .layer(tower_http::limit::RequestBodyLimitLayer::new(1024));
        let listener = bind("127.0.0.1", 0).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve(
            listener,
            app,
            ServerLimits::DEFAULT,
            std::future::pending(),
        ));
        for _ in 0..20 {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            let declared = 4 * 1024 * 1024;
            let head = format!(
                "POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: {declared}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await.expect("head sent");
            // The whole body, as an HTTP client sends it before it reads the answer: a
            // server that closed on the unread rest would fail these writes (reset).
            let chunk = vec![b'x'; 256 * 1024];
            for sent in 0..16 {
                let written = stream.write_all(&chunk).await;
                assert!(written.is_ok(), "chunk {sent}: {written:?}");
            }
            let mut answer = Vec::new();
            let read = stream.read_to_end(&mut answer).await;
            let text = String::from_utf8_lossy(&answer);
            assert!(
                text.starts_with("HTTP/1.1 413"),
                "read {read:?}, answer {:?}",
                text.chars().take(80).collect::<String>()
            );
        }
    }

    #[test]
    fn the_connection_cap_stays_below_the_open_file_limit() {
        let limits = ServerLimits::default();
        assert_eq!(limits.effective_max_connections(1_000_000), 10_000);
        assert_eq!(limits.effective_max_connections(4_096), 4_096 - 256 - 1_024);
        assert_eq!(limits.effective_max_connections(100), 1);
    }
}
