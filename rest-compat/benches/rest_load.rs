//! Load benchmark of the REST layer over a running stack (not a test).
//!
//! Start the system (`cargo run --release` at the repository root), then:
//!
//! ```text
//! cargo bench -p rest-compat --bench rest_load -- --url http://127.0.0.1:8000 --requests 3000 --connections 50
//! ```
//!
//! For a fresh user with 50 tasks it drives `GET /api/v1/tasks/`, `POST /api/v1/tasks/`
//! and `GET /api/v1/stats/` with 50 concurrent keep-alive connections, and prints
//! throughput, p50/p99 latency and the CPU time the whole stack spent per request
//! (utime + stime from `/proc/<pid>/stat` of the stack's processes, before and after;
//! the processes are the one listening on the URL's port plus, under the launcher,
//! the launcher and its other children — or given with `--pids 1,2,3`).
//! Every loop is bounded by a request count and a time limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Executable names of the stack's processes, for finding them in /proc.
const STACK_NAMES: [&str; 6] = [
    "tasktracker",
    "rest-compat",
    "router",
    "users",
    "tasks",
    "stats",
];
/// Linux reports /proc CPU times in USER_HZ ticks, which is 100 on every mainstream kernel.
const TICKS_PER_SECOND: f64 = 100.0;
const TIME_LIMIT: Duration = Duration::from_secs(60);

struct Settings {
    url: String,
    requests: usize,
    connections: usize,
    pids: Vec<u32>,
}

fn settings() -> Settings {
    let mut settings = Settings {
        url: std::env::var("REST_URL").unwrap_or_else(|_| "http://127.0.0.1:8000".to_owned()),
        requests: 3000,
        connections: 50,
        pids: Vec::new(),
    };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--url" => settings.url = pair[1].trim_end_matches('/').to_owned(),
            "--requests" => settings.requests = pair[1].parse().unwrap_or(settings.requests),
            "--connections" => {
                settings.connections = pair[1].parse().unwrap_or(settings.connections)
            }
            "--pids" => {
                settings.pids = pair[1]
                    .split(',')
                    .filter_map(|pid| pid.trim().parse().ok())
                    .collect()
            }
            _ => {}
        }
    }
    if settings.pids.is_empty() {
        settings.pids = stack_pids(&settings.url);
    }
    settings
}

/// The stack behind `url`: the process listening on its port and, when that
/// process was started by the `tasktracker` launcher, the launcher and all of
/// its children (the other services). Falls back to every process named like
/// one of the stack's executables.
fn stack_pids(url: &str) -> Vec<u32> {
    let port = url
        .rsplit(':')
        .next()
        .and_then(|port| port.trim_end_matches('/').parse::<u16>().ok())
        .unwrap_or(80);
    let Some(server) = listening_pid(port) else {
        return all_pids()
            .into_iter()
            .filter(|pid| STACK_NAMES.contains(&program_name(*pid).as_str()))
            .collect();
    };
    let parent = stat_fields(server).and_then(|fields| fields.get(1)?.parse::<u32>().ok());
    match parent.filter(|parent| program_name(*parent) == "tasktracker") {
        Some(launcher) => {
            let mut pids: Vec<u32> = all_pids()
                .into_iter()
                .filter(|pid| {
                    stat_fields(*pid).and_then(|fields| fields.get(1)?.parse::<u32>().ok())
                        == Some(launcher)
                })
                .collect();
            pids.push(launcher);
            pids
        }
        None => vec![server],
    }
}

fn all_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

/// The base name of a process's executable, from its command line.
fn program_name(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let program = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(program)
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The fields of `/proc/<pid>/stat` after the command name: state, ppid, …
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    )
}

/// The process holding the socket that listens on `port` (IPv4 or IPv6).
fn listening_pid(port: u16) -> Option<u32> {
    let wanted = format!(":{port:04X}");
    let inode = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            text.lines().skip(1).find_map(|line| {
                let columns: Vec<&str> = line.split_whitespace().collect();
                let listening = columns.get(3) == Some(&"0A");
                (listening && columns.get(1)?.ends_with(&wanted))
                    .then(|| columns.get(9).map(|inode| (*inode).to_owned()))?
            })
        })?;
    let target = format!("socket:[{inode}]");
    all_pids().into_iter().find(|pid| {
        std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
            fds.filter_map(Result::ok).any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|link| link.to_string_lossy() == target)
            })
        })
    })
}

/// utime + stime of the processes, in seconds.
fn cpu_seconds(pids: &[u32]) -> f64 {
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

async fn expect_json(response: reqwest::Response, what: &str) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{what} failed with {status}: {body}");
    body
}

/// A fresh user and their token.
async fn user(client: &reqwest::Client, api: &str, name: &str) -> String {
    let body = json!({"email": format!("{name}@example.com"), "username": name, "password": "bench-secret"});
    expect_json(
        client
            .post(format!("{api}/auth/register"))
            .json(&body)
            .send()
            .await
            .expect("register"),
        "register",
    )
    .await;
    let login = json!({"username": name, "password": "bench-secret"});
    let token = expect_json(
        client
            .post(format!("{api}/auth/login"))
            .json(&login)
            .send()
            .await
            .expect("login"),
        "login",
    )
    .await;
    token["access_token"].as_str().expect("a token").to_owned()
}

#[derive(Clone, Copy)]
enum Scenario {
    ListTasks,
    CreateTask,
    Stats,
}

impl Scenario {
    fn name(self) -> &'static str {
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

async fn run(
    scenario: Scenario,
    settings: &Settings,
    client: &reqwest::Client,
    api: &str,
    token: &str,
) {
    let remaining = Arc::new(AtomicUsize::new(settings.requests));
    let errors = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_seconds(&settings.pids);
    let started = Instant::now();
    let workers: Vec<_> = (0..settings.connections)
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
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(&settings.pids) - cpu_before;
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
    };
    let millis = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    let count = latencies.len().max(1) as f64;
    println!(
        "{:<32} {:>6} req {:>4} err {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  CPU {:>6.3} ms/req",
        scenario.name(),
        latencies.len(),
        errors.load(Ordering::Relaxed),
        latencies.len() as f64 / elapsed,
        millis(percentile(0.50)),
        millis(percentile(0.99)),
        cpu * 1000.0 / count,
    );
}

#[tokio::main]
async fn main() {
    let settings = settings();
    let api = format!("{}/api/v1", settings.url);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.connections)
        .tcp_nodelay(true)
        .build()
        .expect("http client");
    let suffix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let reader = user(&client, &api, &format!("bench_reader_{suffix}")).await;
    for index in 0..50 {
        let task = json!({"title": format!("task {index}"), "description": "benchmark data", "priority": "medium"});
        expect_json(
            client
                .post(format!("{api}/tasks/"))
                .bearer_auth(&reader)
                .json(&task)
                .send()
                .await
                .expect("create"),
            "create",
        )
        .await;
    }
    let writer = user(&client, &api, &format!("bench_writer_{suffix}")).await;
    println!(
        "{} requests per scenario, {} connections, CPU of {} stack processes {:?}",
        settings.requests,
        settings.connections,
        settings.pids.len(),
        settings.pids
    );
    run(Scenario::ListTasks, &settings, &client, &api, &reader).await;
    run(Scenario::CreateTask, &settings, &client, &api, &writer).await;
    run(Scenario::Stats, &settings, &client, &api, &reader).await;
}
