//! The one place our HTTP clients (reqwest) are built from, so that they agree
//! with our servers about keep-alive.
//!
//! Every service's server closes a keep-alive connection that stayed idle for
//! `HTTP_IDLE_TIMEOUT_MS` ([`crate::http_server::ServerLimits`], 60 s by
//! default), while reqwest keeps an idle connection pooled for 90 s. Between
//! the two, a client could write its next request on a connection the server
//! is closing at that very moment, and the request failed with a reset
//! connection instead of being sent on a fresh one. A client built here drops
//! its idle connections well before the server would.

use std::time::Duration;

use crate::http_server::ServerLimits;

/// How long a client keeps an idle connection for reuse: half the servers'
/// default idle timeout, so the client always gives up first, with a margin
/// for clocks and scheduling (a deployment that shortens `HTTP_IDLE_TIMEOUT_MS`
/// below twice this should keep it above it).
pub const POOL_IDLE_TIMEOUT: Duration =
    Duration::from_millis(ServerLimits::DEFAULT.idle_timeout_ms / 2);

/// A reqwest client builder whose pool forgets idle connections before our
/// servers close them; callers add their own timeouts and pool sizes.
pub fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().pool_idle_timeout(POOL_IDLE_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_give_up_idle_connections_before_the_servers_close_them() {
        let server_idle = Duration::from_millis(ServerLimits::DEFAULT.idle_timeout_ms);
        assert!(POOL_IDLE_TIMEOUT < server_idle, "{POOL_IDLE_TIMEOUT:?}");
        assert!(!POOL_IDLE_TIMEOUT.is_zero(), "connections are still reused");
        builder().build().expect("the client builds");
    }
}
