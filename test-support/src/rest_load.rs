//! The REST load the benchmarks drive (not a test): a fresh user with 50 tasks
//! and a second one who writes, then each [`Scenario`] sent by a number of
//! concurrent keep-alive connections, bounded by a request count and a time
//! limit, measured as throughput, p50/p99 latency and the CPU time the stack's
//! processes spent per request (utime + stime from `/proc/<pid>/stat`, before
//! and after). Shared by `rest-compat`'s `rest_load` (a running stack) and the
//! top-level `modes` bench (one process vs five).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Linux reports /proc CPU times in USER_HZ ticks, which is 100 on every mainstream kernel.
const TICKS_PER_SECOND: f64 = 100.0;
/// The longest one scenario runs, whatever its request count.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// The fields of `/proc/<pid>/stat` after the command name: state, ppid, …
pub fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    )
}

/// utime + stime of the processes, in seconds.
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|pid| {
            // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
            let fields = stat_fields(*pid)?;
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / TICKS_PER_SECOND)
        })
        .sum()
}

/// The REST requests measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    ListTasks,
    CreateTask,
    Stats,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::ListTasks, Scenario::CreateTask, Scenario::Stats];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::ListTasks => "GET /api/v1/tasks/ (50 tasks)",
            Scenario::CreateTask => "POST /api/v1/tasks/",
            Scenario::Stats => "GET /api/v1/stats/",
        }
    }

    fn request(self, client: &reqwest::Client, api: &str, token: &str) -> reqwest::RequestBuilder {
        match self {
            Scenario::ListTasks => client.get(format!("{api}/tasks/")),
            Scenario::CreateTask => client
                .post(format!("{api}/tasks/"))
                .json(&json!({"title": "bench", "priority": "high"})),
            Scenario::Stats => client.get(format!("{api}/stats/")),
        }
        .bearer_auth(token)
    }
}

/// A client with `connections` keep-alive connections.
pub fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .build()
        .expect("http client")
}

/// POSTs `body` to `{api}{path}` (with `token`), expecting a 2xx JSON answer.
async fn post(
    client: &reqwest::Client,
    api: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Value {
    let mut request = client.post(format!("{api}{path}")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|err| panic!("{path}: {err}"));
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path} failed with {status}: {answer}");
    answer
}

/// A fresh user and their token.
async fn user(client: &reqwest::Client, api: &str, name: &str) -> String {
    let body = json!({"email": format!("{name}@example.com"), "username": name, "password": "bench-secret"});
    post(client, api, "/auth/register", None, body).await;
    let login = json!({"username": name, "password": "bench-secret"});
    let token = post(client, api, "/auth/login", None, login).await;
    token["access_token"].as_str().expect("a token").to_owned()
}

/// The users of the scenarios: who reads (50 tasks) and who writes.
pub struct Users {
    pub reader: String,
    pub writer: String,
}

impl Users {
    /// Two fresh users of the API at `api` (`…/api/v1`); the reader gets 50 tasks.
    pub async fn create(client: &reqwest::Client, api: &str) -> Users {
        let suffix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let reader = user(client, api, &format!("bench_reader_{suffix}")).await;
        for index in 0..50 {
            let task = json!({"title": format!("task {index}"), "description": "benchmark data", "priority": "medium"});
            post(client, api, "/tasks/", Some(&reader), task).await;
        }
        let writer = user(client, api, &format!("bench_writer_{suffix}")).await;
        Users { reader, writer }
    }

    /// Whose token a scenario is sent with.
    pub fn token(&self, scenario: Scenario) -> &str {
        match scenario {
            Scenario::CreateTask => &self.writer,
            Scenario::ListTasks | Scenario::Stats => &self.reader,
        }
    }
}

/// What one scenario gave.
#[derive(Debug, Clone)]
pub struct Measured {
    pub errors: usize,
    pub elapsed: Duration,
    /// Sorted.
    pub latencies: Vec<Duration>,
    /// CPU seconds the stack's processes spent.
    pub cpu: f64,
}

impl Measured {
    pub fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile_ms(&self, fraction: f64) -> f64 {
        let index = ((self.latencies.len() as f64 * fraction) as usize)
            .min(self.latencies.len().saturating_sub(1));
        self.latencies
            .get(index)
            .map_or(f64::NAN, |latency| latency.as_secs_f64() * 1000.0)
    }

    /// CPU milliseconds per request, summed over the stack's processes.
    pub fn cpu_ms_per_request(&self) -> f64 {
        self.cpu * 1000.0 / self.latencies.len().max(1) as f64
    }

    /// One line: throughput, p50/p99, CPU per request.
    pub fn line(&self, label: &str) -> String {
        format!(
            "{label:<40} {:>6} req {:>4} err {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  CPU {:>6.3} ms/req",
            self.latencies.len(),
            self.errors,
            self.throughput(),
            self.percentile_ms(0.50),
            self.percentile_ms(0.99),
            self.cpu_ms_per_request(),
        )
    }
}

/// Sends `scenario` `requests` times from `connections` workers (within the time
/// limit), reading the CPU time of `pids` before and after.
pub async fn run(
    scenario: Scenario,
    client: &reqwest::Client,
    api: &str,
    token: &str,
    requests: usize,
    connections: usize,
    pids: &[u32],
) -> Measured {
    let remaining = Arc::new(AtomicUsize::new(requests));
    let errors = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_seconds(pids);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (client, api, token) = (client.clone(), api.to_owned(), token.to_owned());
            let (remaining, errors) = (remaining.clone(), errors.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while remaining
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                    && started.elapsed() < TIME_LIMIT
                {
                    let sent = Instant::now();
                    let ok = match scenario.request(&client, &api, &token).send().await {
                        Ok(response) => {
                            response.status().is_success() && response.bytes().await.is_ok()
                        }
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed());
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    let cpu = cpu_seconds(pids) - cpu_before;
    latencies.sort_unstable();
    Measured {
        errors: errors.load(Ordering::Relaxed),
        elapsed,
        latencies,
        cpu,
    }
}
