//! Shared by the hostile-input tests and benchmark: a small "tracker" subgraph
//! shaped like the product (me → tasks(limit) → items → owner → …), served in
//! this process on a real port, and the router binary started as a separate
//! process in front of it, so that a crash shows as a dead process and its
//! memory can be read from `/proc`.
//!
//! The supergraph `tests/fixtures/hostile/supergraph.graphql` was composed from
//! `tracker.graphql` beside it (which carries `@cost` and `@listSize`):
//! `node tools/federation/compose.mjs tracker=http://tracker.invalid/graphql=tracker.graphql`.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ID, InputObject, Object, Schema, SimpleObject,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;

pub const SUPERGRAPH_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/hostile/supergraph.graphql"
);
const ROUTER_ANNOUNCE: &str = "tasktracker: router listening on ";

/// What the tracker subgraph has seen, and the gate of its `slow` field.
#[derive(Clone)]
pub struct Tracker {
    /// GraphQL requests received.
    pub requests: Arc<AtomicUsize>,
    /// One permit per `slow` resolution started.
    pub slow_entered: Arc<Semaphore>,
    /// One permit per `slow` resolution dropped before it finished (its caller went away).
    pub slow_dropped: Arc<Semaphore>,
    /// Never given permits: `slow` waits on it until dropped.
    never: Arc<Semaphore>,
}

impl Default for Tracker {
    fn default() -> Self {
        Self {
            requests: Arc::default(),
            slow_entered: Arc::new(Semaphore::new(0)),
            slow_dropped: Arc::new(Semaphore::new(0)),
            never: Arc::new(Semaphore::new(0)),
        }
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
struct User {
    id: ID,
    username: String,
}

#[derive(InputObject)]
struct TaskFilter {
    status: Option<String>,
    and: Option<Box<TaskFilter>>,
}

#[derive(SimpleObject)]
struct TaskPage {
    items: Vec<Task>,
    total: i32,
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
struct Task {
    id: ID,
    title: String,
    status: String,
    priority: String,
    due_date: Option<String>,
}

#[derive(SimpleObject)]
struct Stats {
    total_tasks: i32,
    completed_tasks: i32,
    completed_percentage: f64,
    report: Option<String>,
}

fn viewer() -> User {
    User {
        id: ID::from("u1"),
        username: "ada".to_owned(),
    }
}

/// Tasks per page: small, so that amplified queries stay cheap when they run.
const TASKS_PER_PAGE: i32 = 3;

#[async_graphql::ComplexObject]
impl User {
    async fn tasks(&self, _filter: Option<TaskFilter>, limit: Option<i32>) -> TaskPage {
        let count = limit.unwrap_or(100).clamp(0, TASKS_PER_PAGE);
        TaskPage {
            items: (0..count)
                .map(|i| Task {
                    id: ID::from(format!("t{i}")),
                    title: format!("task {i}"),
                    status: "TODO".to_owned(),
                    priority: "LOW".to_owned(),
                    due_date: None,
                })
                .collect(),
            total: count,
        }
    }

    async fn stats(&self) -> Stats {
        Stats {
            total_tasks: TASKS_PER_PAGE,
            completed_tasks: 1,
            completed_percentage: 33.33,
            report: Some("fine".to_owned()),
        }
    }
}

#[async_graphql::ComplexObject]
impl Task {
    async fn owner(&self) -> User {
        viewer()
    }
}

/// Adds a permit to `dropped` unless disarmed: tells the test a resolver was cancelled.
struct DropSignal(Option<Arc<Semaphore>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(dropped) = self.0.take() {
            dropped.add_permits(1);
        }
    }
}

struct Query;

#[Object]
impl Query {
    async fn me(&self) -> Option<User> {
        Some(viewer())
    }

    async fn task(&self, id: ID) -> Option<Task> {
        Some(Task {
            id,
            title: "one".to_owned(),
            status: "TODO".to_owned(),
            priority: "LOW".to_owned(),
            due_date: None,
        })
    }

    async fn slow(&self, ctx: &Context<'_>) -> Option<String> {
        let tracker = ctx.data_unchecked::<Tracker>();
        let mut signal = DropSignal(Some(tracker.slow_dropped.clone()));
        tracker.slow_entered.add_permits(1);
        let answer = match tracker.never.acquire().await {
            Ok(_) => Some("let through".to_owned()),
            Err(_) => None,
        };
        signal.0 = None;
        answer
    }

    async fn blob(&self, size: i32, length: i32) -> Vec<String> {
        let length = usize::try_from(length).unwrap_or(0).min(1 << 20);
        (0..size.clamp(0, 10_000))
            .map(|_| "x".repeat(length))
            .collect()
    }
}

/// Serves the tracker subgraph on a free port; returns its URL.
pub async fn spawn_tracker(tracker: Tracker) -> String {
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(tracker.clone())
        .finish();
    let requests = tracker.requests.clone();
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(move |request: async_graphql_axum::GraphQLRequest| {
            let schema = schema.clone();
            let requests = requests.clone();
            async move {
                requests.fetch_add(1, Ordering::SeqCst);
                async_graphql_axum::GraphQLResponse::from(
                    schema.execute(request.into_inner()).await,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the tracker subgraph");
    let addr = listener.local_addr().expect("tracker address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/graphql")
}

/// The router binary, running as its own process (killed when dropped).
pub struct RouterProcess {
    pub base_url: String,
    pub process: Child,
    pub client: reqwest::Client,
}

impl RouterProcess {
    pub fn pid(&self) -> u32 {
        self.process.id().expect("the router process is running")
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    /// Whether the process is still running (it has not crashed or aborted).
    pub fn is_running(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(None))
    }

    /// POSTs a raw JSON body; returns the status and the JSON body (Null if not JSON).
    pub async fn post_raw(&self, body: String) -> (u16, Value) {
        let response = self
            .client
            .post(self.graphql_url())
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(body)
            .send()
            .await
            .expect("the router answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, query: &str, variables: Value) -> (u16, Value) {
        self.post_raw(json!({ "query": query, "variables": variables }).to_string())
            .await
    }

    /// The body's length as well, for tests of response sizes.
    pub async fn post_for_text(&self, query: &str) -> (u16, String) {
        let response = self
            .client
            .post(self.graphql_url())
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(json!({ "query": query }).to_string())
            .send()
            .await
            .expect("the router answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }

    /// A value of the router's `/metrics` (0 when the series is absent).
    pub async fn metric(&self, series: &str) -> f64 {
        test_support::metrics::read(&self.client, &self.base_url, series)
            .await
            .unwrap_or(0.0)
    }

    /// Resident memory of the router process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }
}

/// Starts the router binary over the hostile fixture supergraph, routing
/// `tracker` to `tracker_url`, with `extra_args`.
pub async fn spawn_router(tracker_url: &str, extra_args: &[&str]) -> RouterProcess {
    let data_dir: PathBuf = test_support::fresh_data_dir("router-hostile");
    std::fs::create_dir_all(&data_dir).expect("create the data dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_router"));
    command
        .args(["--port", "0", "--supergraph-poll-ms", "0", "--supergraph"])
        .arg(SUPERGRAPH_PATH)
        .arg("--subgraph-url")
        .arg(format!("tracker={tracker_url}"))
        .args(extra_args)
        .env("TASKTRACKER_DATA_DIR", &data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut process = command.spawn().expect("start the router binary");
    let stdout = process.stdout.take().expect("the router's stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base_url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix(ROUTER_ANNOUNCE) {
                return Some(url.trim().to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the router announces its address");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    RouterProcess {
        base_url,
        process,
        // Like any non-browser client, marks its requests as preflighted to pass CSRF prevention.
        client: reqwest::Client::builder()
            .default_headers(reqwest::header::HeaderMap::from_iter([(
                reqwest::header::HeaderName::from_static("apollo-require-preflight"),
                reqwest::header::HeaderValue::from_static("true"),
            )]))
            .build()
            .expect("an HTTP client"),
    }
}

/// The `extensions.code` of the first error of a GraphQL response body.
pub fn first_error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<no code>")
}

/// `open` repeated `levels` times, `inner`, then `close` as often.
pub fn nest(open: &str, inner: &str, close: &str, levels: usize) -> String {
    let mut text = String::with_capacity((open.len() + close.len()) * levels + inner.len());
    for _ in 0..levels {
        text.push_str(open);
    }
    text.push_str(inner);
    for _ in 0..levels {
        text.push_str(close);
    }
    text
}

/// `fragment F1 on User { ...F0 ...F0 }` … up to `F{levels}`, spread from `me`.
pub fn fragment_doubling(levels: usize) -> String {
    let mut query =
        format!("query {{ me {{ ...F{levels} }} }} fragment F0 on User {{ id username }}");
    for i in 1..=levels {
        query.push_str(&format!(
            " fragment F{i} on User {{ ...F{prev} ...F{prev} }}",
            prev = i - 1
        ));
    }
    query
}

/// The amplification query of issue 8: lists of tasks nested through their owners.
pub const AMPLIFICATION: &str =
    "{ me { tasks { items { owner { tasks { items { owner { tasks { items { id } } } } } } } } } }";

/// What a real client asks: a page of 100 tasks and the stats.
pub const LEGITIMATE: &str = "{ me { tasks(limit: 100) { items { id title status priority dueDate } total } stats { totalTasks completedTasks completedPercentage } } }";
