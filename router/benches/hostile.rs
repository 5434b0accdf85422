//! Not a test: what hostile traffic costs everyone else. Normal traffic (a page
//! of tasks and the stats) runs alone, then again while an attacker loop sends
//! the shapes of issue 8 (deep values, fragment doubling, repeated fields,
//! amplification, unknown directives); the p99 of the normal traffic is
//! printed for both and as a ratio (target ≤ 2×). Then each shape is sent
//! alone and the router's CPU time per refusal is printed (target < 10 ms).
//!
//! The router is the release binary (`CARGO_BIN_EXE_router`), a process of its
//! own whose CPU time is read from `/proc`; the tracker subgraph runs in this
//! process. `cargo bench -p router --bench hostile`; `BENCH_SECONDS` (default 5)
//! per phase, `BENCH_CONNECTIONS` (default 20) normal clients, `BENCH_ATTACKERS`
//! (default 1) attacker loops, each sending the next shape as soon as the last was answered.

#[path = "../tests/hostile_support/mod.rs"]
mod hostile_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hostile_support::{
    AMPLIFICATION, LEGITIMATE, RouterProcess, Tracker, fragment_doubling, nest, spawn_router,
    spawn_tracker,
};
use serde_json::json;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// CPU time (user + system) a process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may contain spaces: the fields after it follow the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| -> u64 {
        fields
            .get(index)
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the name).
    let clock_ticks = 100; // USER_HZ on Linux
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / clock_ticks)
}

/// The attack: each shape at ten times the size that broke the router.
fn hostile_shapes() -> Vec<(&'static str, String)> {
    vec![
        (
            "deep list argument (16,000 levels)",
            format!("{{ task(id: {}) {{ id }} }}", nest("[", "1", "]", 16_000)),
        ),
        (
            "deep input object (16,000 levels)",
            format!(
                "{{ me {{ tasks(filter: {}) {{ total }} }} }}",
                nest("{and: ", "{status: \"x\"}", "}", 16_000)
            ),
        ),
        ("fragment doubling F20", fragment_doubling(20)),
        ("fragment doubling F200", fragment_doubling(200)),
        (
            "repeated fields ×10,000",
            format!("{{ me {{ {} }} }}", "id ".repeat(10_000)),
        ),
        (
            "repeated subselections ×2,000",
            format!(
                "{{ me {{ {} }} }}",
                "tasks { items { title } } ".repeat(2_000)
            ),
        ),
        ("amplification", AMPLIFICATION.to_owned()),
        (
            "5,000 unknown directives",
            format!(
                "{{ me {} {{ id }} }}",
                (0..5_000).map(|i| format!("@d{i} ")).collect::<String>()
            ),
        ),
    ]
}

fn body(query: &str) -> bytes::Bytes {
    bytes::Bytes::from(json!({ "query": query }).to_string())
}

async fn post(router: &RouterProcess, body: bytes::Bytes) -> u16 {
    match router
        .client
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(body)
        .send()
        .await
    {
        Ok(response) => {
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            status
        }
        Err(_) => 0,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Normal traffic for `seconds` at `connections` clients; its latencies, sorted.
async fn normal_traffic(
    router: &Arc<RouterProcess>,
    connections: usize,
    seconds: u64,
) -> (Vec<Duration>, usize) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let failures = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..connections {
        let router = router.clone();
        let failures = failures.clone();
        let legitimate = body(LEGITIMATE);
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                if post(&router, legitimate.clone()).await != 200 {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for client in clients {
        all.extend(client.await.unwrap_or_default());
    }
    all.sort();
    (all, failures.load(Ordering::Relaxed))
}

#[tokio::main]
async fn main() {
    let seconds = env_or("BENCH_SECONDS", 5u64);
    let connections = env_or("BENCH_CONNECTIONS", 20usize);
    let attackers = env_or("BENCH_ATTACKERS", 1usize);
    let tracker_url = spawn_tracker(Tracker::default()).await;
    let router = Arc::new(spawn_router(&tracker_url, &[]).await);
    let pid = router.pid();

    // Warm up: connections, plan cache, allocator.
    let _ = normal_traffic(&router, connections, 1).await;

    let (alone, failed_alone) = normal_traffic(&router, connections, seconds).await;

    let stop = Arc::new(AtomicBool::new(false));
    let refusals = Arc::new(AtomicUsize::new(0));
    // Bodies built once: the load generator shares the machine's cores with the router.
    let shapes: Arc<Vec<(&str, bytes::Bytes)>> = Arc::new(
        hostile_shapes()
            .into_iter()
            .map(|(name, query)| (name, body(&query)))
            .collect(),
    );
    let mut attack = Vec::new();
    for attacker in 0..attackers {
        let (router, stop, refusals, shapes) = (
            router.clone(),
            stop.clone(),
            refusals.clone(),
            shapes.clone(),
        );
        attack.push(tokio::spawn(async move {
            let mut next = attacker;
            while !stop.load(Ordering::Relaxed) {
                let (_, hostile) = &shapes[next % shapes.len()];
                if post(&router, hostile.clone()).await == 400 {
                    refusals.fetch_add(1, Ordering::Relaxed);
                }
                next += 1;
            }
        }));
    }
    let (attacked, failed_attacked) = normal_traffic(&router, connections, seconds).await;
    stop.store(true, Ordering::Relaxed);
    for attacker in attack {
        let _ = attacker.await;
    }

    let p99_alone = percentile(&alone, 0.99);
    let p99_attacked = percentile(&attacked, 0.99);
    println!(
        "normal traffic ({connections} clients, {seconds} s per phase, {attackers} attackers):"
    );
    println!(
        "  alone:          {:>7} requests, p50 {:>8.2?}, p99 {:>8.2?}, {failed_alone} not 200",
        alone.len(),
        percentile(&alone, 0.5),
        p99_alone
    );
    println!(
        "  under attack:   {:>7} requests, p50 {:>8.2?}, p99 {:>8.2?}, {failed_attacked} not 200; {} hostile requests refused",
        attacked.len(),
        percentile(&attacked, 0.5),
        p99_attacked,
        refusals.load(Ordering::Relaxed)
    );
    println!(
        "  p99 ratio (under attack / alone): {:.2}× (target ≤ 2×)",
        p99_attacked.as_secs_f64() / p99_alone.as_secs_f64().max(1e-9)
    );

    println!("router CPU per refusal (each shape alone, sequentially; target < 10 ms):");
    for (name, hostile) in shapes.iter() {
        let rounds = 200;
        let before = cpu_time(pid);
        let mut statuses = std::collections::BTreeMap::new();
        for _ in 0..rounds {
            *statuses
                .entry(post(&router, hostile.clone()).await)
                .or_insert(0) += 1;
        }
        let per_request = (cpu_time(pid) - before) / rounds;
        println!(
            "  {name:<34} {:>6} bytes  {:>9.3?} per request  statuses {statuses:?}",
            hostile.len(),
            per_request
        );
    }
}
