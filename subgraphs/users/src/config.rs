//! Command line and environment of the users service (flags over environment
//! over defaults), and the `print-schema` subcommand.

use std::num::NonZeroUsize;

use clap::Args;
use common::config::{ListenArgs, LogArgs};
use db::{StoreArgs, StoreOwner};
pub use subgraph_kit::cli::Command;
use subgraph_kit::cli::SubgraphArgs;

use crate::Users;

/// Its logs are written as the settings every subgraph has say.
impl AsRef<LogArgs> for Config {
    fn as_ref(&self) -> &LogArgs {
        &self.subgraph.log
    }
}

/// Its `--db-max-connections` reads `DB_MAX_CONNECTIONS` (tasks has a variable of its own).
impl StoreOwner for Users {
    const MAX_CONNECTIONS_ENV: &'static str = "DB_MAX_CONNECTIONS";
}

// What the service needs to run; its doc comment opens `users --help` (common::config::Cli).
/// The users subgraph: accounts, login and access tokens.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub listen: ListenArgs<Users>,

    /// The users store (`--database-url`, `DB_MAX_CONNECTIONS`, …).
    #[command(flatten)]
    pub store: StoreArgs<Users>,

    /// bcrypt work factor for new password hashes (4–31; 12 matches the original system).
    #[arg(long, env = "BCRYPT_COST", default_value_t = 12, value_parser = clap::value_parser!(u32).range(4..=31))]
    pub bcrypt_cost: u32,

    /// How many password hashes may be computed at once; further logins and
    /// registrations wait their turn so that they cannot starve other requests.
    /// Default: the number of CPU cores.
    #[arg(long, env = "MAX_CONCURRENT_HASHES")]
    pub max_concurrent_hashes: Option<NonZeroUsize>,

    #[command(flatten)]
    pub subgraph: SubgraphArgs,
}

impl Config {
    /// The configured hashing concurrency, or one per core.
    pub fn hash_concurrency(&self) -> usize {
        self.max_concurrent_hashes
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get)
    }
}

#[cfg(test)]
mod tests {
    use crate::Cli;
    use clap::{CommandFactory, Parser};

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bcrypt_cost_out_of_range_is_refused() {
        assert!(Cli::try_parse_from(["users", "--bcrypt-cost", "3"]).is_err());
        assert!(Cli::try_parse_from(["users", "--bcrypt-cost", "32"]).is_err());
    }
}
