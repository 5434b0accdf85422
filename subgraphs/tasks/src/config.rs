//! Command line and environment configuration of the tasks subgraph.

use std::time::Duration;

use common::config::{ListenArgs, LogArgs};
use db::{StoreArgs, StoreOwner};
pub use subgraph_kit::cli::Command;
use subgraph_kit::cli::SubgraphArgs;

use crate::Tasks;

/// Its logs are written as the settings every subgraph has say.
impl AsRef<LogArgs> for Config {
    fn as_ref(&self) -> &LogArgs {
        &self.subgraph.log
    }
}

/// Its `--db-max-connections` reads `TASKS_DB_MAX_CONNECTIONS`, so that one environment sizes
/// the tasks pool apart from the users one (`DB_MAX_CONNECTIONS`).
impl StoreOwner for Tasks {
    const MAX_CONNECTIONS_ENV: &'static str = "TASKS_DB_MAX_CONNECTIONS";
}

// What the service needs to run; its doc comment opens `tasks --help` (common::config::Cli).
/// The tasks subgraph: tasks, their filters, pages and counts.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    #[command(flatten)]
    pub listen: ListenArgs<Tasks>,

    /// The tasks store (`--database-url`, `TASKS_DB_MAX_CONNECTIONS`, …).
    #[command(flatten)]
    pub store: StoreArgs<Tasks>,

    /// GraphQL endpoint of the users subgraph (e.g. `http://127.0.0.1:8001/graphql`). When set,
    /// every authenticated request's account is checked there (deleted users and inactive
    /// users are refused); when unset, a validly signed token is trusted as is.
    #[arg(long, env = "USERS_URL")]
    pub users_url: Option<String>,

    /// The users subgraph's app when it runs in this process (`tasktracker --mode
    /// one-process`): account checks go to it directly instead of to `users_url`. Not a flag.
    #[arg(skip)]
    pub users_in_process: Option<common::in_process::LocalService>,

    /// How long an account check is remembered per token, in seconds (0 asks users every time).
    #[arg(long, env = "ACCOUNT_CACHE_SECONDS", default_value_t = 5)]
    pub account_cache_seconds: u64,

    #[command(flatten)]
    pub subgraph: SubgraphArgs,
}

impl Config {
    pub fn account_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.account_cache_seconds)
    }

    /// The users endpoint, if one is configured (an empty value counts as unset).
    pub fn users_url(&self) -> Option<&str> {
        self.users_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use clap::{CommandFactory, Parser};

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_and_overrides() {
        let cli = Cli::try_parse_from(["tasks"]).expect("defaults parse");
        assert_eq!(cli.config.listen.port, 8002);
        assert_eq!(cli.config.account_cache_seconds, 5);
        let cli = Cli::try_parse_from(["tasks", "--users-url", " ", "--db-max-connections", "3"])
            .expect("parses");
        assert_eq!(cli.config.users_url(), None, "a blank URL counts as unset");
        assert_eq!(cli.config.store.db_max_connections, 3);
        assert!(Cli::try_parse_from(["tasks", "--db-max-connections", "0"]).is_err());
        assert!(matches!(
            Cli::try_parse_from(["tasks", "print-schema"])
                .expect("parses")
                .command,
            Some(Command::PrintSchema)
        ));
    }
}
