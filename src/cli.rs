//! Command line of the `tasktracker` binary.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use common::config::DataDirArgs;

use crate::launcher::{self, Launch, Ports};

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

/// Settings of the all-in-one mode. Each service also reads its own variables
/// (USERS_PORT, SECRET_KEY, …) from the environment it inherits.
#[derive(Debug, Args)]
pub struct LaunchArgs {
    #[command(flatten)]
    pub data_dir: DataDirArgs,

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
    launcher::run_until_stopped(launch).await
}

async fn healthcheck(url: &str) -> anyhow::Result<()> {
    let response = reqwest::Client::builder()
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
