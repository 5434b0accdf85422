//! Prometheus metrics of the router, served at `/metrics`: HTTP requests by
//! status and their latency, subgraph fetch latency and errors per subgraph,
//! and supergraph reloads. One [`Metrics`] handle is shared by the HTTP layer
//! and the engine (it is cheap to clone).

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of the exposition format `/metrics` answers with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SubgraphLabels {
    subgraph: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Counts one more `outcome` in a family of outcome counters.
fn count_outcome(counters: &Family<OutcomeLabels, Counter>, outcome: &'static str) {
    counters.get_or_create(&OutcomeLabels { outcome }).inc();
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets from 1 ms to about 16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

struct Inner {
    registry: Registry,
    http_requests: Family<StatusLabels, Counter>,
    http_request_duration: Histogram,
    subgraph_fetch_duration: HistogramFamily<SubgraphLabels>,
    subgraph_fetch_errors: Family<SubgraphLabels, Counter>,
    supergraph_reloads: Family<OutcomeLabels, Counter>,
    selections_visited: Counter,
    estimated_cost: Histogram,
    actual_cost: Histogram,
    cost_refusals: Counter,
    abandoned_requests: Counter,
    shared_operations: Counter,
    persisted_queries: Family<OutcomeLabels, Counter>,
}

/// Costs from 1 to about a million, by factors of 4.
fn cost_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 4.0, 11))
}

/// The router's metrics. The engine records each subgraph fetch with
/// [`Metrics::record_subgraph_fetch`].
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("router");
        let http_requests = Family::<StatusLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served, by status code",
            http_requests.clone(),
        );
        let http_request_duration = latency_histogram();
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            http_request_duration.clone(),
        );
        let subgraph_fetch_duration: HistogramFamily<SubgraphLabels> =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "subgraph_fetch_duration_seconds",
            "Time of one request to a subgraph, by subgraph",
            subgraph_fetch_duration.clone(),
        );
        let subgraph_fetch_errors = Family::<SubgraphLabels, Counter>::default();
        registry.register(
            "subgraph_fetch_errors",
            "Subgraph requests that failed (unreachable, timed out, not a GraphQL response), by subgraph",
            subgraph_fetch_errors.clone(),
        );
        let supergraph_reloads = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "supergraph_reloads",
            "Attempts to load a changed supergraph file, by outcome",
            supergraph_reloads.clone(),
        );
        let selections_visited = Counter::default();
        registry.register(
            "limit_selections_visited",
            "Selections looked at while checking documents against the limits (each fragment once, never expanded)",
            selections_visited.clone(),
        );
        let estimated_cost = cost_histogram();
        registry.register(
            "demand_control_estimated_cost",
            "Estimated cost of each operation demand control looked at (refused ones included)",
            estimated_cost.clone(),
        );
        let actual_cost = cost_histogram();
        registry.register(
            "demand_control_actual_cost",
            "Actual cost of each response, measured on what came back",
            actual_cost.clone(),
        );
        let cost_refusals = Counter::default();
        registry.register(
            "demand_control_refusals",
            "Operations refused because their estimated cost was over the maximum",
            cost_refusals.clone(),
        );
        let abandoned_requests = Counter::default();
        registry.register(
            "graphql_requests_abandoned",
            "GraphQL requests dropped before they were answered because the client went away",
            abandoned_requests.clone(),
        );
        let shared_operations = Counter::default();
        registry.register(
            "graphql_operations_shared",
            "GraphQL operations answered by joining an identical one in flight (inbound deduplication)",
            shared_operations.clone(),
        );
        let persisted_queries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "persisted_queries",
            "Persisted documents by outcome: apq_hit (a hash-only request found its query), apq_miss, apq_registered, trusted_document (found in the manifest), unlisted_logged, unlisted_refused",
            persisted_queries.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                persisted_queries,
                abandoned_requests,
                shared_operations,
                selections_visited,
                estimated_cost,
                actual_cost,
                cost_refusals,
                registry,
                http_requests,
                http_request_duration,
                subgraph_fetch_duration,
                subgraph_fetch_errors,
                supergraph_reloads,
            }),
        }
    }

    pub fn record_http_request(&self, status: u16, elapsed: Duration) {
        self.inner
            .http_requests
            .get_or_create(&StatusLabels { status })
            .inc();
        self.inner
            .http_request_duration
            .observe(elapsed.as_secs_f64());
    }

    /// One request to `subgraph` took `elapsed`; `succeeded` is false when no
    /// GraphQL response came back (connection error, timeout, bad status or body).
    pub fn record_subgraph_fetch(&self, subgraph: &str, elapsed: Duration, succeeded: bool) {
        let labels = SubgraphLabels {
            subgraph: subgraph.to_owned(),
        };
        self.inner
            .subgraph_fetch_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        if !succeeded {
            self.inner
                .subgraph_fetch_errors
                .get_or_create(&labels)
                .inc();
        }
    }

    pub fn record_supergraph_reload(&self, succeeded: bool) {
        let outcome = if succeeded { "success" } else { "failure" };
        count_outcome(&self.inner.supergraph_reloads, outcome);
    }

    /// Checking a document against the limits looked at `selections` selections.
    pub fn record_limit_work(&self, selections: u64) {
        self.inner.selections_visited.inc_by(selections);
    }

    /// Demand control estimated an operation's cost (and refused it, or not).
    pub fn record_estimated_cost(&self, cost: f64, refused: bool) {
        self.inner.estimated_cost.observe(cost);
        if refused {
            self.record_cost_refusal();
        }
    }

    /// An operation refused for its cost after its estimate was recorded (a streamed
    /// `@defer` charges it once per execution).
    pub fn record_cost_refusal(&self) {
        self.inner.cost_refusals.inc();
    }

    /// A request was dropped unanswered: its client went away.
    pub fn record_abandoned_request(&self) {
        self.inner.abandoned_requests.inc();
    }

    /// An operation joined an identical one in flight instead of executing.
    pub fn record_shared_operation(&self) {
        self.inner.shared_operations.inc();
    }

    /// What happened to a persisted document (see `apq`).
    pub fn record_persisted_query(&self, outcome: &'static str) {
        count_outcome(&self.inner.persisted_queries, outcome);
    }

    /// The actual cost of a response.
    pub fn record_actual_cost(&self, cost: f64) {
        self.inner.actual_cost.observe(cost);
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_values_appear_in_the_exposition() {
        let metrics = Metrics::new();
        metrics.record_http_request(200, Duration::from_millis(3));
        metrics.record_subgraph_fetch("users", Duration::from_millis(2), true);
        metrics.record_subgraph_fetch("users", Duration::from_millis(2), false);
        metrics.record_supergraph_reload(false);
        let text = metrics.encode();
        assert!(
            text.contains("router_http_requests_total{status=\"200\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("router_http_request_duration_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains("router_subgraph_fetch_duration_seconds_count{subgraph=\"users\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("router_subgraph_fetch_errors_total{subgraph=\"users\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("router_supergraph_reloads_total{outcome=\"failure\"} 1"),
            "{text}"
        );
    }
}
