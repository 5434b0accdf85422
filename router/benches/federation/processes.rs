//! The processes under test: the fixture subgraphs (this benchmark binary run
//! again in "subgraph mode"), our router (`CARGO_BIN_EXE_router`) and Apollo
//! Gateway, each a separate process so its CPU time and memory can be read
//! from `/proc`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::subgraphs;

/// Set to a subgraph's name, the benchmark binary serves that subgraph instead.
pub const SUBGRAPH_MODE_VARIABLE: &str = "FEDERATION_BENCH_SUBGRAPH";
const SUBGRAPH_ANNOUNCE: &str = "bench subgraph listening on ";
const ROUTER_ANNOUNCE: &str = "tasktracker: router listening on ";
/// Set (to anything), the benchmark binary serves a discarding OTLP receiver instead.
pub const OTLP_RECEIVER_MODE_VARIABLE: &str = "FEDERATION_BENCH_OTLP_RECEIVER";
const OTLP_RECEIVER_ANNOUNCE: &str = "bench OTLP receiver listening on ";

/// A child process, killed when dropped.
pub struct Running {
    pub name: String,
    pub graphql_url: String,
    pub process: Child,
    /// Closing it tells a subgraph process to exit even if we die without killing it.
    _stdin: Option<ChildStdin>,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.process.id().expect("the process is running")
    }
}

/// In subgraph mode: serves subgraph `name` on a free port until stdin closes.
pub fn serve_subgraph(name: &str) -> anyhow::Result<()> {
    let app = match name {
        "accounts" => graphql_app(subgraphs::accounts::schema()),
        "products" => graphql_app(subgraphs::products::schema()),
        "inventory" => graphql_app(subgraphs::inventory::schema()),
        "reviews" => graphql_app(subgraphs::reviews::schema()),
        other => anyhow::bail!("no fixture subgraph is called {other:?}"),
    };
    exit_when_stdin_closes();
    serve_on_free_port(app, SUBGRAPH_ANNOUNCE)
}

/// Exits when the benchmark's end of the pipe closes, whatever happened to it.
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
}

/// Serves `app` on a free port of 127.0.0.1 (one thread), announcing it as `<announce>http://addr`.
fn serve_on_free_port(app: axum::Router, announce: &str) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            println!("{announce}http://{}", listener.local_addr()?);
            axum::serve(listener, app).await?;
            Ok(())
        })
}

fn graphql_app<E: async_graphql::Executor>(executor: E) -> axum::Router {
    axum::Router::new().route_service("/graphql", async_graphql_axum::GraphQL::new(executor))
}

/// Starts the four fixture subgraphs, each in its own process, serving `generated`
/// readers and books beside the fixture's data.
pub async fn spawn_subgraphs(generated: &str) -> anyhow::Result<Vec<Running>> {
    let exe = std::env::current_exe()?;
    let mut running = Vec::new();
    for name in ["accounts", "products", "inventory", "reviews"] {
        let mut command = Command::new(&exe);
        command
            .env(SUBGRAPH_MODE_VARIABLE, name)
            .env(subgraphs::GENERATED_DATA_VARIABLE, generated);
        running.push(spawn_announcing(name, command, SUBGRAPH_ANNOUNCE).await?);
    }
    Ok(running)
}

/// Starts the release build of our router on `supergraph`, with `extra_args`.
pub async fn spawn_router(supergraph: &Path, extra_args: &[String]) -> anyhow::Result<Running> {
    spawn_router_variant(&RouterVariant::this_build(extra_args), supergraph).await
}

/// One way of running a router: which binary, with which flags and environment.
pub struct RouterVariant {
    pub label: String,
    pub binary: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// A program the router runs under, with its arguments (e.g. valgrind), or empty.
    pub wrapper: Vec<String>,
}

impl RouterVariant {
    /// The release build of this tree with `args`.
    pub fn this_build(args: &[String]) -> Self {
        RouterVariant {
            label: "this build".to_owned(),
            binary: PathBuf::from(env!("CARGO_BIN_EXE_router")),
            args: args.to_vec(),
            env: Vec::new(),
            wrapper: Vec::new(),
        }
    }
}

/// Starts `variant` on `supergraph`.
pub async fn spawn_router_variant(
    variant: &RouterVariant,
    supergraph: &Path,
) -> anyhow::Result<Running> {
    let mut command = match variant.wrapper.split_first() {
        Some((program, wrapper_args)) => {
            let mut command = Command::new(program);
            command.args(wrapper_args).arg(&variant.binary);
            command
        }
        None => Command::new(&variant.binary),
    };
    command
        .args(["--port", "0", "--supergraph-poll-ms", "0", "--supergraph"])
        .arg(supergraph)
        .args(&variant.args)
        .env("RUST_LOG", "warn")
        // Tracing is exported only where a variant asks for it.
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .envs(variant.env.iter().map(|(name, value)| (name, value)));
    // Apollo Gateway has no demand control, and the benchmark's query is over the
    // default cost limit (the fixture supergraph has no @listSize): off, so that both
    // do the same work, unless the run sets it.
    let sets_mode =
        |arg: &String| arg == "--demand-control" || arg.starts_with("--demand-control=");
    if !variant.args.iter().any(sets_mode) {
        command.args(["--demand-control", "off"]);
    }
    spawn_announcing("router", command, ROUTER_ANNOUNCE).await
}

/// In receiver mode: an OTLP/HTTP endpoint that reads each export and acknowledges it
/// (an empty `ExportTraceServiceResponse` is zero bytes), decoding nothing, so that
/// what a tracing run measures is the exporting router, not a collector sharing its
/// cores. Serves on a free port until stdin closes.
pub fn serve_discarding_otlp_receiver() -> anyhow::Result<()> {
    exit_when_stdin_closes();
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            axum::routing::post(|_body: axum::body::Bytes| async {
                ([("content-type", "application/x-protobuf")], "")
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::disable());
    serve_on_free_port(app, OTLP_RECEIVER_ANNOUNCE)
}

/// Starts the discarding OTLP receiver (this binary in receiver mode); the URL is its base.
pub async fn spawn_otlp_receiver() -> anyhow::Result<Running> {
    let mut command = Command::new(std::env::current_exe()?);
    command.env(OTLP_RECEIVER_MODE_VARIABLE, "1");
    let mut running = spawn_announcing("OTLP receiver", command, OTLP_RECEIVER_ANNOUNCE).await?;
    running.graphql_url = running.graphql_url.trim_end_matches("/graphql").to_owned();
    Ok(running)
}

/// Spawns `command` and waits for the line `<announce>http://host:port` on its stdout.
async fn spawn_announcing(
    name: &str,
    mut command: Command,
    announce: &str,
) -> anyhow::Result<Running> {
    let mut process = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let stdin = process.stdin.take();
    let stdout = process
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let base_url = read_announce(stdout, announce)
        .await
        .ok_or_else(|| anyhow::anyhow!("{name} did not start"))?;
    Ok(Running {
        name: name.to_owned(),
        graphql_url: format!("{base_url}/graphql"),
        process,
        _stdin: stdin,
    })
}

async fn read_announce(
    stdout: impl AsyncRead + Unpin + Send + 'static,
    announce: &str,
) -> Option<String> {
    let mut lines = BufReader::new(stdout).lines();
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix(announce) {
                return Some(url.trim().to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    found
}

/// CPU time (user + system) a process has used so far.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may contain spaces: the fields after it follow the last ')'.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc/{pid}/stat"))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `fields[0]` is field 3.
    let ticks = |index: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(index)
            .ok_or_else(|| anyhow::anyhow!("short /proc/{pid}/stat"))?
            .parse()?)
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(
        total as f64 / clock_ticks_per_second(),
    ))
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Resident memory of a process, in KiB (`VmRSS`).
pub fn resident_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("malformed VmRSS"))?
        .parse()?)
}
