//! Starts the five services as child processes of one executable, in
//! dependency order, each on the port it announces (port 0 works: every child
//! prints `… listening on http://ADDR` once bound and the next one is wired to
//! that address). Stops them in reverse order.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The router's default supergraph, composed from the committed subgraph SDLs.
pub const EMBEDDED_SUPERGRAPH: &str = include_str!("../supergraph.graphql");

/// How long a service may take from spawn to listening (migrations included).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a service may take to drain after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The services, in start order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceName {
    Users,
    Tasks,
    Stats,
    Router,
    RestCompat,
}

impl ServiceName {
    pub const START_ORDER: [ServiceName; 5] = [
        ServiceName::Users,
        ServiceName::Tasks,
        ServiceName::Stats,
        ServiceName::Router,
        ServiceName::RestCompat,
    ];

    /// The subcommand that runs it, also its name in logs and the supergraph.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Users => "users",
            ServiceName::Tasks => "tasks",
            ServiceName::Stats => "stats",
            ServiceName::Router => "router",
            ServiceName::RestCompat => "rest-compat",
        }
    }

    fn port_variable(self) -> &'static str {
        match self {
            ServiceName::Users => "USERS_PORT",
            ServiceName::Tasks => "TASKS_PORT",
            ServiceName::Stats => "STATS_PORT",
            ServiceName::Router => "ROUTER_PORT",
            ServiceName::RestCompat => "REST_PORT",
        }
    }
}

/// Ports to give the services; `None` leaves the service's own default or environment.
#[derive(Debug, Clone, Default)]
pub struct Ports {
    pub users: Option<u16>,
    pub tasks: Option<u16>,
    pub stats: Option<u16>,
    pub router: Option<u16>,
    pub rest_compat: Option<u16>,
}

impl Ports {
    /// Every service on a free port chosen by the OS (tests).
    pub fn ephemeral() -> Self {
        Self {
            users: Some(0),
            tasks: Some(0),
            stats: Some(0),
            router: Some(0),
            rest_compat: Some(0),
        }
    }

    /// Leave ports to each service's own configuration.
    pub fn from_environment() -> Self {
        Self::default()
    }

    fn get(&self, service: ServiceName) -> Option<u16> {
        match service {
            ServiceName::Users => self.users,
            ServiceName::Tasks => self.tasks,
            ServiceName::Stats => self.stats,
            ServiceName::Router => self.router,
            ServiceName::RestCompat => self.rest_compat,
        }
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

/// One started service.
#[derive(Debug)]
pub struct RunningService {
    pub name: ServiceName,
    /// `http://ADDR` as the service announced it.
    pub url: String,
    child: Child,
}

/// The started system.
#[derive(Debug)]
pub struct System {
    services: Vec<RunningService>,
}

impl System {
    /// Starts every service, each wired to the ones before it.
    pub async fn start(launch: &Launch) -> anyhow::Result<System> {
        std::fs::create_dir_all(&launch.data_dir)
            .with_context(|| format!("creating data directory {}", launch.data_dir.display()))?;
        // Generated once here so that no two children race to create it.
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

        let mut system = System {
            services: Vec::new(),
        };
        for name in ServiceName::START_ORDER {
            let mut command = Command::new(&launch.executable);
            command
                .arg(name.as_str())
                .env("TASKTRACKER_DATA_DIR", &launch.data_dir)
                .env_remove("DATABASE_URL");
            if let Some(port) = launch.ports.get(name) {
                command.env(name.port_variable(), port.to_string());
            }
            match name {
                ServiceName::Users => {
                    if let Some(url) = &launch.users_database_url {
                        command.env("DATABASE_URL", url);
                    }
                }
                ServiceName::Tasks => {
                    if let Some(url) = &launch.tasks_database_url {
                        command.env("DATABASE_URL", url);
                    }
                    command.env(
                        "USERS_URL",
                        format!("{}/graphql", system.url(ServiceName::Users)?),
                    );
                }
                ServiceName::Stats => {}
                ServiceName::Router => {
                    let subgraphs = [ServiceName::Users, ServiceName::Tasks, ServiceName::Stats]
                        .into_iter()
                        .map(|s| Ok(format!("{}={}/graphql", s.as_str(), system.url(s)?)))
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    command
                        .env("SUPERGRAPH_PATH", &supergraph)
                        .env("SUBGRAPH_URLS", subgraphs.join(","));
                }
                ServiceName::RestCompat => {
                    command.env(
                        "ROUTER_URL",
                        format!("{}/graphql", system.url(ServiceName::Router)?),
                    );
                }
            }
            let service = spawn_and_wait_until_listening(name, command).await?;
            system.services.push(service);
        }
        Ok(system)
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

    /// Resolves when any service exits on its own.
    async fn any_exit(&mut self) -> (ServiceName, std::io::Result<ExitStatus>) {
        let waits = self.services.iter_mut().map(|service| {
            let name = service.name;
            Box::pin(async move { (name, service.child.wait().await) })
        });
        let ((name, status), _, _) = futures::future::select_all(waits).await;
        (name, status)
    }
}

async fn spawn_and_wait_until_listening(
    name: ServiceName,
    mut command: Command,
) -> anyhow::Result<RunningService> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        // Its own process group: a terminal's Ctrl-C reaches only the launcher,
        // which then stops the services in reverse order.
        .process_group(0);
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", name.as_str()))?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let marker = format!("tasktracker: {} listening on ", name.as_str());

    let announced = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = line.strip_prefix(&marker) {
                return Ok::<_, std::io::Error>(Some(url.trim().to_owned()));
            }
            println!("{line}");
        }
        Ok(None)
    })
    .await;
    let url = match announced {
        Ok(Ok(Some(url))) => url,
        Ok(Ok(None)) | Ok(Err(_)) => {
            let status = child.wait().await.ok();
            bail!(
                "{} exited before listening ({status:?}); see its log above",
                name.as_str()
            )
        }
        Err(_) => bail!(
            "{} did not start listening within {START_TIMEOUT:?}",
            name.as_str()
        ),
    };
    // Keep draining the child's stdout so it never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            println!("{line}");
        }
    });
    Ok(RunningService { name, url, child })
}

async fn stop_child(mut service: RunningService) {
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

/// The all-in-one mode: start everything, say where it is, run until Ctrl-C,
/// SIGTERM or the exit of any service, then stop everything.
pub async fn run_until_stopped(launch: Launch) -> anyhow::Result<()> {
    let mut system = System::start(&launch).await?;
    let router = system.url(ServiceName::Router)?.to_owned();
    let rest = system.url(ServiceName::RestCompat)?.to_owned();
    wait_until_healthy(&system).await?;
    println!();
    println!(
        "TaskTracker is running (data in {}):",
        launch.data_dir.display()
    );
    println!("  GraphiQL          {router}/");
    println!("  GraphQL endpoint  {router}/graphql");
    println!("  REST API          {rest}/api/v1");
    println!("  REST API docs     {rest}/docs");
    println!("Press Ctrl-C to stop.");

    let outcome = tokio::select! {
        () = common::server::shutdown_signal() => Ok(()),
        (name, status) = system.any_exit() => Err(anyhow::anyhow!("{} exited unexpectedly ({status:?})", name.as_str())),
    };
    println!("Stopping…");
    system.shutdown().await;
    outcome
}

/// Every service answers `/health` (they announce only once bound, so this is a check, not a wait).
async fn wait_until_healthy(system: &System) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
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
