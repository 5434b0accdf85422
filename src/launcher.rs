//! Starts the five services as child processes of one executable, in
//! dependency order, each on the port it announces (port 0 works: every child
//! prints `… listening on http://ADDR` once bound and the next one is wired to
//! that address). Stops them in reverse order. Every child dies with the
//! launcher, however the launcher ends (`PR_SET_PDEATHSIG`), so no orphan keeps
//! a port. Restarting children that exit is the supervisor's part (`supervisor`).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The router's default supergraph, composed from the committed subgraph SDLs.
pub const EMBEDDED_SUPERGRAPH: &str = include_str!("../supergraph.graphql");

/// The document GraphiQL opens with: TaskTracker's register → login → `me` journey.
pub const GRAPHIQL_EXAMPLE: &str = include_str!("graphiql-example.graphql");

/// How long a service may take from spawn to listening (migrations included).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a service may take to drain after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// How many of a child's last stderr lines are kept to explain its exit.
const STDERR_TAIL_LINES: usize = 20;

/// The services, in start order, with the name, port variable and default
/// port each one's own binary reads.
pub use common::server::ServiceName;

/// Ports to give the services, by service; one not given a port keeps its own
/// default or environment.
#[derive(Debug, Clone, Default)]
pub struct Ports(HashMap<ServiceName, u16>);

impl Ports {
    /// Every service on a free port chosen by the OS (tests).
    pub fn ephemeral() -> Self {
        Self(
            ServiceName::START_ORDER
                .into_iter()
                .map(|service| (service, 0))
                .collect(),
        )
    }

    /// Leave ports to each service's own configuration.
    pub fn from_environment() -> Self {
        Self::default()
    }

    pub(crate) fn get(&self, service: ServiceName) -> Option<u16> {
        self.0.get(&service).copied()
    }
}

/// What to start, and with which stores.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The `tasktracker` executable whose subcommands run each service.
    pub executable: PathBuf,
    pub data_dir: PathBuf,
    pub users_database_url: Option<String>,
    pub tasks_database_url: Option<String>,
    /// Supergraph file for the router; default: [`EMBEDDED_SUPERGRAPH`] written into the data directory.
    pub supergraph: Option<PathBuf>,
    pub ports: Ports,
}

/// The last lines a child wrote to stderr (its own log), to explain why it exited.
#[derive(Debug, Clone, Default)]
pub struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    fn push(&self, line: String) {
        let mut lines = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if lines.len() == STDERR_TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

/// One started service.
#[derive(Debug)]
pub struct RunningService {
    pub name: ServiceName,
    /// `http://ADDR` as the service announced it.
    pub url: String,
    pub(crate) child: Child,
    pub(crate) stderr: StderrTail,
}

impl RunningService {
    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The port it announced: a restart must take the same one, as the others are wired to it.
    pub fn port(&self) -> Option<u16> {
        self.url.rsplit_once(':')?.1.parse().ok()
    }
}

/// How to start one service again: its executable and environment.
#[derive(Debug, Clone)]
pub struct ServiceCommand {
    pub name: ServiceName,
    executable: PathBuf,
    env: Vec<(String, String)>,
}

impl ServiceCommand {
    /// The command, listening on `port` when given (else on the environment's port).
    pub(crate) fn command(&self, port: Option<u16>) -> Command {
        let mut command = Command::new(&self.executable);
        command
            .arg(self.name.as_str())
            .env_remove("DATABASE_URL")
            .envs(self.env.iter().map(|(key, value)| (key, value)));
        if let Some(port) = port {
            command.env(self.name.port_variable(), port.to_string());
        }
        command
    }
}

/// The started system.
#[derive(Debug)]
pub struct System {
    pub(crate) services: Vec<RunningService>,
    pub(crate) commands: Vec<ServiceCommand>,
}

/// What the data directory holds for the services, in every mode.
pub(crate) struct PreparedDataDir {
    /// The supergraph the router serves.
    pub supergraph: PathBuf,
    /// The document GraphiQL opens with.
    pub graphiql_example: PathBuf,
}

/// Creates the data directory with the generated secret (once, here, so that no
/// two services race to create it), the supergraph and GraphiQL's example.
pub(crate) fn prepare_data_dir(launch: &Launch) -> anyhow::Result<PreparedDataDir> {
    std::fs::create_dir_all(&launch.data_dir)
        .with_context(|| format!("creating data directory {}", launch.data_dir.display()))?;
    common::config::secret_from_data_dir(&launch.data_dir)?;
    let supergraph = match &launch.supergraph {
        Some(path) => path.clone(),
        None => {
            let path = launch.data_dir.join("supergraph.graphql");
            std::fs::write(&path, EMBEDDED_SUPERGRAPH)
                .with_context(|| format!("writing {}", path.display()))?;
            path
        }
    };
    let graphiql_example = launch.data_dir.join("graphiql-example.graphql");
    std::fs::write(&graphiql_example, GRAPHIQL_EXAMPLE)
        .with_context(|| format!("writing {}", graphiql_example.display()))?;
    Ok(PreparedDataDir {
        supergraph,
        graphiql_example,
    })
}

impl System {
    /// Starts every service, each wired to the ones before it.
    pub async fn start(launch: &Launch) -> anyhow::Result<System> {
        let PreparedDataDir {
            supergraph,
            graphiql_example,
        } = prepare_data_dir(launch)?;

        let mut system = System {
            services: Vec::new(),
            commands: Vec::new(),
        };
        for name in ServiceName::START_ORDER {
            let mut env = vec![(
                "TASKTRACKER_DATA_DIR".to_owned(),
                launch.data_dir.display().to_string(),
            )];
            match name {
                ServiceName::Users => {
                    if let Some(url) = &launch.users_database_url {
                        env.push(("DATABASE_URL".to_owned(), url.clone()));
                    }
                }
                ServiceName::Tasks => {
                    if let Some(url) = &launch.tasks_database_url {
                        env.push(("DATABASE_URL".to_owned(), url.clone()));
                    }
                    env.push((
                        "USERS_URL".to_owned(),
                        format!("{}/graphql", system.url(ServiceName::Users)?),
                    ));
                }
                ServiceName::Stats => {}
                ServiceName::Router => {
                    let subgraphs = [ServiceName::Users, ServiceName::Tasks, ServiceName::Stats]
                        .into_iter()
                        .map(|s| Ok(format!("{}={}/graphql", s.as_str(), system.url(s)?)))
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    env.push((
                        "SUPERGRAPH_PATH".to_owned(),
                        supergraph.display().to_string(),
                    ));
                    env.push(("SUBGRAPH_URLS".to_owned(), subgraphs.join(",")));
                    env.push((
                        "ROUTER_GRAPHIQL_DOCUMENT".to_owned(),
                        graphiql_example.display().to_string(),
                    ));
                }
                ServiceName::RestCompat => {
                    env.push((
                        "ROUTER_URL".to_owned(),
                        format!("{}/graphql", system.url(ServiceName::Router)?),
                    ));
                }
            }
            let command = ServiceCommand {
                name,
                executable: launch.executable.clone(),
                env,
            };
            let service =
                spawn_and_wait_until_listening(name, command.command(launch.ports.get(name)))
                    .await?;
            system.services.push(service);
            system.commands.push(command);
        }
        Ok(system)
    }

    /// The process id of a running service.
    pub fn pid(&self, name: ServiceName) -> Option<u32> {
        self.services
            .iter()
            .find(|service| service.name == name)
            .and_then(RunningService::pid)
    }

    /// The announced base URL of a running service.
    pub fn url(&self, name: ServiceName) -> anyhow::Result<&str> {
        self.services
            .iter()
            .find(|service| service.name == name)
            .map(|service| service.url.as_str())
            .with_context(|| format!("{} is not running", name.as_str()))
    }

    /// Stops one service gracefully (SIGTERM, then SIGKILL after a grace period).
    pub async fn stop(&mut self, name: ServiceName) {
        if let Some(index) = self
            .services
            .iter()
            .position(|service| service.name == name)
        {
            let service = self.services.remove(index);
            stop_child(service).await;
        }
    }

    /// Stops every service, last started first.
    pub async fn shutdown(mut self) {
        while let Some(service) = self.services.pop() {
            stop_child(service).await;
        }
    }
}

pub(crate) async fn spawn_and_wait_until_listening(
    name: ServiceName,
    command: Command,
) -> anyhow::Result<RunningService> {
    let (child, stderr, mut urls) = spawn_serving(&[name], command).await?;
    Ok(RunningService {
        name,
        url: urls.pop().context("the announced address")?,
        child,
        stderr,
    })
}

/// Starts `command`, a process that serves each of `names` (one service, or several
/// composed in one process), and waits until it has announced the address of every
/// one; returns the child, its stderr tail and the addresses in the order of `names`.
pub async fn spawn_serving(
    names: &[ServiceName],
    mut command: Command,
) -> anyhow::Result<(Child, StderrTail, Vec<String>)> {
    let what = names
        .iter()
        .map(|name| name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Its own process group: a terminal's Ctrl-C reaches only the launcher,
        // which then stops the services in reverse order.
        .process_group(0);
    die_with_parent(&mut command);
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let stderr = StderrTail::default();
    if let Some(pipe) = child.stderr.take() {
        // Passed on as is, and the last lines kept to explain an exit.
        let tail = stderr.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("{line}");
                tail.push(line);
            }
        });
    }
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let markers: Vec<String> = names
        .iter()
        .map(|name| format!("tasktracker: {} listening on ", name.as_str()))
        .collect();

    let announced = tokio::time::timeout(START_TIMEOUT, async {
        let mut urls: Vec<Option<String>> = vec![None; names.len()];
        while urls.iter().any(Option::is_none) {
            let Some(line) = lines.next_line().await? else {
                return Ok::<_, std::io::Error>(None);
            };
            let url = markers.iter().enumerate().find_map(|(index, marker)| {
                Some((index, line.strip_prefix(marker.as_str())?.trim().to_owned()))
            });
            match url {
                Some((index, url)) => urls[index] = Some(url),
                None => println!("{line}"),
            }
        }
        Ok(Some(urls.into_iter().flatten().collect::<Vec<_>>()))
    })
    .await;
    let urls = match announced {
        Ok(Ok(Some(urls))) => urls,
        Ok(Ok(None)) | Ok(Err(_)) => {
            let status = child.wait().await;
            bail!(
                "{what} exited before listening ({}); its last log lines:\n{}",
                describe_exit(&status),
                stderr.lines().join("\n")
            )
        }
        Err(_) => bail!("{what} did not start listening within {START_TIMEOUT:?}"),
    };
    // Keep draining the child's stdout so it never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            println!("{line}");
        }
    });
    Ok((child, stderr, urls))
}

/// The child gets SIGKILL when the launcher dies, by any signal: its ports are
/// freed with it. The signal is tied to the thread that spawns the child, so
/// children are spawned from the runtime's worker threads, which live as long
/// as the launcher (never from `spawn_blocking`, whose threads retire when idle).
fn die_with_parent(command: &mut Command) {
    let launcher = nix::unistd::getpid();
    // SAFETY: between fork and exec the closure only makes two system calls
    // (prctl, getppid) and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            // The launcher may have died before the prctl above: then this child was
            // already adopted and the death signal will never come; refuse to run.
            if nix::unistd::getppid() != launcher {
                return Err(std::io::Error::from(nix::errno::Errno::ESRCH));
            }
            Ok(())
        });
    }
}

/// How a child ended, for logs: its exit code or the signal that killed it.
pub fn describe_exit(status: &std::io::Result<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => match Signal::try_from(signal) {
                Ok(signal) => format!("killed by {signal}"),
                Err(_) => format!("killed by signal {signal}"),
            },
            (None, None) => format!("{status}"),
        },
        Err(error) => format!("unknown ({error})"),
    }
}

pub(crate) async fn stop_child(mut service: RunningService) {
    if let Some(pid) = service.child.id().and_then(|pid| i32::try_from(pid).ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        if tokio::time::timeout(STOP_TIMEOUT, service.child.wait())
            .await
            .is_ok()
        {
            return;
        }
        tracing::warn!(
            service = service.name.as_str(),
            "did not stop in time; killing it"
        );
    }
    let _ = service.child.kill().await;
}

/// The all-in-one mode: start everything, say where it is, keep every service
/// running (restarting those that exit, see `supervisor`) until Ctrl-C or
/// SIGTERM, then stop everything in reverse order.
pub async fn run_until_stopped(
    launch: Launch,
    supervision: crate::supervisor::Supervision,
) -> anyhow::Result<()> {
    let system = System::start(&launch).await?;
    let router = system.url(ServiceName::Router)?.to_owned();
    let rest = system.url(ServiceName::RestCompat)?.to_owned();
    wait_until_healthy(&system).await?;
    let supervisor = crate::supervisor::Supervisor::start(system, supervision).await?;
    print_banner(
        &launch.data_dir,
        "five processes",
        &router,
        &rest,
        Some(supervisor.url()),
    );

    common::server::shutdown_signal().await;
    println!("Stopping…");
    supervisor.shutdown().await;
    Ok(())
}

/// Says where everything is, in every mode.
pub(crate) fn print_banner(
    data_dir: &std::path::Path,
    mode: &str,
    router: &str,
    rest: &str,
    launcher: Option<&str>,
) {
    println!();
    println!(
        "TaskTracker is running as {mode} (data in {}):",
        data_dir.display()
    );
    println!("  GraphiQL          {router}/");
    println!("  GraphQL endpoint  {router}/graphql");
    println!("  REST API          {rest}/api/v1");
    println!("  REST API docs     {rest}/docs");
    if let Some(launcher) = launcher {
        println!("  Launcher status   {launcher}/health");
    }
    println!("Press Ctrl-C to stop.");
}

/// Every service answers `/health` (they announce only once bound, so this is a check, not a wait).
pub(crate) async fn wait_until_healthy(system: &System) -> anyhow::Result<()> {
    let client = common::http_client::builder().build()?;
    for service in &system.services {
        let url = format!("{}/health", service.url);
        let response = client
            .get(&url)
            .send()
            .await
            .with_context(|| format!("checking {url}"))?;
        anyhow::ensure!(
            response.status().is_success(),
            "{} is not healthy: {}",
            service.name.as_str(),
            response.status()
        );
    }
    Ok(())
}
