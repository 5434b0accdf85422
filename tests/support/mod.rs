//! The whole system for end-to-end tests, on fresh databases of its own, in
//! either deployment mode ([`Mode`]): the five services as real processes
//! (subcommands of the `tasktracker` binary), or all five composed in one
//! `tasktracker --mode one-process` process (its subgraphs' endpoints exposed,
//! for the tests that talk to a subgraph directly). Tests talk real HTTP to it
//! either way.

#![allow(dead_code)] // each test file uses a different part of this kit

pub mod transcript;

use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
pub use tasktracker::launcher::ServiceName as Service;
use tasktracker::launcher::{Launch, Ports, System, spawn_serving};
pub use test_support::Store;
use test_support::TestDatabase;
pub use test_support::graphql::GraphqlReply;
use tokio::process::{Child, Command};

/// How the system under test is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Five processes, started and wired by the launcher.
    Processes,
    /// One process, every subgraph in it.
    OneProcess,
    /// One process with stats remote (a process of its own, so a test can stop it):
    /// mixed mode.
    OneProcessStatsRemote,
}

impl Mode {
    pub fn is_one_process(self) -> bool {
        self != Mode::Processes
    }
}

/// For each `check(mode: Mode)`, a module of two tests: `in_processes` (five
/// processes) and `in_one_process` (composed in one).
#[macro_export]
macro_rules! in_both_modes {
    ($($check:ident),+ $(,)?) => {
        $(
            mod $check {
                #[tokio::test]
                async fn in_processes() {
                    super::$check($crate::support::Mode::Processes).await;
                }

                #[tokio::test]
                async fn in_one_process() {
                    super::$check($crate::support::Mode::OneProcess).await;
                }
            }
        )+
    };
}

/// How long a stopped process may take to drain before the test gives up on it.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// The processes of a stack.
#[derive(Default)]
struct Running {
    /// Five processes: the launcher's system.
    system: Option<System>,
    /// One-process mode: the process, and stats' own when it is remote.
    composed: Option<Child>,
    remote_stats: Option<Child>,
}

pub struct Stack {
    pub rest_url: String,
    pub router_url: String,
    pub users_url: String,
    pub tasks_url: String,
    pub stats_url: String,
    pub data_dir: PathBuf,
    pub users_database_url: String,
    pub tasks_database_url: String,
    pub mode: Mode,
    running: Running,
    /// The PostgreSQL databases, dropped after the system (declared after it).
    _databases: Vec<TestDatabase>,
}

impl Stack {
    /// Starts every service as its own process on free ports with fresh databases.
    pub async fn start(store: Store) -> Stack {
        Self::start_in(Mode::Processes, store).await
    }

    /// Starts the system in `mode` on free ports with fresh databases.
    pub async fn start_in(mode: Mode, store: Store) -> Stack {
        let data_dir = test_support::fresh_data_dir("stack");
        let (users_db, tasks_db) = match store {
            Store::Postgres => (
                Some(TestDatabase::fresh("stack_users").await),
                Some(TestDatabase::fresh("stack_tasks").await),
            ),
            Store::Sqlite => (None, None),
        };
        match mode {
            Mode::Processes => Self::start_on(data_dir, users_db, tasks_db).await,
            _ => Self::start_one_process(mode, data_dir, users_db, tasks_db).await,
        }
    }

    /// One-process mode: the composed process, and stats alone first when it is remote.
    async fn start_one_process(
        mode: Mode,
        data_dir: PathBuf,
        users_database: Option<TestDatabase>,
        tasks_database: Option<TestDatabase>,
    ) -> Stack {
        let command = |args: &[&str]| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_tasktracker"));
            command
                .args(args)
                .env("TASKTRACKER_DATA_DIR", &data_dir)
                .env_remove("DATABASE_URL")
                .env_remove("USERS_DATABASE_URL")
                .env_remove("TASKS_DATABASE_URL")
                .env_remove("REMOTE_SUBGRAPHS");
            for service in Service::START_ORDER {
                command.env(service.port_variable(), "0");
            }
            command
        };
        let remote_argument;
        let mut remote_stats = None;
        let mut args = vec!["--mode", "one-process", "--expose-subgraphs"];
        let mut names = vec![Service::Users, Service::Tasks];
        if mode == Mode::OneProcessStatsRemote {
            let (child, _, urls) = spawn_serving(&[Service::Stats], command(&["stats"]))
                .await
                .expect("stats starts alone");
            remote_argument = format!("stats={}/graphql", urls[0]);
            args.extend(["--remote-subgraph", remote_argument.as_str()]);
            remote_stats = Some((child, urls[0].clone()));
        } else {
            names.push(Service::Stats);
        }
        names.extend([Service::Router, Service::RestCompat]);
        let mut composed = command(&args);
        if let Some(database) = &users_database {
            composed.env("USERS_DATABASE_URL", database.url());
        }
        if let Some(database) = &tasks_database {
            composed.env("TASKS_DATABASE_URL", database.url());
        }
        let (child, _, urls) = spawn_serving(&names, composed)
            .await
            .expect("the one process starts");
        let url = |service: Service| match names.iter().position(|name| *name == service) {
            Some(index) => urls[index].clone(),
            None => remote_stats.as_ref().expect("stats runs alone").1.clone(),
        };
        let urls = Service::START_ORDER.map(url);
        let running = Running {
            system: None,
            composed: Some(child),
            remote_stats: remote_stats.map(|(child, _)| child),
        };
        Stack::new(
            mode,
            urls,
            data_dir,
            running,
            [users_database, tasks_database],
        )
    }

    /// The stack of `running`, whose services are at `urls` (in start order).
    fn new(
        mode: Mode,
        urls: [String; 5],
        data_dir: PathBuf,
        running: Running,
        [users_database, tasks_database]: [Option<TestDatabase>; 2],
    ) -> Stack {
        let [users_url, tasks_url, stats_url, router_url, rest_url] = urls;
        Stack {
            rest_url,
            router_url,
            users_url,
            tasks_url,
            stats_url,
            users_database_url: database_url(&users_database, &data_dir, "users"),
            tasks_database_url: database_url(&tasks_database, &data_dir, "tasks"),
            data_dir,
            mode,
            running,
            _databases: users_database.into_iter().chain(tasks_database).collect(),
        }
    }

    /// Starts every service on free ports with the given databases (None: SQLite in `data_dir`).
    pub async fn start_on(
        data_dir: PathBuf,
        users_database: Option<TestDatabase>,
        tasks_database: Option<TestDatabase>,
    ) -> Stack {
        let users_db = users_database.as_ref().map(|db| db.url().to_owned());
        let tasks_db = tasks_database.as_ref().map(|db| db.url().to_owned());
        let launch = Launch {
            executable: PathBuf::from(env!("CARGO_BIN_EXE_tasktracker")),
            data_dir: data_dir.clone(),
            users_database_url: users_db.clone(),
            tasks_database_url: tasks_db.clone(),
            supergraph: None,
            ports: Ports::ephemeral(),
        };
        let system = System::start(&launch)
            .await
            .expect("the whole system starts");
        let urls =
            Service::START_ORDER.map(|name| system.url(name).expect("service url").to_owned());
        let running = Running {
            system: Some(system),
            ..Running::default()
        };
        Stack::new(
            Mode::Processes,
            urls,
            data_dir,
            running,
            [users_database, tasks_database],
        )
    }

    /// The process ids of the system: the five, or the one (and stats' when remote).
    pub fn pids(&self) -> Vec<u32> {
        let running = &self.running;
        match &running.system {
            Some(system) => Service::START_ORDER
                .iter()
                .filter_map(|service| system.pid(*service))
                .collect(),
            None => running
                .composed
                .iter()
                .chain(&running.remote_stats)
                .filter_map(Child::id)
                .collect(),
        }
    }

    /// Stops one service (SIGTERM), e.g. to see how the others answer without it.
    /// In one process only a remote subgraph can stop alone.
    pub async fn stop(&mut self, service: Service) {
        if let Some(system) = self.running.system.as_mut() {
            system.stop(service).await;
            return;
        }
        match (service, self.running.remote_stats.take()) {
            (Service::Stats, Some(stats)) => terminate(stats).await,
            _ => panic!(
                "{} runs inside the one process in {:?}: it cannot stop alone",
                service.as_str(),
                self.mode
            ),
        }
    }

    /// Stops everything gracefully.
    pub async fn shutdown(mut self) {
        if let Some(system) = self.running.system.take() {
            system.shutdown().await;
        }
        if let Some(composed) = self.running.composed.take() {
            terminate(composed).await;
        }
        if let Some(stats) = self.running.remote_stats.take() {
            terminate(stats).await;
        }
    }
}

/// SIGTERM, then waits for the process to drain and exit (it is killed if it does not).
async fn terminate(mut child: Child) {
    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        if tokio::time::timeout(STOP_TIMEOUT, child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

/// The URL of a service's store: its PostgreSQL database, else its SQLite file in `data_dir`.
fn database_url(
    database: &Option<TestDatabase>,
    data_dir: &std::path::Path,
    service: &str,
) -> String {
    database.as_ref().map_or_else(
        || {
            format!(
                "sqlite://{}",
                data_dir.join(format!("{service}.db")).display()
            )
        },
        |database| database.url().to_owned(),
    )
}

/// Runs one SQL statement on the users database, through the same store layer
/// the users service uses (its migrations are already applied, so they are no-ops).
pub async fn users_sql(stack: &Stack, sql: &str, bind: &str) {
    let location = db::StoreLocation::Url(stack.users_database_url.clone());
    let pool = db::Pool::connect(&location, 1, &users::store::migrations())
        .await
        .expect("connect users db");
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    db::on_pool!(&pool, |p| sqlx::query(sql)
        .bind(bind)
        .execute(p)
        .await
        .map(|_| ()))
    .expect("users sql");
    pool.close().await;
}

/// Marks a user inactive directly in the users database (no API does this).
pub async fn deactivate_user(stack: &Stack, username: &str) {
    users_sql(
        stack,
        "UPDATE users SET is_active = false WHERE username = $1",
        username,
    )
    .await;
}

/// Deletes a user directly in the users database (their tokens must stop working).
pub async fn delete_user(stack: &Stack, username: &str) {
    users_sql(stack, "DELETE FROM users WHERE username = $1", username).await;
}

/// Posts one GraphQL operation to `{base_url}/graphql` (the router or a subgraph), with the bearer token if any.
pub async fn post_graphql(
    client: &reqwest::Client,
    base_url: &str,
    token: Option<&str>,
    query: &str,
    variables: serde_json::Value,
) -> GraphqlReply {
    let url = format!("{base_url}/graphql");
    test_support::graphql::post(client, &url, token, query, variables).await
}

/// Registers `username` (password `{username}-secret`, e-mail `{username}@example.com`)
/// and logs in through the router; returns the user's id and access token.
pub async fn register_and_login(
    client: &reqwest::Client,
    stack: &Stack,
    username: &str,
) -> (String, String) {
    let registered = post_graphql(
        client,
        &stack.router_url,
        None,
        "mutation($input: RegisterInput!) { register(input: $input) { id } }",
        serde_json::json!({"input": {
            "email": format!("{username}@example.com"),
            "username": username,
            "password": format!("{username}-secret"),
        }}),
    )
    .await;
    let id = registered.data()["register"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let login = post_graphql(
        client,
        &stack.router_url,
        None,
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
        serde_json::json!({"u": username, "p": format!("{username}-secret")}),
    )
    .await;
    let token = login.data()["login"]["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    (id, token)
}

/// A genuine access token for `user_id`, signed with the stack's own key but with a
/// different lifetime than login gives, so it differs from every token the services
/// have seen (and cached an account status for): a second device's login.
/// The key is the one the launcher generated in the data directory (tests set no `SECRET_KEY`).
pub fn another_genuine_token(stack: &Stack, user_id: &str) -> String {
    let secret = common::config::secret_from_data_dir(&stack.data_dir).expect("the stack's secret");
    let keys = tokens::JwtKeys::new(&secret, "HS256", 29).expect("keys");
    keys.issue(user_id.parse().expect("a numeric user id"))
        .expect("a token")
}

/// A well-formed token for `user_id` signed with a key the stack does not have.
pub fn token_signed_with_another_key(user_id: &str) -> String {
    let keys = tokens::JwtKeys::new("not-the-stack-secret", "HS256", 30).expect("keys");
    keys.issue(user_id.parse().expect("a numeric user id"))
        .expect("a token")
}

/// An unsigned token (`alg: none`) claiming to be `user_id`.
pub fn unsigned_token(user_id: &str) -> String {
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let claims =
        base64url(format!(r#"{{"sub":"{user_id}","iat":1700000000,"exp":4102444800}}"#).as_bytes());
    format!("{header}.{claims}.")
}

/// Unpadded base64url (RFC 4648 §5), enough to build tokens by hand.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}
