//! Distributed tracing end to end: the whole system (the `tasktracker` launcher and its
//! five children, as the README runs it) exports to a real OTLP/HTTP receiver
//! (`tools/python/otlp_receiver.py`, decoding with PyPI `opentelemetry-proto`), and one
//! REST call and one GraphQL call each come out as one trace through every service they
//! touch, every span linked to the right parent: the client's `traceparent` → rest-compat
//! → router (parse, plan, one fetch per subgraph) → each subgraph (operation, resolvers,
//! SQL statements). The router's log line of each request carries the trace id.
//!
//! Needs the Python tools of scripts/setup (a virtualenv, TASKTRACKER_PYTHON_VENV): the
//! test fails, naming what is missing, without them.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long exported spans may take to arrive: the batch delay is set to 50 ms.
const SPANS_DEADLINE: Duration = Duration::from_secs(30);

/// The client's own trace context, sent with the REST call.
const CLIENT_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID: &str = "00f067aa0ba902b7";

/// Polls `check` until it yields a value; panics naming `what` after `deadline`.
async fn poll_until<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    // The pace of polling, not a wait for anything: each round checks the condition itself.
    let mut pace = tokio::time::interval(Duration::from_millis(25));
    loop {
        pace.tick().await;
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < deadline,
            "{what}: not reached within {deadline:?}"
        );
    }
}

/// The OTLP/HTTP receiver, as a real process; it stops when its stdin closes (on drop).
struct Receiver {
    _child: Child,
    url: String,
    spans_file: PathBuf,
}

impl Receiver {
    async fn start(dir: &std::path::Path) -> Receiver {
        let venv = std::env::var("TASKTRACKER_PYTHON_VENV")
            .unwrap_or_else(|_| "/var/cache/tasktracker-ci/python".to_owned());
        let python = PathBuf::from(&venv).join("bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/setup (it installs the Python tools, opentelemetry-proto included)",
            python.display()
        );
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/python/otlp_receiver.py");
        let spans_file = dir.join("spans.jsonl");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(&spans_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the OTLP receiver starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the OTLP receiver answers within 30 s")
            .expect("its stdout is readable")
            .and_then(|line| line.strip_prefix("listening on ").map(str::to_owned))
            .unwrap_or_else(|| {
                panic!(
                    "the OTLP receiver did not start: is opentelemetry-proto installed in {venv}? (scripts/setup)"
                )
            });
        Receiver {
            _child: child,
            url,
            spans_file,
        }
    }

    /// Every span received so far.
    fn spans(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.spans_file)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// The launcher and its five children on free ports, exporting to `endpoint`; every
/// line they log is kept.
struct System {
    child: Child,
    http: reqwest::Client,
    urls: HashMap<String, String>,
    logs: Arc<Mutex<Vec<String>>>,
    data_dir: PathBuf,
}

impl System {
    async fn start(endpoint: &str) -> System {
        let data_dir = test_support::fresh_data_dir("tracing");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tasktracker"));
        command
            // The launcher and its five children (one process is the default).
            .env("TASKTRACKER_MODE", "processes")
            .env("TASKTRACKER_DATA_DIR", &data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("USERS_DATABASE_URL")
            .env_remove("TASKS_DATABASE_URL")
            .env_remove("SECRET_KEY")
            .env_remove("HOST")
            .env_remove("OTEL_SERVICE_NAME")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env("OTEL_BSP_SCHEDULE_DELAY", "50")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("BCRYPT_COST", "4");
        for variable in [
            "USERS_PORT",
            "TASKS_PORT",
            "STATS_PORT",
            "ROUTER_PORT",
            "REST_PORT",
            "LAUNCHER_PORT",
        ] {
            command.env(variable, "0");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the launcher starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let kept = logs.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                kept.lock().expect("logs").push(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let status_url = tokio::time::timeout(Duration::from_secs(120), async {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Some(url) = line.strip_prefix("tasktracker: launcher listening on ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await
        .expect("the launcher comes up within 2 minutes")
        .expect("the launcher announces its status address");
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let status = poll_until(Duration::from_secs(60), "every service running", || async {
            let response = http.get(format!("{status_url}/health")).send().await.ok()?;
            if response.status() != 200 {
                return None;
            }
            response.json::<Value>().await.ok()
        })
        .await;
        let urls = ["users", "tasks", "stats", "router", "rest-compat"]
            .into_iter()
            .map(|name| {
                let url = status["services"][name]["url"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name} has no url: {status}"));
                (name.to_owned(), url.to_owned())
            })
            .collect();
        System {
            child,
            http,
            urls,
            logs,
            data_dir,
        }
    }

    fn url(&self, service: &str) -> &str {
        &self.urls[service]
    }

    /// The trace id on the router's log line of the request with this `x-request-id`.
    async fn logged_trace_id(&self, request_id: &str) -> String {
        poll_until(
            SPANS_DEADLINE,
            &format!("the router's log line of request {request_id}"),
            || async {
                let logs = self.logs.lock().expect("logs");
                logs.iter()
                    .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                    .filter(|line| line["message"] == "graphql request")
                    .find(|line| line["span"]["request_id"] == request_id)
                    .map(|line| {
                        line["span"]["trace_id"]
                            .as_str()
                            .unwrap_or_else(|| panic!("no trace id on the log line {line}"))
                            .to_owned()
                    })
            },
        )
        .await
    }

    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// One trace's spans, by id.
struct Trace {
    spans: Vec<Value>,
}

impl Trace {
    fn span(&self, span_id: &str) -> Option<&Value> {
        self.spans.iter().find(|span| span["span_id"] == span_id)
    }

    fn parent<'t>(&'t self, span: &Value) -> Option<&'t Value> {
        self.span(span["parent_span_id"].as_str().unwrap_or_default())
    }

    /// The server spans of `service` (one per HTTP request it served in this trace).
    fn servers<'t>(&'t self, service: &'t str) -> impl Iterator<Item = &'t Value> + 't {
        self.spans
            .iter()
            .filter(move |span| span["service"] == service && span["kind"] == "SPAN_KIND_SERVER")
    }

    /// The nearest server span above `span` (the request it belongs to).
    fn request_of<'t>(&'t self, span: &'t Value) -> Option<&'t Value> {
        let mut current = span;
        // A tree of spans received, at most as deep as there are spans.
        for _ in 0..self.spans.len() {
            if current["kind"] == "SPAN_KIND_SERVER" {
                return Some(current);
            }
            current = self.parent(current)?;
        }
        None
    }

    fn services(&self) -> HashSet<&str> {
        self.spans
            .iter()
            .filter_map(|span| span["service"].as_str())
            .collect()
    }
}

/// Waits until the receiver holds, for `trace_id`, the server spans of every one of
/// `services`, each subgraph's operation span and a SQL statement span from users and
/// tasks; returns the trace.
async fn complete_trace(receiver: &Receiver, trace_id: &str, services: &[&str]) -> Trace {
    poll_until(
        SPANS_DEADLINE,
        &format!("trace {trace_id} through {services:?}"),
        || async {
            let spans: Vec<Value> = receiver
                .spans()
                .into_iter()
                .filter(|span| span["trace_id"] == trace_id)
                .collect();
            let trace = Trace { spans };
            let has = |service: &str, what: &dyn Fn(&Value) -> bool| {
                trace
                    .spans
                    .iter()
                    .any(|span| span["service"] == service && what(span))
            };
            let complete = services
                .iter()
                .all(|service| trace.servers(service).next().is_some())
                && ["users", "tasks", "stats"]
                    .iter()
                    .all(|service| has(service, &|span| span["name"] == "execute"))
                && ["users", "tasks"].iter().all(|service| {
                    has(service, &|span| span["scope"] == "sqlx" && span["name"] == "SELECT")
                })
                // The router's server span ends last of its own: it is exported after its fetches.
                && trace
                    .servers("router")
                    .all(|router| trace.spans.iter().any(|span| span["name"] == "plan" && span["parent_span_id"] == router["span_id"]));
            complete.then_some(trace)
        },
    )
    .await
}

/// What every trace of a request through the router must show.
fn assert_router_and_subgraphs(trace: &Trace, router: &Value) {
    let router_id = router["span_id"].as_str().expect("span id");
    let children: Vec<&Value> = trace
        .spans
        .iter()
        .filter(|span| span["parent_span_id"] == router_id)
        .collect();
    for stage in ["parse", "plan"] {
        assert!(
            children.iter().any(|span| span["name"] == stage),
            "no {stage} span under the router's request span: {children:#?}"
        );
    }
    let fetches: HashMap<&str, &Value> = children
        .iter()
        .filter(|span| span["kind"] == "SPAN_KIND_CLIENT")
        .map(|span| {
            (
                span["attributes"]["subgraph"].as_str().unwrap_or("?"),
                *span,
            )
        })
        .collect();
    for subgraph in ["users", "tasks", "stats"] {
        let fetch = fetches.get(subgraph).unwrap_or_else(|| {
            panic!("no fetch span of {subgraph} under the router: {fetches:#?}")
        });
        assert_eq!(fetch["name"], format!("fetch {subgraph}"));
        // The subgraph's request is the child of the router's fetch of it: traceparent crossed.
        let served: Vec<&Value> = trace
            .servers(subgraph)
            .filter(|server| server["parent_span_id"] == fetch["span_id"])
            .collect();
        assert_eq!(
            served.len(),
            1,
            "{subgraph}'s request under the router's fetch of it: {:#?}",
            trace.servers(subgraph).collect::<Vec<_>>()
        );
        // The operation and its resolvers are inside the subgraph's request.
        let operation = trace
            .spans
            .iter()
            .find(|span| {
                span["service"] == subgraph
                    && span["name"] == "execute"
                    && trace.request_of(span).map(|r| &r["span_id"]) == Some(&served[0]["span_id"])
            })
            .unwrap_or_else(|| panic!("no operation span in {subgraph}'s request"));
        assert!(
            trace.spans.iter().any(|span| span["name"] == "field"
                && trace
                    .parent(span)
                    .is_some_and(|parent| parent["span_id"] == operation["span_id"])),
            "no resolver span under {subgraph}'s operation"
        );
    }
    // Every other server span of a subgraph is users called by tasks (the account check).
    for subgraph in ["users", "tasks", "stats"] {
        for server in trace.servers(subgraph) {
            let parent = trace
                .parent(server)
                .expect("a subgraph's request has a parent");
            assert!(
                parent["service"] == "router"
                    || (subgraph == "users" && parent["service"] == "tasks"),
                "{subgraph}'s request under {parent}"
            );
        }
    }
    // Each SQL statement is a client span inside a request of the service that ran it.
    for statement in trace.spans.iter().filter(|span| span["scope"] == "sqlx") {
        let request = trace
            .request_of(statement)
            .unwrap_or_else(|| panic!("statement outside any request: {statement}"));
        assert_eq!(statement["service"], request["service"], "{statement}");
        assert_eq!(statement["kind"], "SPAN_KIND_CLIENT");
        assert!(
            statement["attributes"]["db.query.text"]
                .as_str()
                .is_some_and(|text| !text.is_empty())
        );
    }
}

/// Every span's parent is in the trace, except the root's.
fn assert_one_tree(trace: &Trace, root: &Value) {
    for span in &trace.spans {
        if span["span_id"] != root["span_id"] {
            assert!(
                trace.parent(span).is_some(),
                "span without its parent in the trace: {span}"
            );
        }
    }
}

/// Every span carrying the request's id (each service's request span has it) is in the trace.
fn assert_request_is_one_trace(receiver: &Receiver, request_id: &str, trace_id: &str) {
    for span in receiver.spans() {
        if span["attributes"]["request_id"] == request_id {
            assert_eq!(
                span["trace_id"], trace_id,
                "a span of request {request_id} in another trace: {span}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_call_and_a_graphql_call_are_each_one_trace_through_every_service() {
    let dir = test_support::fresh_data_dir("otlp");
    std::fs::create_dir_all(&dir).expect("receiver dir");
    let receiver = Receiver::start(&dir).await;
    let system = System::start(&receiver.url).await;
    let rest = system.url("rest-compat").to_owned();
    let http = &system.http;

    let registered = http
        .post(format!("{rest}/api/v1/auth/register"))
        .json(
            &json!({"username": "tracy", "email": "tracy@example.com", "password": "s3cret-pass"}),
        )
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), 201, "{:?}", registered.text().await);
    let login: Value = http
        .post(format!("{rest}/api/v1/auth/login"))
        .json(&json!({"username": "tracy", "password": "s3cret-pass"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("a token");
    let token = login["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();

    // REST: the client's traceparent is the parent of the whole trace.
    let stats = http
        .get(format!("{rest}/api/v1/stats/"))
        .bearer_auth(&token)
        .header(
            "traceparent",
            format!("00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01"),
        )
        .header("x-request-id", "rest-trace")
        .send()
        .await
        .expect("REST stats");
    assert_eq!(stats.status(), 200);
    let trace = complete_trace(
        &receiver,
        CLIENT_TRACE_ID,
        &["rest-compat", "router", "users", "tasks", "stats"],
    )
    .await;
    assert_eq!(
        trace.services(),
        HashSet::from(["rest-compat", "router", "users", "tasks", "stats"])
    );
    let rest_spans: Vec<&Value> = trace.servers("rest-compat").collect();
    assert_eq!(rest_spans.len(), 1, "{rest_spans:#?}");
    let rest_span = rest_spans[0];
    assert_eq!(
        rest_span["parent_span_id"], CLIENT_SPAN_ID,
        "the client's span is the REST span's parent"
    );
    assert_eq!(rest_span["name"], "GET /api/v1/stats/");
    assert_eq!(rest_span["attributes"]["http.response.status_code"], 200);
    let routers: Vec<&Value> = trace.servers("router").collect();
    assert_eq!(
        routers.len(),
        1,
        "one operation per REST endpoint: {routers:#?}"
    );
    assert_eq!(
        routers[0]["parent_span_id"], rest_span["span_id"],
        "rest-compat → router"
    );
    assert_router_and_subgraphs(&trace, routers[0]);
    assert_one_tree(&trace, rest_span);
    assert_request_is_one_trace(&receiver, "rest-trace", CLIENT_TRACE_ID);
    assert_eq!(system.logged_trace_id("rest-trace").await, CLIENT_TRACE_ID);

    // GraphQL, no traceparent: the router starts the trace; its log line names it.
    let answer: Value = http
        .post(format!("{}/graphql", system.url("router")))
        .bearer_auth(&token)
        .header("x-request-id", "graphql-trace")
        .json(&json!({"query": "{ me { username taskCounts { total } stats { totalTasks } } }"}))
        .send()
        .await
        .expect("GraphQL")
        .json()
        .await
        .expect("a GraphQL answer");
    assert_eq!(answer["data"]["me"]["username"], "tracy", "{answer}");
    let trace_id = system.logged_trace_id("graphql-trace").await;
    assert_eq!(trace_id.len(), 32, "{trace_id}");
    assert_ne!(trace_id, CLIENT_TRACE_ID);
    let trace = complete_trace(&receiver, &trace_id, &["router", "users", "tasks", "stats"]).await;
    assert_eq!(
        trace.services(),
        HashSet::from(["router", "users", "tasks", "stats"])
    );
    let routers: Vec<&Value> = trace.servers("router").collect();
    assert_eq!(routers.len(), 1, "{routers:#?}");
    assert_eq!(
        routers[0]["parent_span_id"], "",
        "the router's span is the root"
    );
    assert_eq!(routers[0]["name"], "POST /graphql");
    assert_router_and_subgraphs(&trace, routers[0]);
    assert_one_tree(&trace, routers[0]);
    assert_request_is_one_trace(&receiver, "graphql-trace", &trace_id);

    system.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
