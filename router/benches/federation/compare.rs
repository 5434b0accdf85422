//! Two ways of running our router measured against each other in one run, for the
//! questions "what does this cost?" (tracing exported vs unset) and "is this build
//! slower than that one?" (a baseline binary vs this build). Set `BENCH_COMPARE`:
//!
//! - `tracing`: this build with tracing unset vs exporting every span to a discarding
//!   OTLP/HTTP receiver (a separate process);
//! - a path to another router binary (e.g. an earlier commit's release build): that
//!   binary vs this build, with the same flags (`BENCH_BASELINE_ARGS` overrides the
//!   baseline's).
//!
//! The two run as separate processes side by side and are measured in alternating
//! rounds (`BENCH_ROUNDS`, default 3; the order flips each round), so that a machine
//! whose load drifts treats both alike. Totals are over all rounds; the ratio is the
//! second variant over the first.
//!
//! With `BENCH_INSTRUCTIONS=1` each variant's router runs under valgrind's callgrind
//! instead, and what is compared is the instructions it executes per request: the
//! difference between a run serving 600 requests and one serving 100, one at a time, so
//! that start-up cancels out. Slow (minutes) but the same whatever else the machine is
//! doing, where throughput on a shared two-core machine moves by 20% from run to run.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::federation::processes::{self, RouterVariant, Running};
use crate::{Bench, Totals};

/// What `BENCH_COMPARE` asked for.
pub enum Comparison {
    Tracing,
    Baseline(PathBuf),
}

impl Comparison {
    pub fn from_env() -> Option<Self> {
        let value = std::env::var("BENCH_COMPARE").ok()?;
        match value.trim() {
            "" => None,
            "tracing" => Some(Comparison::Tracing),
            path => Some(Comparison::Baseline(PathBuf::from(path))),
        }
    }
}

/// Measures the two variants of `comparison` on `supergraph` and prints the ratios.
pub async fn run(
    comparison: Comparison,
    bench: &Bench,
    supergraph: &Path,
    router_args: &[String],
    rounds: usize,
) -> anyhow::Result<()> {
    // Kept alive for the whole comparison: the exporting router sends to it.
    let mut _receiver: Option<Running> = None;
    let (first, second) = match comparison {
        Comparison::Tracing => {
            let receiver = processes::spawn_otlp_receiver().await?;
            let mut exporting = RouterVariant::this_build(router_args);
            exporting.label = "tracing exporting".to_owned();
            exporting.env.push((
                "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
                receiver.graphql_url.clone(),
            ));
            _receiver = Some(receiver);
            let mut unset = RouterVariant::this_build(router_args);
            unset.label = "tracing unset".to_owned();
            (unset, exporting)
        }
        Comparison::Baseline(binary) => {
            let baseline_args = match std::env::var("BENCH_BASELINE_ARGS") {
                Ok(args) => args.split_whitespace().map(str::to_owned).collect(),
                Err(_) => router_args.to_vec(),
            };
            let baseline = RouterVariant {
                label: format!("baseline {}", binary.display()),
                binary,
                args: baseline_args,
                env: Vec::new(),
                wrapper: Vec::new(),
            };
            (baseline, RouterVariant::this_build(router_args))
        }
    };
    let variants = [&first, &second];
    if std::env::var("BENCH_INSTRUCTIONS").is_ok_and(|value| value == "1") {
        return instructions::compare(variants, bench, supergraph).await;
    }
    let mut routers = Vec::new();
    let mut expected = Vec::new();
    for variant in variants {
        let router = processes::spawn_router_variant(variant, supergraph).await?;
        let body = crate::load::send_once(&bench.client, &router.graphql_url, &bench.body).await?;
        expected.push(body);
        routers.push(router);
    }
    crate::check_same_answer(&expected[0], &expected[1])?;
    println!(
        "query: {}\nload: {} connections, {:?} warm-up, {:?} measured, {rounds} alternating rounds",
        bench.query, bench.load.connections, bench.load.warm_up, bench.load.measure
    );
    for variant in variants {
        println!(
            "  {}: {} {:?}{}",
            variant.label,
            variant.binary.display(),
            variant.args,
            if variant.env.is_empty() {
                ""
            } else {
                " (OTLP endpoint set)"
            }
        );
    }

    let mut totals = [
        Totals {
            label: first.label.clone(),
            rounds: Vec::new(),
        },
        Totals {
            label: second.label.clone(),
            rounds: Vec::new(),
        },
    ];
    for round in 0..rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            let router = &routers[index];
            let report = bench
                .measure(
                    router.pid(),
                    &router.graphql_url,
                    Bytes::clone(&expected[index]),
                )
                .await?;
            println!(
                "round {}: {:<28} {:>8.0} req/s  p99 {:>9.2?}  CPU/request {:>9.1?}",
                round + 1,
                totals[index].label,
                report.measured.throughput(),
                report.measured.percentile(0.99),
                report.cpu_per_request
            );
            totals[index].rounds.push(report);
        }
    }

    println!();
    for variant in &totals {
        println!(
            "{:<34} {:>8.0} req/s  CPU/request {:>9.1?}  RSS {:.1} MiB",
            variant.label,
            variant.throughput(),
            variant.cpu_per_request(),
            variant
                .rounds
                .last()
                .map_or(0.0, |report| report.resident_kib as f64 / 1024.0)
        );
    }
    let [first, second] = &totals;
    println!(
        "\n{} vs {}: throughput ratio {:.3}, CPU per request ratio {:.3}",
        second.label,
        first.label,
        second.throughput() / first.throughput().max(f64::EPSILON),
        second.cpu_per_request().as_secs_f64()
            / first.cpu_per_request().as_secs_f64().max(f64::EPSILON)
    );
    if let Some(problem) = first.wrong().or_else(|| second.wrong()) {
        anyhow::bail!(problem);
    }
    Ok(())
}

/// Instructions per request under callgrind (`BENCH_INSTRUCTIONS=1`).
mod instructions {
    use std::path::Path;

    use super::{Bench, RouterVariant, processes};

    /// Requests served by the short and the long run of each variant.
    const RUNS: [u64; 2] = [100, 600];

    pub async fn compare(
        variants: [&RouterVariant; 2],
        bench: &Bench,
        supergraph: &Path,
    ) -> anyhow::Result<()> {
        let mut per_request = Vec::new();
        for variant in variants {
            let mut totals = Vec::new();
            for requests in RUNS {
                totals.push(count(variant, bench, supergraph, requests).await?);
            }
            let instructions =
                totals[1].saturating_sub(totals[0]) as f64 / (RUNS[1] - RUNS[0]) as f64;
            println!(
                "{:<34} {instructions:>12.0} instructions per request (runs of {} and {} requests: {} and {})",
                variant.label, RUNS[0], RUNS[1], totals[0], totals[1]
            );
            per_request.push(instructions);
        }
        println!(
            "\n{} vs {}: instructions per request ratio {:.3}",
            variants[1].label,
            variants[0].label,
            per_request[1] / per_request[0].max(f64::EPSILON)
        );
        Ok(())
    }

    /// The instructions `variant` executes from start to a clean stop, serving `requests`.
    async fn count(
        variant: &RouterVariant,
        bench: &Bench,
        supergraph: &Path,
        requests: u64,
    ) -> anyhow::Result<u64> {
        let directory = test_support::fresh_data_dir("router-callgrind");
        std::fs::create_dir_all(&directory)?;
        let output = directory.join("callgrind.out");
        let under_valgrind = RouterVariant {
            label: variant.label.clone(),
            binary: variant.binary.clone(),
            args: variant.args.clone(),
            env: variant.env.clone(),
            wrapper: vec![
                "valgrind".to_owned(),
                "--tool=callgrind".to_owned(),
                "--quiet".to_owned(),
                format!("--callgrind-out-file={}", output.display()),
            ],
        };
        let mut router = processes::spawn_router_variant(&under_valgrind, supergraph)
            .await
            .map_err(|error| anyhow::anyhow!("{error} (is valgrind installed?)"))?;
        for _ in 0..requests {
            crate::load::send_once(&bench.client, &router.graphql_url, &bench.body).await?;
        }
        // SIGTERM: the router drains and flushes its spans, and callgrind writes its counts.
        let stopped = std::process::Command::new("kill")
            .args(["-TERM", &router.pid().to_string()])
            .status()?;
        anyhow::ensure!(stopped.success(), "could not stop the router");
        router.process.wait().await?;
        let counts = std::fs::read_to_string(&output)?;
        let total = counts
            .lines()
            .find_map(|line| {
                line.strip_prefix("summary:")
                    .or_else(|| line.strip_prefix("totals:"))
            })
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no totals in {}", output.display()))?;
        let _ = std::fs::remove_dir_all(&directory);
        Ok(total)
    }
}
