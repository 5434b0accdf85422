//! Command line of the `tasktracker` binary.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use common::config::{DataDirArgs, LogArgs};

use crate::launcher::{self, Launch, Ports};
use crate::one_process::Composition;
use crate::supervisor::Supervision;

#[derive(Debug, Parser)]
#[command(name = "tasktracker", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub service: Option<Service>,

    #[command(flatten)]
    pub launch: LaunchArgs,
}

/// Runs one service in this process.
#[derive(Debug, Subcommand)]
pub enum Service {
    /// The users subgraph (accounts, login, tokens).
    Users(users::Cli),
    /// The tasks subgraph.
    Tasks(tasks::Cli),
    /// The stats subgraph.
    Stats(stats::Cli),
    /// The federation router.
    Router(router::Cli),
    /// The /api/v1 REST compatibility layer.
    RestCompat(rest_compat::Cli),
    /// Exits 0 when the URL answers 2xx (container health checks without curl).
    Healthcheck {
        /// e.g. http://127.0.0.1:8001/ready
        url: String,
    },
}

/// How the whole system runs on one machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// All five services in this one process, calling each other without HTTP:
    /// the least CPU and latency per request.
    OneProcess,
    /// Five processes (children of this one, restarted when they exit), talking HTTP:
    /// each service isolated in its own process.
    Processes,
}

/// Settings of the whole system. Each service also reads its own variables
/// (USERS_PORT, SECRET_KEY, …) from the environment (inherited by the children).
#[derive(Debug, Args)]
pub struct LaunchArgs {
    /// One process, or five supervised processes.
    #[arg(long, env = "TASKTRACKER_MODE", value_enum, default_value_t = Mode::OneProcess)]
    pub mode: Mode,

    /// One-process mode: also serve each subgraph's own HTTP endpoint on its port
    /// (USERS_PORT, TASKS_PORT, STATS_PORT), e.g. for clients or checks that talk to a subgraph.
    #[arg(long, env = "EXPOSE_SUBGRAPHS")]
    pub expose_subgraphs: bool,

    /// One-process mode: `NAME=URL` — subgraph NAME (users, tasks or stats) is not run here
    /// but reached over HTTP at URL (its GraphQL endpoint). Repeatable; the environment
    /// variable takes a comma-separated list.
    #[arg(
        long = "remote-subgraph",
        env = "REMOTE_SUBGRAPHS",
        value_delimiter = ',',
        value_name = "NAME=URL"
    )]
    pub remote_subgraphs: Vec<router::config::SubgraphUrl>,

    #[command(flatten)]
    pub data_dir: DataDirArgs,

    #[command(flatten)]
    pub log: LogArgs,

    /// PostgreSQL URL of the users database (default: DATABASE_URL, else embedded SQLite).
    #[arg(long, env = "USERS_DATABASE_URL", hide_env_values = true)]
    pub users_database_url: Option<String>,

    /// PostgreSQL URL of the tasks database (default: DATABASE_URL, else embedded SQLite).
    #[arg(long, env = "TASKS_DATABASE_URL", hide_env_values = true)]
    pub tasks_database_url: Option<String>,

    /// One PostgreSQL URL for both databases, when the two above are not given.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Supergraph the router serves (default: the one built into this binary).
    #[arg(long, env = "SUPERGRAPH_PATH")]
    pub supergraph: Option<PathBuf>,

    #[command(flatten)]
    pub supervision: SupervisionArgs,
}

/// How the launcher keeps the services running.
#[derive(Debug, Args)]
pub struct SupervisionArgs {
    /// Port of the launcher's own `/health` (200 while every service runs, 503 naming the
    /// one restarting or crash-looping); 0 picks a free one, announced on stdout.
    #[arg(long, env = "LAUNCHER_PORT", default_value_t = 8009)]
    pub launcher_port: u16,

    /// Address of the launcher's `/health`.
    #[arg(long = "launcher-host", env = "HOST", default_value = "127.0.0.1")]
    pub launcher_host: String,

    /// Wait before restarting a service that exited, in milliseconds; doubled for each
    /// further failure in a row, up to --restart-max-backoff-ms.
    #[arg(long, env = "RESTART_BACKOFF_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..))]
    pub restart_backoff_ms: u64,

    /// Longest wait between two restarts of one service, in milliseconds.
    #[arg(long, env = "RESTART_MAX_BACKOFF_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub restart_max_backoff_ms: u64,

    /// A service that ran this many seconds before exiting was healthy: its backoff starts over.
    #[arg(long, env = "RESTART_STABLE_SECS", default_value_t = 30)]
    pub restart_stable_secs: u64,

    /// Failures in a row (exits or failed starts) after which a service counts as crash-looping:
    /// logged as such, shown in the launcher's `/health`, still retried at the longest backoff.
    #[arg(long, env = "CRASH_LOOP_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub crash_loop_failures: u32,
}

impl SupervisionArgs {
    pub fn supervision(&self) -> Supervision {
        Supervision {
            initial_backoff: Duration::from_millis(self.restart_backoff_ms),
            max_backoff: Duration::from_millis(self.restart_max_backoff_ms),
            stable_after: Duration::from_secs(self.restart_stable_secs),
            crash_loop_after: self.crash_loop_failures,
            host: self.launcher_host.clone(),
            port: self.launcher_port,
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.service {
        Some(Service::Users(cli)) => users::run(cli).await,
        Some(Service::Tasks(cli)) => tasks::run(cli).await,
        Some(Service::Stats(cli)) => stats::run(cli).await,
        Some(Service::Router(cli)) => router::run(cli).await,
        Some(Service::RestCompat(cli)) => rest_compat::run(cli).await,
        Some(Service::Healthcheck { url }) => healthcheck(&url).await,
        None => run_everything(cli.launch).await,
    }
}

async fn run_everything(args: LaunchArgs) -> anyhow::Result<()> {
    common::telemetry::init(args.log.log_format);
    let supervision = args.supervision.supervision();
    let (mode, composition) = (
        args.mode,
        Composition {
            expose_subgraphs: args.expose_subgraphs,
            remote: args.remote_subgraphs,
        },
    );
    let launch = Launch {
        executable: std::env::current_exe()?,
        data_dir: args.data_dir.data_dir,
        users_database_url: args
            .users_database_url
            .or_else(|| args.database_url.clone()),
        tasks_database_url: args.tasks_database_url.or(args.database_url),
        supergraph: args.supergraph,
        ports: Ports::from_environment(),
    };
    match mode {
        Mode::OneProcess => crate::one_process::run_until_stopped(launch, composition).await,
        Mode::Processes => {
            anyhow::ensure!(
                composition.remote.is_empty() && !composition.expose_subgraphs,
                "--remote-subgraph and --expose-subgraphs are settings of --mode one-process \
                 (five processes expose every subgraph already)"
            );
            launcher::run_until_stopped(launch, supervision).await
        }
    }
}

async fn healthcheck(url: &str) -> anyhow::Result<()> {
    let response = common::http_client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?
        .get(url)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url} answered {}",
        response.status()
    );
    Ok(())
}
