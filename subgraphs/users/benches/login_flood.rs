//! Login flood benchmark (not a test): how much slower does `me` get while 50
//! clients log in continuously? bcrypt is CPU-bound, so without bounded,
//! off-runtime hashing a login flood would stall every other request.
//!
//! Starts the `users` binary on a fresh SQLite data directory (and on a fresh
//! PostgreSQL database when TEST_DATABASE_URL or DATABASE_URL is set), measures
//! `me` latency alone (baseline) and under the flood, and prints p50/p99 and
//! the ratio. Target: p99 of `me` under the flood below 50 ms.
//!
//!     cargo bench -p users --bench login_flood
//!
//! Knobs: FLOOD_SECONDS (default 10), FLOOD_CLIENTS (default 50).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PASSWORD: &str = "flood-password";
const TARGET_P99: Duration = Duration::from_millis(50);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// A `users` process, killed when dropped.
struct Service {
    child: Child,
    graphql_url: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_service(database_url: Option<&str>) -> anyhow::Result<Service> {
    let data_dir = test_support::fresh_data_dir("users-bench");
    let mut command = Command::new(env!("CARGO_BIN_EXE_users"));
    command
        .args(["--port", "0", "--data-dir"])
        .arg(&data_dir)
        .env_remove("DATABASE_URL")
        .env("SECRET_KEY", "bench-secret")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let mut child = command.spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let address = line
        .trim()
        .rsplit_once("listening on ")
        .map(|(_, address)| address.to_owned())
        .ok_or_else(|| anyhow::anyhow!("unexpected announcement {line:?}"))?;
    Ok(Service {
        child,
        graphql_url: format!("{address}/graphql"),
    })
}

async fn graphql(
    client: &reqwest::Client,
    url: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> anyhow::Result<Value> {
    let mut request = client
        .post(url)
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request.send().await?.error_for_status()?.json().await?;
    anyhow::ensure!(body["errors"].is_null(), "GraphQL errors: {body}");
    Ok(body)
}

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

async fn login(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let body = graphql(
        client,
        url,
        LOGIN,
        json!({"u": "flood", "p": PASSWORD}),
        None,
    )
    .await?;
    body["data"]["login"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no token in {body}"))
}

/// Latencies of sequential `me` requests for `duration`.
async fn me_latencies(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    duration: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    let end = Instant::now() + duration;
    while Instant::now() < end {
        let start = Instant::now();
        let body = graphql(
            client,
            url,
            "{ me { id username } }",
            json!({}),
            Some(token),
        )
        .await?;
        latencies.push(start.elapsed());
        anyhow::ensure!(
            body["data"]["me"]["username"] == "flood",
            "wrong answer {body}"
        );
    }
    latencies.sort();
    Ok(latencies)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

async fn run(label: &str, database_url: Option<&str>) -> anyhow::Result<bool> {
    let seconds = env_number("FLOOD_SECONDS", 10);
    let clients = env_number("FLOOD_CLIENTS", 50);
    let service = start_service(database_url)?;
    let url = service.graphql_url.clone();
    let client = reqwest::Client::new();
    let register = "mutation($input: RegisterInput!) { register(input: $input) { id } }";
    let input =
        json!({"input": {"email": "flood@example.com", "username": "flood", "password": PASSWORD}});
    graphql(&client, &url, register, input, None).await?;
    let token = login(&client, &url).await?;

    // Warm up connections, then the baseline.
    me_latencies(&client, &url, &token, Duration::from_secs(1)).await?;
    let baseline = me_latencies(&client, &url, &token, Duration::from_secs(seconds)).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let logins = Arc::new(AtomicU64::new(0));
    let flooders: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, logins, url) = (Arc::clone(&stop), Arc::clone(&logins), url.clone());
            let client = reqwest::Client::new();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    login(&client, &url).await?;
                    logins.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    // Let the flood fill the hashing queue before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let flood_start = Instant::now();
    let logins_before = logins.load(Ordering::Relaxed);
    let flooded = me_latencies(&client, &url, &token, Duration::from_secs(seconds)).await?;
    let login_rate = (logins.load(Ordering::Relaxed) - logins_before) as f64
        / flood_start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        flooder.await??;
    }

    let (base_p50, base_p99) = (percentile(&baseline, 0.5), percentile(&baseline, 0.99));
    let (flood_p50, flood_p99) = (percentile(&flooded, 0.5), percentile(&flooded, 0.99));
    let ratio = flood_p99.as_secs_f64() / base_p99.as_secs_f64().max(1e-9);
    let verdict = flood_p99 < TARGET_P99;
    println!("login flood on {label}: {clients} clients logging in continuously, bcrypt cost 12");
    println!(
        "  me alone:       p50 {:>10}  p99 {:>10}  ({} requests)",
        ms(base_p50),
        ms(base_p99),
        baseline.len()
    );
    println!(
        "  me under flood: p50 {:>10}  p99 {:>10}  ({} requests)",
        ms(flood_p50),
        ms(flood_p99),
        flooded.len()
    );
    println!("  p99 ratio flood/alone: {ratio:.2}; logins served: {login_rate:.1}/s");
    println!(
        "  target p99 < {}: {}",
        ms(TARGET_P99),
        if verdict { "met" } else { "MISSED" }
    );
    Ok(verdict)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and must not run the flood.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("login_flood: run with `cargo bench -p users --bench login_flood`");
        return Ok(());
    }
    let mut all_met = run("SQLite", None).await?;
    let postgres = std::env::var("TEST_DATABASE_URL").or_else(|_| std::env::var("DATABASE_URL"));
    if postgres.is_ok() {
        let database = test_support::TestDatabase::create("users_bench").await?;
        all_met &= run("PostgreSQL", Some(database.url())).await?;
    }
    if !all_met {
        println!("login_flood: the p99 target was missed");
    }
    Ok(())
}
