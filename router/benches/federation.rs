//! Throughput, latency, CPU and memory of our router against Apollo Gateway on
//! the same supergraph and subgraphs, for one query joining entities across
//! the four fixture subgraphs. Not a test: run with
//!
//! ```sh
//! cargo bench -p router --bench federation
//! ```
//!
//! The query has the shape and size of the public gateway benchmark's
//! (graphql-hive/graphql-gateways-benchmark): users and top products, their
//! reviews, the reviewed products with their reviews, those reviews' authors and
//! the authors' reviews — 7 subgraph fetches, an answer of tens of KB (the
//! subgraphs serve generated readers and books beside the fixture's data).
//! `BENCH_QUERY=small` measures the earlier small query instead.
//!
//! Our router runs in its three deduplication modes — inbound + subgraph-fetch
//! (the default), subgraph-fetch only, all off — beside Apollo Gateway, in one
//! run, and the ratios against Apollo Gateway and against the targets are printed.
//!
//! Every process is separate: the four subgraphs (this binary again, in subgraph
//! mode), our routers (release build) and Apollo Gateway (node, `tools/federation`,
//! `scripts/setup` installs it). The load comes from this process over keep-alive
//! connections. Tunable with `BENCH_CONNECTIONS` (50), `BENCH_WARMUP_SECONDS` (3),
//! `BENCH_SECONDS` (10), `BENCH_ROUNDS` (1; each round measures every target once,
//! in rotating order) and `BENCH_ROUTER_ARGS` (extra flags for every router).
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

/// The public gateway benchmark's query, on the fixture schema (whose `Product` is
/// an interface: the inventory fields are on `Book`).
const LARGE_QUERY: &str = "fragment U on User { id username name } \
fragment R on Review { id body } \
fragment P on Product { upc name price ... on Book { weight inStock shippingEstimate } } \
query Bench { \
users { ...U reviews { ...R product { ...P reviews { ...R author { ...U reviews { ...R product { ...P } } } } } } } \
topProducts(first: 50) { ...P reviews { ...R author { ...U reviews { ...R product { ...P } } } } } }";

/// Products, their reviews and the reviewers' accounts, plus `@requires` fields from inventory.
const SMALL_QUERY: &str = "{ topProducts { upc name price reviews { id body author { id name username } } ... on Book { inStock shippingEstimate } } }";

/// Generated readers and books the subgraphs serve: the large query is then answered
/// with ~90 KB, the size of the public benchmark's answer (87 KB).
const GENERATED_DATA: &str = "12";

/// A way of running our router, and what we aim for in it: the best Rust router's
/// CPU per request in the same mode on this machine (issue 16) × 0.8, and a
/// multiple of Apollo Gateway's throughput.
struct Mode {
    name: &'static str,
    args: &'static [&'static str],
    cpu_target: Duration,
    throughput_target: f64,
}

const MODES: [Mode; 3] = [
    Mode {
        name: "inbound+subgraph",
        args: &[],
        cpu_target: Duration::from_micros(160),
        throughput_target: 150.0,
    },
    Mode {
        name: "subgraph dedup",
        args: &["--inbound-dedup", "off"],
        cpu_target: Duration::from_micros(1_100),
        throughput_target: 40.0,
    },
    Mode {
        name: "all dedup off",
        args: &["--inbound-dedup", "off", "--dedup", "off"],
        cpu_target: Duration::from_micros(1_600),
        throughput_target: 20.0,
    },
];

/// The most resident memory we aim for in any mode.
const RSS_TARGET_MIB: f64 = 45.0;

struct Report {
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
    let query = match std::env::var("BENCH_QUERY").as_deref() {
        Ok("small") => SMALL_QUERY,
        _ => LARGE_QUERY,
    };
    let rounds = |default| {
        std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };

    let subgraphs = processes::spawn_subgraphs(GENERATED_DATA).await?;
    let urls: Vec<(&str, String)> = subgraphs
        .iter()
        .map(|running| (running.name.as_str(), running.graphql_url.clone()))
        .collect();
    let supergraph = apollo::write_supergraph("router-bench", &apollo::supergraph_with_urls(&urls));
    let bench = Bench {
        client: load::client(load.connections)?,
        body: Bytes::from(json!({ "query": query }).to_string()),
        load,
        subgraph_pids: subgraphs.iter().map(processes::Running::pid).collect(),
        query,
    };
    if let Some(comparison) = Comparison::from_env() {
        return compare::run(comparison, &bench, &supergraph, &router_args, rounds(3)).await;
    }

    // Every target runs for the whole benchmark; each is measured in turn.
    let mut routers = Vec::new();
    for mode in &MODES {
        let args: Vec<String> = mode
            .args
            .iter()
            .map(|arg| (*arg).to_owned())
            .chain(router_args.iter().cloned())
            .collect();
        routers.push(processes::spawn_router(&supergraph, &args).await?);
    }
    let gateway = apollo::spawn_apollo_gateway(&supergraph).await;
    let mut targets: Vec<(String, u32, String)> = MODES
        .iter()
        .zip(&routers)
        .map(|(mode, router)| {
            (
                format!("ours: {}", mode.name),
                router.pid(),
                router.graphql_url.clone(),
            )
        })
        .collect();
    targets.push((
        "Apollo Gateway".to_owned(),
        gateway.pid(),
        gateway.graphql_url.clone(),
    ));
    let mut expected = Vec::new();
    for (_, _, url) in &targets {
        expected.push(load::send_once(&bench.client, url, &bench.body).await?);
    }
    let apollo_answer = expected.last().cloned().unwrap_or_default();
    for answer in &expected {
        check_same_answer(answer, &apollo_answer)?;
    }

    let rounds = rounds(1);
    println!(
        "query ({} bytes answered): {query}\nload: {} connections, {:?} warm-up, {:?} measured, {rounds} round(s); extra router flags: {router_args:?}\n",
        apollo_answer.len(),
        load.connections,
        load.warm_up,
        load.measure
    );
    let mut totals: Vec<Totals> = targets
        .iter()
        .map(|(label, _, _)| Totals {
            label: label.clone(),
            rounds: Vec::new(),
        })
        .collect();
    for round in 0..rounds {
        // Each round starts with another target, so that drift treats all alike.
        for offset in 0..targets.len() {
            let index = (round + offset) % targets.len();
            let (label, pid, url) = &targets[index];
            let report = bench
                .measure(*pid, url, Bytes::clone(&expected[index]))
                .await?;
            println!(
                "round {}: {label:<26} {:>8.0} req/s  p99 {:>9.2?}  CPU/request {:>9.1?}",
                round + 1,
                report.measured.throughput(),
                report.measured.percentile(0.99),
                report.cpu_per_request
            );
            totals[index].rounds.push(report);
        }
    }
    println!();
    print_table(&totals);
    if let Some((apollo, ours)) = totals.split_last() {
        print_ratios(ours, apollo);
    }
    if let Some(problem) = totals.iter().find_map(Totals::wrong) {
        anyhow::bail!(problem);
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
    query: &'static str,
}

impl Bench {
    /// Warms `url` (process `pid`) up, then measures it; every answer must be `expected`.
    async fn measure(&self, pid: u32, url: &str, expected: Bytes) -> anyhow::Result<Report> {
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

/// One target's measurements over every round.
struct Totals {
    label: String,
    rounds: Vec<Report>,
}

impl Totals {
    fn requests(&self) -> usize {
        self.rounds
            .iter()
            .map(|report| report.measured.requests)
            .sum()
    }

    fn throughput(&self) -> f64 {
        let elapsed: Duration = self
            .rounds
            .iter()
            .map(|report| report.measured.elapsed)
            .sum();
        self.requests() as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// A total CPU time over every round, per request.
    fn per_request(&self, cpu: impl Fn(&Report) -> Duration) -> Duration {
        let total: Duration = self
            .rounds
            .iter()
            .map(|report| cpu(report) * requests_of(report))
            .sum();
        total / u32::try_from(self.requests().max(1)).unwrap_or(u32::MAX)
    }

    fn cpu_per_request(&self) -> Duration {
        self.per_request(|report| report.cpu_per_request)
    }

    /// The latency at `fraction` over every round's requests.
    fn percentile(&self, fraction: f64) -> Duration {
        let mut latencies: Vec<Duration> = self
            .rounds
            .iter()
            .flat_map(|report| report.measured.latencies.iter().copied())
            .collect();
        latencies.sort_unstable();
        load::percentile(&latencies, fraction)
    }

    /// The largest resident memory seen after a round.
    fn resident_mib(&self) -> f64 {
        self.rounds
            .iter()
            .map(|report| report.resident_kib)
            .max()
            .unwrap_or(0) as f64
            / 1024.0
    }

    fn wrong(&self) -> Option<String> {
        self.rounds.iter().find_map(|report| {
            report.measured.first_wrong.as_ref().map(|problem| {
                format!(
                    "{}: {} of {} responses were wrong, first: {problem}",
                    self.label, report.measured.wrong, report.measured.requests
                )
            })
        })
    }
}

fn requests_of(report: &Report) -> u32 {
    u32::try_from(report.measured.requests.max(1)).unwrap_or(u32::MAX)
}

fn print_table(targets: &[Totals]) {
    println!(
        "{:<26} {:>9} {:>10} {:>10} {:>12} {:>8} {:>22}",
        "target", "req/s", "p50", "p99", "CPU/request", "RSS MiB", "subgraphs' CPU/request"
    );
    for target in targets {
        println!(
            "{:<26} {:>9.0} {:>10.2?} {:>10.2?} {:>12.1?} {:>8.1} {:>22.1?}",
            target.label,
            target.throughput(),
            target.percentile(0.50),
            target.percentile(0.99),
            target.cpu_per_request(),
            target.resident_mib(),
            target.per_request(|report| report.subgraph_cpu_per_request)
        );
    }
}

/// Each mode against Apollo Gateway and against its targets.
fn print_ratios(ours: &[Totals], apollo: &Totals) {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::INFINITY };
    println!("\nours vs Apollo Gateway, and against the targets:");
    for (mode, target) in MODES.iter().zip(ours) {
        let throughput = ratio(target.throughput(), apollo.throughput());
        let cpu = target.cpu_per_request();
        let rss = target.resident_mib();
        println!(
            "  {:<18} throughput {throughput:>7.1}x (target ≥ {}x: {}), p99 {:>6.1}x lower, CPU/request {:>7.1}x less ({cpu:.1?}, target ≤ {:?}: {}), RSS {rss:.1} MiB (target ≤ {RSS_TARGET_MIB}: {})",
            mode.name,
            mode.throughput_target,
            verdict(throughput >= mode.throughput_target),
            ratio(
                apollo.percentile(0.99).as_secs_f64(),
                target.percentile(0.99).as_secs_f64()
            ),
            ratio(apollo.cpu_per_request().as_secs_f64(), cpu.as_secs_f64()),
            mode.cpu_target,
            verdict(cpu <= mode.cpu_target),
            verdict(rss <= RSS_TARGET_MIB),
        );
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
