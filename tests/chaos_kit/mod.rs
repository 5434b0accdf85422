//! The whole system as the README runs it — the `tasktracker` launcher as a real
//! process supervising its five children — and the tools to hurt it: kill or
//! stop a process, take a database away and give it back, a bounded steady load
//! through REST and GraphQL that keeps a ledger of every acknowledged write.
//! Waiting is always polling for a condition with a bounded deadline.

#![allow(dead_code)] // each test file uses a different part of this kit

use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The five services, by the names the launcher's `/health` uses.
pub const SERVICES: [&str; 5] = ["users", "tasks", "stats", "router", "rest-compat"];

pub use test_support::Store;
use test_support::TestDatabase;

/// Polls `check` until it yields a value; panics naming `what` after `deadline`.
pub async fn poll_until<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
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

/// Whether a process exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Stops a process (SIGSTOP) and waits until every one of its threads is stopped.
pub async fn stop_process(pid: u32) {
    signal(pid, Signal::SIGSTOP);
    poll_until(Duration::from_secs(5), "the process stopped", || async {
        let threads = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
        let all_stopped = threads.flatten().all(|thread| {
            std::fs::read_to_string(thread.path().join("stat")).is_ok_and(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                    .is_some_and(|state| state == "T" || state == "t")
            })
        });
        all_stopped.then_some(())
    })
    .await;
}

pub fn signal(pid: u32, signal: Signal) {
    let pid = i32::try_from(pid).expect("pid fits");
    kill(Pid::from_raw(pid), signal).expect("signal the process");
}

/// The launcher and its children, as real processes.
pub struct Launcher {
    child: Child,
    pub status_url: String,
    pub data_dir: PathBuf,
    pub store: Store,
    /// PostgreSQL database names (None on SQLite).
    pub users_database: Option<String>,
    pub tasks_database: Option<String>,
    pub http: reqwest::Client,
    /// The PostgreSQL databases, dropped (even when refusing connections) with the launcher.
    _databases: Vec<TestDatabase>,
}

impl Launcher {
    /// Starts `tasktracker` (no subcommand) on free ports, fresh stores, fast restarts,
    /// short timeouts; `env` adds or overrides settings. Returns once every service runs.
    pub async fn start(store: Store, env: &[(&str, &str)]) -> Launcher {
        let data_dir = test_support::fresh_data_dir("chaos");
        let databases = match store {
            Store::Postgres => vec![
                TestDatabase::fresh("chaos_users").await,
                TestDatabase::fresh("chaos_tasks").await,
            ],
            Store::Sqlite => Vec::new(),
        };
        let users_url = databases.first().map(|db| db.url().to_owned());
        let tasks_url = databases.get(1).map(|db| db.url().to_owned());
        let mut command = Command::new(env!("CARGO_BIN_EXE_tasktracker"));
        command
            // The launcher and its five children (one process is the default).
            .env("TASKTRACKER_MODE", "processes")
            .env("TASKTRACKER_DATA_DIR", &data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("USERS_DATABASE_URL")
            .env_remove("TASKS_DATABASE_URL")
            .env_remove("SECRET_KEY")
            .env_remove("HOST");
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
        let defaults = [
            ("BCRYPT_COST", "4"),
            ("RESTART_BACKOFF_MS", "50"),
            ("RESTART_MAX_BACKOFF_MS", "400"),
            ("CRASH_LOOP_FAILURES", "3"),
            ("ROUTER_SUBGRAPH_TIMEOUT_MS", "1500"),
            ("ROUTER_CIRCUIT_COOL_DOWN_MS", "200"),
            ("ROUTER_SUPERGRAPH_POLL_MS", "0"),
            ("DB_ACQUIRE_TIMEOUT_MS", "500"),
            ("RUST_LOG", "warn"),
        ];
        for (key, value) in defaults.iter().chain(env) {
            command.env(key, value);
        }
        if let Some(url) = &users_url {
            command.env("USERS_DATABASE_URL", url);
        }
        if let Some(url) = &tasks_url {
            command.env("TASKS_DATABASE_URL", url);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the launcher starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let status_url = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(url) = line.strip_prefix("tasktracker: launcher listening on ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await
        .expect("the launcher comes up within 2 minutes")
        .expect("the launcher announces its status address");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let launcher = Launcher {
            child,
            status_url,
            data_dir,
            store,
            users_database: users_url.as_deref().map(database_name),
            tasks_database: tasks_url.as_deref().map(database_name),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            _databases: databases,
        };
        launcher.all_running(Duration::from_secs(30)).await;
        launcher
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the launcher runs")
    }

    /// The launcher's `/health`: its HTTP status and body.
    pub async fn status(&self) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/health", self.status_url))
            .send()
            .await
            .expect("the launcher answers");
        let code = response.status().as_u16();
        (code, response.json().await.expect("a JSON status"))
    }

    /// Waits until every service runs; returns the status body.
    pub async fn all_running(&self, deadline: Duration) -> Value {
        poll_until(deadline, "every service running", || async {
            let (code, body) = self.status().await;
            (code == 200).then_some(body)
        })
        .await
    }

    /// Process id of every service, by name.
    pub async fn pids(&self) -> Vec<(String, u32)> {
        let (_, body) = self.status().await;
        SERVICES
            .iter()
            .map(|name| {
                let pid = body["services"][name]["pid"]
                    .as_u64()
                    .and_then(|pid| u32::try_from(pid).ok())
                    .unwrap_or_else(|| panic!("{name} has no pid: {body}"));
                ((*name).to_owned(), pid)
            })
            .collect()
    }

    pub async fn pid_of(&self, service: &str) -> u32 {
        self.pids()
            .await
            .into_iter()
            .find(|(name, _)| name == service)
            .map(|(_, pid)| pid)
            .expect("a known service")
    }

    pub async fn url_of(&self, service: &str) -> String {
        let (_, body) = self.status().await;
        body["services"][service]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{service} has no url: {body}"))
            .to_owned()
    }

    /// Waits until `service` runs with a process id other than `old`; returns the new one.
    pub async fn restarted(&self, service: &str, old: u32, deadline: Duration) -> u32 {
        poll_until(deadline, &format!("{service} restarted"), || async {
            let (_, body) = self.status().await;
            let entry = &body["services"][service];
            let pid = entry["pid"]
                .as_u64()
                .and_then(|pid| u32::try_from(pid).ok());
            match (entry["state"].as_str(), pid) {
                (Some("running"), Some(pid)) if pid != old => Some(pid),
                _ => None,
            }
        })
        .await
    }

    /// SIGTERM, as Ctrl-C would; the launcher must stop everything and exit 0.
    pub async fn stop(mut self) {
        signal(self.pid(), Signal::SIGTERM);
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("the launcher stops after SIGTERM")
            .expect("exit status");
        assert!(status.success(), "the launcher exited with {status:?}");
    }

    pub async fn kill_launcher(&mut self) {
        signal(self.pid(), Signal::SIGKILL);
        let _ = self.child.wait().await;
    }

    /// Makes a database unreachable: PostgreSQL refuses new connections and the
    /// open ones are cut; a SQLite file is moved away (a directory takes its place,
    /// so it cannot be opened, by root either) and the service is killed so that it
    /// must open it again. Returns what `restore_database` needs.
    pub async fn break_database(&self, service: &str) {
        match self.store {
            Store::Postgres => {
                let name = self.database(service);
                admin_sql(&format!(
                    "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false"
                ))
                .await;
                admin_sql(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .await;
            }
            Store::Sqlite => {
                let file = self.data_dir.join(format!("{service}.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", file.display()));
                    if from.exists() {
                        std::fs::rename(&from, format!("{}.away", from.display()))
                            .expect("move the database away");
                    }
                }
                std::fs::create_dir(&file).expect("put a directory in the database's place");
                signal(self.pid_of(service).await, Signal::SIGKILL);
            }
        }
    }

    pub async fn restore_database(&self, service: &str) {
        match self.store {
            Store::Postgres => {
                let name = self.database(service);
                admin_sql(&format!(
                    "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS true"
                ))
                .await;
            }
            Store::Sqlite => {
                let file = self.data_dir.join(format!("{service}.db"));
                std::fs::remove_dir(&file).expect("remove the directory");
                for suffix in ["", "-wal", "-shm"] {
                    let to = format!("{}{suffix}", file.display());
                    let from = format!("{to}.away");
                    if std::path::Path::new(&from).exists() {
                        std::fs::rename(&from, &to).expect("put the database back");
                    }
                }
            }
        }
    }

    fn database(&self, service: &str) -> &str {
        match service {
            "users" => self.users_database.as_deref(),
            "tasks" => self.tasks_database.as_deref(),
            _ => None,
        }
        .expect("a PostgreSQL database of users or tasks")
    }
}

fn database_name(url: &str) -> String {
    url.rsplit('/').next().unwrap_or_default().to_owned()
}

async fn try_admin_sql(sql: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(&test_support::admin_url()).await?;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut connection)
        .await?;
    connection.close().await
}

pub async fn admin_sql(sql: &str) {
    try_admin_sql(sql)
        .await
        .expect("PostgreSQL admin statement");
}

/// A user of the system: REST base, router base, token.
#[derive(Clone)]
pub struct User {
    pub name: String,
    pub token: String,
}

/// Registers and logs in `name` through REST.
pub async fn register(http: &reqwest::Client, rest: &str, name: &str) -> User {
    let password = format!("{name}-secret");
    let registered = http
        .post(format!("{rest}/api/v1/auth/register"))
        .json(&json!({"email": format!("{name}@example.com"), "username": name, "password": password}))
        .send()
        .await
        .expect("register answers");
    assert_eq!(registered.status(), 201, "register {name}");
    let login: Value = http
        .post(format!("{rest}/api/v1/auth/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .expect("login answers")
        .json()
        .await
        .expect("login JSON");
    User {
        name: name.to_owned(),
        token: login["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {login}"))
            .to_owned(),
    }
}

/// Statuses a client may see while parts fail: anything else is a bug.
pub fn acceptable(status: u16) -> bool {
    (200..300).contains(&status) || matches!(status, 401 | 403 | 404 | 503)
}

/// What the load saw.
#[derive(Default)]
pub struct Observations {
    /// Every write acknowledged (REST 201 / GraphQL data): (user, task id, title).
    pub ledger: Vec<(String, i64, String)>,
    /// (what, status, body) of every answer outside [`acceptable`].
    pub unexpected: Vec<(String, u16, String)>,
    pub answered: u64,
    pub refused_connections: u64,
}

/// A bounded steady load: `workers` clients, each sending one request per `pace`,
/// cycling through REST reads, REST writes, GraphQL reads and GraphQL writes.
pub struct Load {
    stop: Arc<AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    pub observations: Arc<Mutex<Observations>>,
    pub successes: Arc<AtomicU64>,
}

impl Load {
    pub fn start(rest: String, router: String, users: Vec<User>, pace: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let observations = Arc::new(Mutex::new(Observations::default()));
        let successes = Arc::new(AtomicU64::new(0));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let workers = users
            .into_iter()
            .enumerate()
            .map(|(worker, user)| {
                let (stop, observations, successes) =
                    (stop.clone(), observations.clone(), successes.clone());
                let (http, rest, router) = (http.clone(), rest.clone(), router.clone());
                tokio::spawn(async move {
                    let mut ticker = tokio::time::interval(pace);
                    let mut round: u64 = 0;
                    while !stop.load(Ordering::Relaxed) {
                        ticker.tick().await;
                        round += 1;
                        let title = format!("w{worker}-{round}");
                        let (what, outcome) = match round % 5 {
                            0 => (
                                "REST POST /tasks/",
                                rest_create(&http, &rest, &user, &title).await,
                            ),
                            1 => (
                                "REST GET /tasks/",
                                rest_get(&http, &rest, &user, "/api/v1/tasks/").await,
                            ),
                            2 => (
                                "REST GET /stats/",
                                rest_get(&http, &rest, &user, "/api/v1/stats/").await,
                            ),
                            3 => (
                                "GraphQL mutation createTask",
                                graphql_create(&http, &router, &user, &title).await,
                            ),
                            _ => (
                                "GraphQL query me",
                                graphql_read(&http, &router, &user).await,
                            ),
                        };
                        let mut seen = observations.lock().expect("observations");
                        match outcome {
                            Outcome::Answered {
                                status,
                                body,
                                created,
                            } => {
                                seen.answered += 1;
                                if (200..300).contains(&status) {
                                    successes.fetch_add(1, Ordering::Relaxed);
                                }
                                if !acceptable(status) {
                                    seen.unexpected.push((what.to_owned(), status, body));
                                }
                                if let Some(id) = created {
                                    seen.ledger.push((user.name.clone(), id, title));
                                }
                            }
                            Outcome::NotConnected => seen.refused_connections += 1,
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            workers,
            observations,
            successes,
        }
    }

    /// Stops the load and returns what it saw.
    pub async fn finish(self) -> Observations {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            worker.await.expect("a load worker");
        }
        std::mem::take(&mut *self.observations.lock().expect("observations"))
    }
}

enum Outcome {
    Answered {
        status: u16,
        body: String,
        created: Option<i64>,
    },
    /// No HTTP answer at all (the process in front is down or restarting).
    NotConnected,
}

async fn answered(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<(u16, String), Outcome> {
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            Ok((status, response.text().await.unwrap_or_default()))
        }
        Err(_) => Err(Outcome::NotConnected),
    }
}

async fn rest_get(http: &reqwest::Client, rest: &str, user: &User, path: &str) -> Outcome {
    match answered(
        http.get(format!("{rest}{path}"))
            .bearer_auth(&user.token)
            .send()
            .await,
    )
    .await
    {
        Ok((status, body)) => Outcome::Answered {
            status,
            body,
            created: None,
        },
        Err(outcome) => outcome,
    }
}

async fn rest_create(http: &reqwest::Client, rest: &str, user: &User, title: &str) -> Outcome {
    let sent = http
        .post(format!("{rest}/api/v1/tasks/"))
        .bearer_auth(&user.token)
        .json(&json!({"title": title}))
        .send()
        .await;
    match answered(sent).await {
        Ok((status, body)) => {
            let created = (status == 201)
                .then(|| serde_json::from_str::<Value>(&body).ok()?["id"].as_i64())
                .flatten();
            Outcome::Answered {
                status,
                body,
                created,
            }
        }
        Err(outcome) => outcome,
    }
}

async fn graphql(
    http: &reqwest::Client,
    router: &str,
    user: &User,
    query: &str,
    variables: Value,
) -> Result<(u16, String, Value), Outcome> {
    let url = format!("{router}/graphql");
    let sent = test_support::graphql::request(http, &url, Some(&user.token), query, variables)
        .send()
        .await;
    let (status, body) = answered(sent).await?;
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    Ok((status, body, json))
}

async fn graphql_create(http: &reqwest::Client, router: &str, user: &User, title: &str) -> Outcome {
    let query = "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }";
    match graphql(
        http,
        router,
        user,
        query,
        json!({"input": {"title": title}}),
    )
    .await
    {
        Ok((status, body, json)) => {
            let created = json["data"]["createTask"]["id"]
                .as_str()
                .and_then(|id| id.parse().ok());
            Outcome::Answered {
                status,
                body,
                created,
            }
        }
        Err(outcome) => outcome,
    }
}

async fn graphql_read(http: &reqwest::Client, router: &str, user: &User) -> Outcome {
    let query =
        "{ me { id tasks(limit: 5) { totalCount } taskCounts { total } stats { totalTasks } } }";
    match graphql(http, router, user, query, json!({})).await {
        Ok((status, body, _)) => Outcome::Answered {
            status,
            body,
            created: None,
        },
        Err(outcome) => outcome,
    }
}

/// Every task id of `user`, read through REST page by page.
pub async fn task_ids(http: &reqwest::Client, rest: &str, user: &User) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut skip = 0;
    loop {
        let page: Value = http
            .get(format!("{rest}/api/v1/tasks/?skip={skip}&limit=100"))
            .bearer_auth(&user.token)
            .send()
            .await
            .expect("list answers")
            .json()
            .await
            .expect("list JSON");
        let items = page["tasks"].as_array().cloned().unwrap_or_default();
        ids.extend(items.iter().filter_map(|task| task["id"].as_i64()));
        if items.len() < 100 {
            return ids;
        }
        skip += 100;
    }
}

/// Answers `GET {url}` 2xx?
pub async fn answers_2xx(http: &reqwest::Client, url: &str, token: Option<&str>) -> bool {
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
}

/// The status of `GET {url}` (None: no answer).
pub async fn status_of(http: &reqwest::Client, url: &str, token: &str) -> Option<u16> {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .ok()
        .map(|response| response.status().as_u16())
}

/// A GraphQL read spanning users, tasks and stats answers 200 without errors.
pub async fn graphql_whole(http: &reqwest::Client, router: &str, token: &str) -> bool {
    let answer = http
        .post(format!("{router}/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": "{ me { id taskCounts { total } stats { totalTasks } } }"}))
        .send()
        .await;
    match answer {
        Ok(response) if response.status().is_success() => response
            .json::<Value>()
            .await
            .is_ok_and(|body| body["errors"].is_null() && body["data"]["me"]["id"].is_string()),
        _ => false,
    }
}

/// REST and GraphQL both answer 2xx on paths that need every service.
pub async fn whole_system_answers(launcher: &Launcher, user: &User) -> bool {
    let rest = launcher.url_of("rest-compat").await;
    let router = launcher.url_of("router").await;
    answers_2xx(
        &launcher.http,
        &format!("{rest}/api/v1/tasks/"),
        Some(&user.token),
    )
    .await
        && answers_2xx(
            &launcher.http,
            &format!("{rest}/api/v1/stats/"),
            Some(&user.token),
        )
        .await
        && graphql_whole(&launcher.http, &router, &user.token).await
}

/// Asserts that the services other than `except` kept their process ids.
#[track_caller]
pub fn assert_unchanged(before: &[(String, u32)], after: &[(String, u32)], except: Option<&str>) {
    for ((name, old), (_, new)) in before.iter().zip(after) {
        if Some(name.as_str()) != except {
            assert_eq!(
                old, new,
                "{name} was restarted (pid {old} → {new}) but it was not the failed part"
            );
        }
    }
}

/// The chaos scenario on one store: under load, every kind of failure in turn;
/// the others keep answering, the failed part comes back without a restart of the
/// rest, no status outside {2xx, 401, 403, 404, 503}, and no acknowledged write is lost.
pub async fn chaos(store: Store) {
    let launcher = Launcher::start(store, &[]).await;
    let rest = launcher.url_of("rest-compat").await;
    let router = launcher.url_of("router").await;
    let http = launcher.http.clone();
    let mut users = Vec::new();
    for worker in 0..3 {
        users.push(register(&http, &rest, &format!("chaos{worker}")).await);
    }
    let probe = users[0].clone();
    let load = Load::start(
        rest.clone(),
        router.clone(),
        users.clone(),
        Duration::from_millis(15),
    );
    let mut pids = launcher.pids().await;
    let recovery = Duration::from_secs(20);

    // kill -9 of each service in turn.
    for service in SERVICES {
        let old = launcher.pid_of(service).await;
        signal(old, Signal::SIGKILL);
        // The others keep answering what does not need the killed one.
        match service {
            "stats" | "tasks" => {
                poll_until(
                    recovery,
                    "REST /auth/me answers while tasks or stats is down",
                    || async {
                        answers_2xx(&http, &format!("{rest}/api/v1/auth/me"), Some(&probe.token))
                            .await
                            .then_some(())
                    },
                )
                .await
            }
            "rest-compat" => {
                poll_until(
                    recovery,
                    "GraphQL answers while rest-compat is down",
                    || async {
                        graphql_whole(&http, &router, &probe.token)
                            .await
                            .then_some(())
                    },
                )
                .await
            }
            _ => {}
        }
        launcher.restarted(service, old, recovery).await;
        poll_until(
            recovery,
            &format!("REST and GraphQL answer again after {service} was killed"),
            || async { whole_system_answers(&launcher, &probe).await.then_some(()) },
        )
        .await;
        let now = launcher.pids().await;
        assert_unchanged(&pids, &now, Some(service));
        pids = now;
    }

    // SIGSTOP / SIGCONT of stats: /stats/ fails as unavailable, the rest answers.
    let stats = launcher.pid_of("stats").await;
    stop_process(stats).await;
    poll_until(
        recovery,
        "/stats/ answers 503 while stats is stopped",
        || async {
            (status_of(&http, &format!("{rest}/api/v1/stats/"), &probe.token).await == Some(503))
                .then_some(())
        },
    )
    .await;
    assert!(
        answers_2xx(&http, &format!("{rest}/api/v1/tasks/"), Some(&probe.token)).await,
        "/tasks/ answers while stats is stopped"
    );
    signal(stats, Signal::SIGCONT);
    poll_until(recovery, "everything answers after SIGCONT", || async {
        whole_system_answers(&launcher, &probe).await.then_some(())
    })
    .await;
    let now = launcher.pids().await;
    assert_unchanged(&pids, &now, None);
    pids = now;

    // Each database unreachable, then back.
    for service in ["tasks", "users"] {
        launcher.break_database(service).await;
        let routes: &[&str] = if service == "tasks" {
            &["/api/v1/tasks/", "/api/v1/tasks/stats", "/api/v1/stats/"]
        } else {
            &["/api/v1/auth/me", "/api/v1/tasks/", "/api/v1/stats/"]
        };
        for route in routes {
            poll_until(
                recovery,
                &format!("{route} answers 503 while the {service} database is down"),
                || async {
                    (status_of(&http, &format!("{rest}{route}"), &probe.token).await == Some(503))
                        .then_some(())
                },
            )
            .await;
        }
        if service == "tasks" {
            assert!(
                answers_2xx(&http, &format!("{rest}/api/v1/auth/me"), Some(&probe.token)).await,
                "/auth/me answers while the tasks database is down"
            );
        }
        launcher.restore_database(service).await;
        poll_until(
            recovery,
            &format!("everything answers once the {service} database is back"),
            || async { whole_system_answers(&launcher, &probe).await.then_some(()) },
        )
        .await;
        let now = launcher.pids().await;
        // On SQLite the service was killed to make it open the file again.
        let restarted = (store == Store::Sqlite).then_some(service);
        assert_unchanged(&pids, &now, restarted);
        pids = now;
    }

    let seen = load.finish().await;
    assert!(
        seen.unexpected.is_empty(),
        "statuses outside {{2xx, 401, 403, 404, 503}}: {:#?}",
        &seen.unexpected[..seen.unexpected.len().min(10)]
    );
    assert!(
        seen.ledger.len() >= 10,
        "the load acknowledged only {} writes",
        seen.ledger.len()
    );
    for user in &users {
        let stored: std::collections::HashSet<i64> =
            task_ids(&http, &rest, user).await.into_iter().collect();
        let acknowledged: Vec<&(String, i64, String)> = seen
            .ledger
            .iter()
            .filter(|(name, _, _)| *name == user.name)
            .collect();
        let missing: Vec<_> = acknowledged
            .iter()
            .filter(|(_, id, _)| !stored.contains(id))
            .collect();
        assert!(
            missing.is_empty(),
            "acknowledged writes of {} are missing: {missing:?}",
            user.name
        );
    }
    eprintln!(
        "chaos on {store:?}: {} answers, {} acknowledged writes, {} requests found nothing listening",
        seen.answered,
        seen.ledger.len(),
        seen.refused_connections
    );
    launcher.stop().await;
}
