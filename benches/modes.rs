//! One process vs five (not a test): the whole system started in each
//! deployment mode on fresh PostgreSQL databases, the same REST load sent to
//! each — `GET /api/v1/tasks/` (50 tasks), `POST /api/v1/tasks/`,
//! `GET /api/v1/stats/` — and, per scenario: throughput, p50/p99 latency and
//! the CPU time per request summed over every process of the mode (the one, or
//! the five; PostgreSQL's own CPU not included), then the ratios.
//!
//! ```text
//! cargo bench -p tasktracker --bench modes
//! ```
//!
//! `BENCH_REQUESTS` (default 10,000 per scenario and mode), `BENCH_CONNECTIONS`
//! (50), `BENCH_ROUNDS` (2: the modes alternate, each round on fresh stacks and
//! databases, the first mode of a round alternating too, and the best round of
//! each mode is compared — a shared machine's noise only ever slows a round down). The load generator runs in this process on the
//! same machine, for both modes alike. The services log at `RUST_LOG=warn` unless
//! it is set: a log line per request would be measured in both modes alike, but it
//! is not what tells them apart.

#[path = "../tests/support/mod.rs"]
mod support;

use support::{Mode, Stack, Store};
use test_support::rest_load::{self, Measured, Scenario, Users};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// One round of one mode: a fresh stack, a warm-up, then each scenario measured.
async fn round(mode: Mode, requests: usize, connections: usize) -> Vec<Measured> {
    let stack = Stack::start_in(mode, Store::Postgres).await;
    let api = format!("{}/api/v1", stack.rest_url);
    let client = rest_load::client(connections);
    let users = Users::create(&client, &api).await;
    let pids = stack.pids();
    let mut results = Vec::new();
    for scenario in Scenario::ALL {
        let token = users.token(scenario);
        // Warm-up: connections opened, plans cached, pools filled.
        rest_load::run(
            scenario,
            &client,
            &api,
            token,
            requests / 10,
            connections,
            &pids,
        )
        .await;
        let measured =
            rest_load::run(scenario, &client, &api, token, requests, connections, &pids).await;
        println!(
            "{}",
            measured.line(&format!("{:<14} {}", label(mode), scenario.name()))
        );
        results.push(measured);
    }
    stack.shutdown().await;
    results
}

fn label(mode: Mode) -> &'static str {
    match mode {
        Mode::OneProcess => "one process",
        _ => "five processes",
    }
}

/// The better of two measurements of one scenario: the higher throughput.
fn best(kept: Option<Measured>, new: Measured) -> Measured {
    match kept {
        Some(kept) if kept.throughput() >= new.throughput() => kept,
        _ => new,
    }
}

fn main() {
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: nothing else runs yet (the runtime is built below), so no thread
        // reads the environment while it changes.
        unsafe { std::env::set_var("RUST_LOG", "warn") };
    }
    tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(compare());
}

/// Both modes, round after round, then the best of each and the ratios.
async fn compare() {
    let requests = setting("BENCH_REQUESTS", 10_000);
    let connections = setting("BENCH_CONNECTIONS", 50);
    let rounds = setting("BENCH_ROUNDS", 2).max(1);
    println!(
        "REST on PostgreSQL, one process vs five: {requests} requests per scenario, {connections} connections, {rounds} rounds"
    );
    let mut one: Vec<Option<Measured>> = vec![None; Scenario::ALL.len()];
    let mut five: Vec<Option<Measured>> = vec![None; Scenario::ALL.len()];
    for number in 0..rounds {
        // Which mode goes first alternates too: the database's own background work
        // (checkpoints after many writes) must not always fall on the same one.
        let order = if number % 2 == 0 {
            [Mode::Processes, Mode::OneProcess]
        } else {
            [Mode::OneProcess, Mode::Processes]
        };
        for mode in order {
            let kept = if mode == Mode::OneProcess {
                &mut one
            } else {
                &mut five
            };
            for (index, measured) in round(mode, requests, connections)
                .await
                .into_iter()
                .enumerate()
            {
                kept[index] = Some(best(kept[index].take(), measured));
            }
        }
    }
    println!();
    println!("best round of each mode, and one process / five processes:");
    for (index, scenario) in Scenario::ALL.iter().enumerate() {
        let (Some(one), Some(five)) = (&one[index], &five[index]) else {
            continue;
        };
        println!(
            "{}",
            five.line(&format!("five processes {}", scenario.name()))
        );
        println!(
            "{}",
            one.line(&format!("one process    {}", scenario.name()))
        );
        println!(
            "  ratios: throughput {:.2}x, p50 {:.2}x, p99 {:.2}x, CPU per request {:.2}x ({:.3} vs {:.3} ms)",
            one.throughput() / five.throughput(),
            one.percentile_ms(0.50) / five.percentile_ms(0.50),
            one.percentile_ms(0.99) / five.percentile_ms(0.99),
            one.cpu_ms_per_request() / five.cpu_ms_per_request(),
            one.cpu_ms_per_request(),
            five.cpu_ms_per_request(),
        );
    }
}
