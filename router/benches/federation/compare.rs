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

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

use crate::federation::processes::{self, RouterVariant, Running};
use crate::{Bench, QUERY, Report};

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

/// One variant's measurements over every round.
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

    fn cpu_per_request(&self) -> Duration {
        let cpu: Duration = self
            .rounds
            .iter()
            .map(|report| report.cpu_per_request * report_requests(report))
            .sum();
        cpu / u32::try_from(self.requests().max(1)).unwrap_or(u32::MAX)
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

fn report_requests(report: &Report) -> u32 {
    u32::try_from(report.measured.requests.max(1)).unwrap_or(u32::MAX)
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
            };
            (baseline, RouterVariant::this_build(router_args))
        }
    };
    let variants = [&first, &second];
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
        "query: {QUERY}\nload: {} connections, {:?} warm-up, {:?} measured, {rounds} alternating rounds",
        bench.load.connections, bench.load.warm_up, bench.load.measure
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
                    "router (ours)",
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
