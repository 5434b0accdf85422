//! Circuit breaking and retries for subgraph fetches, as a wrapper around the
//! HTTP transport, so that one failing subgraph costs the router (and its
//! clients) as little as possible and a blip costs nothing:
//! - after `failure_threshold` failed exchanges in a row (no answer, timeout, or
//!   an HTTP 5xx), the subgraph's circuit opens and its fetches fail at once,
//!   without a connection attempt, for `cool_down`; then ONE fetch is let through
//!   as a probe: success closes the circuit, failure opens it for another cool-down;
//! - a failed query fetch is sent once more if the subgraph timeout leaves time for
//!   it and the circuit is still closed (a restarted subgraph refuses a connection
//!   or two); a mutation is never sent twice — it may have taken effect.
//!
//! A GraphQL answer (even one full of errors, e.g. the subgraph's store is down)
//! is a success here: the subgraph is up and said what it had to say.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use parking_lot::Mutex;

use super::failure::FetchFailure;
use super::transport::{SubgraphRequest, SubgraphResponse, SubgraphTransport, TransportError};

/// How one subgraph's fetches are protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResilienceSettings {
    /// Failed exchanges in a row that open the circuit (0 turns circuit breaking off).
    pub failure_threshold: u32,
    /// How long an open circuit fails fetches before letting one probe through.
    pub cool_down: Duration,
    /// Whether a failed query fetch is sent once more within the subgraph timeout.
    pub retry_queries: bool,
}

impl ResilienceSettings {
    pub const DEFAULT: ResilienceSettings = ResilienceSettings {
        failure_threshold: 5,
        cool_down: Duration::from_secs(2),
        retry_queries: true,
    };
}

impl Default for ResilienceSettings {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The settings of every subgraph: one default, overridden per subgraph name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResilienceOptions {
    pub default: ResilienceSettings,
    pub per_subgraph: HashMap<String, ResilienceSettings>,
}

impl ResilienceOptions {
    fn for_subgraph(&self, subgraph: &str) -> ResilienceSettings {
        self.per_subgraph
            .get(subgraph)
            .copied()
            .unwrap_or(self.default)
    }
}

/// One subgraph's circuit.
#[derive(Debug, Clone, Copy)]
enum Circuit {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// The cool-down is over and one probe is in flight; others still fail fast.
    Probing,
}

/// Whether a fetch may go out, and as what.
enum Admission {
    Normal,
    Probe,
    Refused { retry_in: Duration },
}

/// Wraps a transport with per-subgraph circuit breakers and query retries.
pub struct ResilientTransport {
    inner: Arc<dyn SubgraphTransport>,
    options: ResilienceOptions,
    /// The subgraph timeout: retries happen only within it, and an exchange that takes
    /// longer counts as failed even if the caller has stopped waiting.
    deadline: Duration,
    circuits: Arc<Mutex<HashMap<Arc<str>, Circuit>>>,
}

impl ResilientTransport {
    pub fn new(
        inner: Arc<dyn SubgraphTransport>,
        options: ResilienceOptions,
        deadline: Duration,
    ) -> ResilientTransport {
        ResilientTransport {
            inner,
            options,
            deadline,
            circuits: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

/// The shared circuit table.
#[derive(Clone)]
struct Circuits {
    table: Arc<Mutex<HashMap<Arc<str>, Circuit>>>,
    subgraph: Arc<str>,
    settings: ResilienceSettings,
}

impl Circuits {
    fn with<T>(&self, change: impl FnOnce(&mut Circuit) -> T) -> T {
        let mut table = self.table.lock();
        let circuit = table
            .entry(self.subgraph.clone())
            .or_insert(Circuit::Closed { failures: 0 });
        change(circuit)
    }

    fn admit(&self) -> Admission {
        if self.settings.failure_threshold == 0 {
            return Admission::Normal;
        }
        let now = Instant::now();
        self.with(|circuit| match *circuit {
            Circuit::Closed { .. } => Admission::Normal,
            Circuit::Open { until } if now < until => Admission::Refused {
                retry_in: until - now,
            },
            Circuit::Open { .. } => {
                *circuit = Circuit::Probing;
                Admission::Probe
            }
            Circuit::Probing => Admission::Refused {
                retry_in: Duration::ZERO,
            },
        })
    }

    /// Whether the circuit is closed (a retry may go out).
    fn is_closed(&self) -> bool {
        self.settings.failure_threshold == 0
            || self.with(|circuit| matches!(circuit, Circuit::Closed { .. }))
    }

    fn record(&self, succeeded: bool) {
        let settings = self.settings;
        if settings.failure_threshold == 0 {
            return;
        }
        let subgraph = self.subgraph.clone();
        self.with(|circuit| {
            if succeeded {
                if matches!(circuit, Circuit::Probing) {
                    tracing::info!(subgraph = %subgraph, "subgraph answers again; circuit closed");
                }
                *circuit = Circuit::Closed { failures: 0 };
                return;
            }
            let failures = match *circuit {
                Circuit::Closed { failures } => failures.saturating_add(1),
                // A failed probe (or a late failure while open) opens it again.
                Circuit::Probing | Circuit::Open { .. } => settings.failure_threshold,
            };
            if failures >= settings.failure_threshold {
                if !matches!(circuit, Circuit::Open { .. }) {
                    tracing::warn!(
                        subgraph = %subgraph,
                        failures,
                        cool_down_ms = settings.cool_down.as_millis() as u64,
                        "subgraph keeps failing; circuit open"
                    );
                }
                *circuit = Circuit::Open {
                    until: Instant::now() + settings.cool_down,
                };
            } else {
                *circuit = Circuit::Closed { failures };
            }
        });
    }
}

impl SubgraphTransport for ResilientTransport {
    fn fetch(
        &self,
        request: SubgraphRequest,
    ) -> BoxFuture<'static, Result<SubgraphResponse, TransportError>> {
        let circuits = Circuits {
            table: self.circuits.clone(),
            subgraph: request.subgraph.clone(),
            settings: self.options.for_subgraph(&request.subgraph),
        };
        let probe = match circuits.admit() {
            Admission::Normal => false,
            Admission::Probe => true,
            Admission::Refused { retry_in } => {
                let message = format!(
                    "the subgraph failed repeatedly; not contacted for another {} ms",
                    retry_in.as_millis()
                );
                return futures::future::ready(Err(TransportError::new(
                    FetchFailure::CircuitOpen,
                    message,
                )))
                .boxed();
            }
        };
        let inner = self.inner.clone();
        let deadline = Instant::now() + self.deadline;
        // Polled by the caller, not spawned: when the caller stops waiting (its client
        // went away, its request deadline passed) the exchange is dropped and the
        // subgraph connection closed. `Unsettled` still records what must be recorded.
        async move {
            let mut unsettled = Unsettled {
                circuits: circuits.clone(),
                probe,
                deadline,
                pending: true,
            };
            let first = attempt(&inner, request.clone(), deadline).await;
            let failed = is_failure(&first);
            unsettled.pending = false;
            circuits.record(!failed);
            if !failed
                || probe
                || !circuits.settings.retry_queries
                || Instant::now() >= deadline
                || !circuits.is_closed()
                || !is_query(&request.body)
            {
                return first;
            }
            tracing::debug!(subgraph = %request.subgraph, "retrying a failed query fetch");
            unsettled.pending = true;
            let second = attempt(&inner, request, deadline).await;
            unsettled.pending = false;
            circuits.record(!is_failure(&second));
            second
        }
        .boxed()
    }
}

/// An exchange whose outcome is not recorded yet. Dropped while pending, it was
/// abandoned by its caller: past the subgraph deadline that is a timeout (a
/// failure, as if the exchange had run on); before it, nothing is known about the
/// subgraph, so nothing is recorded, except that an abandoned probe lets the next
/// fetch probe instead of leaving the circuit waiting for an answer forever.
struct Unsettled {
    circuits: Circuits,
    probe: bool,
    deadline: Instant,
    pending: bool,
}

impl Drop for Unsettled {
    fn drop(&mut self) {
        if !self.pending {
            return;
        }
        if Instant::now() >= self.deadline {
            self.circuits.record(false);
        } else if self.probe {
            self.circuits.with(|circuit| {
                if matches!(circuit, Circuit::Probing) {
                    *circuit = Circuit::Open {
                        until: Instant::now(),
                    };
                }
            });
        }
    }
}

/// One exchange, bounded by what is left of the deadline.
async fn attempt(
    inner: &Arc<dyn SubgraphTransport>,
    request: SubgraphRequest,
    deadline: Instant,
) -> Result<SubgraphResponse, TransportError> {
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(left, inner.fetch(request)).await {
        Ok(result) => result,
        Err(_) => Err(TransportError::new(
            FetchFailure::Timeout,
            format!("no response within {} ms", left.as_millis()),
        )),
    }
}

/// No answer, or an HTTP server error: the subgraph (or what is in front of it) is failing.
fn is_failure(result: &Result<SubgraphResponse, TransportError>) -> bool {
    match result {
        Ok(response) => response.status >= 500,
        Err(_) => true,
    }
}

/// Whether a subgraph request body holds a query (safe to send twice). Anything
/// else — a mutation, a subscription, a body that cannot be read — is not retried.
/// Only read on the failure path, so the happy path parses nothing.
fn is_query(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        query: Cow<'a, str>,
    }
    let Ok(body) = serde_json::from_slice::<Body>(body) else {
        return false;
    };
    let mut rest = body
        .query
        .trim_start_matches(|c: char| c.is_whitespace() || c == ',' || c == '\u{feff}');
    // Skip leading comments.
    while let Some(comment) = rest.strip_prefix('#') {
        rest = comment
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start_matches(|c: char| c.is_whitespace() || c == ',');
    }
    if rest.starts_with('{') {
        return true;
    }
    let keyword: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    keyword == "query"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_queries_are_retryable() {
        assert!(is_query(br#"{"query": "{ me { id } }"}"#));
        assert!(is_query(
            br#"{"query": "query Q($a: ID) { me { id } }", "variables": {}}"#
        ));
        assert!(is_query(
            br##"{"query": "# a comment\n  query { _entities { __typename } }"}"##
        ));
        assert!(!is_query(br#"{"query": "mutation { login { token } }"}"#));
        assert!(!is_query(br#"{"query": "  mutation M { x }"}"#));
        assert!(!is_query(br#"{"query": "queryX { x }"}"#));
        assert!(!is_query(br#"{"query": "subscription { x }"}"#));
        assert!(!is_query(b"not json"));
    }

    #[test]
    fn circuit_opens_after_the_threshold_then_probes_once() {
        let circuits = Circuits {
            table: Arc::default(),
            subgraph: "users".into(),
            settings: ResilienceSettings {
                failure_threshold: 2,
                cool_down: Duration::ZERO,
                retry_queries: true,
            },
        };
        assert!(matches!(circuits.admit(), Admission::Normal));
        circuits.record(false);
        assert!(circuits.is_closed());
        circuits.record(false);
        assert!(!circuits.is_closed());
        // Cool-down zero: the next fetch is the probe, the one after it waits for the probe.
        assert!(matches!(circuits.admit(), Admission::Probe));
        assert!(matches!(circuits.admit(), Admission::Refused { .. }));
        circuits.record(false);
        assert!(matches!(circuits.admit(), Admission::Probe));
        circuits.record(true);
        assert!(circuits.is_closed());
        assert!(matches!(circuits.admit(), Admission::Normal));
    }
}
