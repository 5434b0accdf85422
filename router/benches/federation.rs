//! Throughput, latency, CPU and memory of our router against Apollo Gateway on
//! the same supergraph and subgraphs, for one query joining entities across
//! the fixture subgraphs. Not a test: run with
//!
//! ```sh
//! cargo bench -p router --bench federation
//! ```
//!
//! Every process is separate: the four subgraphs (this binary again, in subgraph
//! mode), our router (release build) and Apollo Gateway (node, `tools/federation`,
//! `scripts/setup` installs it). The load comes from this process over keep-alive
//! connections. Tunable with `BENCH_CONNECTIONS` (50), `BENCH_WARMUP_SECONDS` (3),
//! `BENCH_SECONDS` (10) and `BENCH_ROUTER_ARGS` (extra router flags, e.g. `--dedup off`).
//!
//! With `BENCH_COMPARE` set (`tracing`, or the path of a baseline router binary) it
//! measures two variants of our router against each other instead (see
//! `federation/compare.rs`).

#[allow(dead_code)]
#[path = "../tests/federation/subgraphs.rs"]
mod subgraphs;

mod federation {
    pub mod compare;
    pub mod load;
    pub mod processes;
}

/// Shared with the differential test: the supergraph and Apollo Gateway.
#[path = "../tests/differential/apollo.rs"]
mod apollo;

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::federation::compare::{self, Comparison};
use crate::federation::load::{self, Load, Measured};
use crate::federation::processes::{self, OTLP_RECEIVER_MODE_VARIABLE, SUBGRAPH_MODE_VARIABLE};

/// Products, their reviews and the reviewers' accounts, plus `@requires` fields from inventory.
const QUERY: &str = "{ topProducts { upc name price reviews { id body author { id name username } } ... on Book { inStock shippingEstimate } } }";

/// Per-request budget of our router's CPU.
const CPU_TARGET: Duration = Duration::from_micros(500);
/// How many times Apollo Gateway's throughput we aim for.
const THROUGHPUT_TARGET: f64 = 20.0;

struct Report {
    name: &'static str,
    measured: Measured,
    cpu_per_request: Duration,
    /// The four subgraph processes together: on a small machine they, not the
    /// router, may be what limits throughput.
    subgraph_cpu_per_request: Duration,
    resident_kib: u64,
}

fn main() -> anyhow::Result<()> {
    if let Ok(name) = std::env::var(SUBGRAPH_MODE_VARIABLE) {
        return processes::serve_subgraph(&name);
    }
    if std::env::var_os(OTLP_RECEIVER_MODE_VARIABLE).is_some() {
        return processes::serve_discarding_otlp_receiver();
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and a
    // half-minute benchmark has no place in a test run.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "federation benchmark: skipped (run it with `cargo bench -p router --bench federation`)"
        );
        return Ok(());
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(benchmark())
}

fn seconds_from_env(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default),
    )
}

async fn benchmark() -> anyhow::Result<()> {
    let load = Load {
        connections: std::env::var("BENCH_CONNECTIONS")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(50),
        warm_up: seconds_from_env("BENCH_WARMUP_SECONDS", 3),
        measure: seconds_from_env("BENCH_SECONDS", 10),
    };
    let router_args: Vec<String> = std::env::var("BENCH_ROUTER_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();

    let subgraphs = processes::spawn_subgraphs().await?;
    let urls: Vec<(&str, String)> = subgraphs
        .iter()
        .map(|running| (running.name.as_str(), running.graphql_url.clone()))
        .collect();
    let supergraph = apollo::write_supergraph("router-bench", &apollo::supergraph_with_urls(&urls));
    let client = load::client(load.connections)?;
    let body = Bytes::from(json!({ "query": QUERY }).to_string());
    let subgraph_pids = subgraphs.iter().map(processes::Running::pid).collect();
    if let Some(comparison) = Comparison::from_env() {
        let rounds = std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(3);
        let bench = Bench {
            client,
            body,
            load,
            subgraph_pids,
        };
        return compare::run(comparison, &bench, &supergraph, &router_args, rounds).await;
    }
    let router = processes::spawn_router(&supergraph, &router_args).await?;
    let gateway = apollo::spawn_apollo_gateway(&supergraph).await;

    let expected_ours = load::send_once(&client, &router.graphql_url, &body).await?;
    let expected_apollo = load::send_once(&client, &gateway.graphql_url, &body).await?;
    check_same_answer(&expected_ours, &expected_apollo)?;

    println!(
        "query: {QUERY}\nload: {} connections, {:?} warm-up, {:?} measured; router flags: {router_args:?}\n",
        load.connections, load.warm_up, load.measure
    );
    let bench = Bench {
        client,
        body,
        load,
        subgraph_pids,
    };
    let ours = bench
        .measure(
            "router (ours)",
            router.pid(),
            &router.graphql_url,
            expected_ours,
        )
        .await?;
    let apollo = bench
        .measure(
            "Apollo Gateway",
            gateway.pid(),
            &gateway.graphql_url,
            expected_apollo,
        )
        .await?;

    print_table(&[&ours, &apollo]);
    print_ratios(&ours, &apollo);
    for report in [&ours, &apollo] {
        if let Some(problem) = &report.measured.first_wrong {
            anyhow::bail!(
                "{}: {} of {} responses were wrong, first: {problem}",
                report.name,
                report.measured.wrong,
                report.measured.requests
            );
        }
    }
    Ok(())
}

/// Both answer the benchmark query with the same data and no errors.
fn check_same_answer(ours: &[u8], apollo: &[u8]) -> anyhow::Result<()> {
    let ours: Value = serde_json::from_slice(ours)?;
    let apollo: Value = serde_json::from_slice(apollo)?;
    for (name, body) in [("our router", &ours), ("Apollo Gateway", &apollo)] {
        anyhow::ensure!(
            body.get("errors").is_none() && body["data"].is_object(),
            "{name} does not answer the benchmark query cleanly: {body}"
        );
    }
    anyhow::ensure!(
        ours["data"] == apollo["data"],
        "the routers disagree on the benchmark query:\nours: {ours}\nApollo Gateway: {apollo}"
    );
    Ok(())
}

/// What every measurement shares.
struct Bench {
    client: reqwest::Client,
    body: Bytes,
    load: Load,
    subgraph_pids: Vec<u32>,
}

impl Bench {
    /// Warms `url` (process `pid`) up, then measures it; every answer must be `expected`.
    async fn measure(
        &self,
        name: &'static str,
        pid: u32,
        url: &str,
        expected: Bytes,
    ) -> anyhow::Result<Report> {
        let (client, body, connections) = (&self.client, &self.body, self.load.connections);
        load::drive(client, url, body, &expected, connections, self.load.warm_up).await;
        let before = processes::cpu_time(pid)?;
        let subgraphs_before = subgraphs_cpu_time(&self.subgraph_pids)?;
        let measured =
            load::drive(client, url, body, &expected, connections, self.load.measure).await;
        let cpu = processes::cpu_time(pid)?.saturating_sub(before);
        let subgraph_cpu =
            subgraphs_cpu_time(&self.subgraph_pids)?.saturating_sub(subgraphs_before);
        let requests = u32::try_from(measured.requests.max(1)).unwrap_or(u32::MAX);
        Ok(Report {
            name,
            cpu_per_request: cpu / requests,
            subgraph_cpu_per_request: subgraph_cpu / requests,
            resident_kib: processes::resident_kib(pid)?,
            measured,
        })
    }
}

fn subgraphs_cpu_time(pids: &[u32]) -> anyhow::Result<Duration> {
    pids.iter().map(|pid| processes::cpu_time(*pid)).sum()
}

fn print_table(reports: &[&Report]) {
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>14} {:>10} {:>8} {:>24}",
        "target",
        "req/s",
        "p50",
        "p99",
        "CPU/request",
        "RSS MiB",
        "wrong",
        "subgraphs' CPU/request"
    );
    for report in reports {
        let measured = &report.measured;
        println!(
            "{:<16} {:>10.0} {:>10.2?} {:>10.2?} {:>14.1?} {:>10.1} {:>8} {:>24.1?}",
            report.name,
            measured.throughput(),
            measured.percentile(0.50),
            measured.percentile(0.99),
            report.cpu_per_request,
            report.resident_kib as f64 / 1024.0,
            measured.wrong,
            report.subgraph_cpu_per_request
        );
    }
}

fn print_ratios(ours: &Report, apollo: &Report) {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::INFINITY };
    let throughput = ratio(ours.measured.throughput(), apollo.measured.throughput());
    println!("\nours vs Apollo Gateway:");
    println!(
        "  throughput      {throughput:.1}x (target ≥ {THROUGHPUT_TARGET}x: {})",
        verdict(throughput >= THROUGHPUT_TARGET)
    );
    println!(
        "  p50 latency     {:.2}x lower",
        ratio(
            apollo.measured.percentile(0.5).as_secs_f64(),
            ours.measured.percentile(0.5).as_secs_f64()
        )
    );
    println!(
        "  p99 latency     {:.2}x lower",
        ratio(
            apollo.measured.percentile(0.99).as_secs_f64(),
            ours.measured.percentile(0.99).as_secs_f64()
        )
    );
    println!(
        "  CPU per request {:.1}x less (ours {:?}, target < {CPU_TARGET:?}: {})",
        ratio(
            apollo.cpu_per_request.as_secs_f64(),
            ours.cpu_per_request.as_secs_f64()
        ),
        ours.cpu_per_request,
        verdict(ours.cpu_per_request < CPU_TARGET)
    );
    println!(
        "  memory (RSS)    {:.1}x less",
        ratio(apollo.resident_kib as f64, ours.resident_kib as f64)
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
