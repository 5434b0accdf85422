//! Command line and environment of the stats service (flags over env over defaults).

use clap::Args;
use common::config::{ListenArgs, LogArgs};
pub use subgraph_kit::cli::Command;
use subgraph_kit::cli::SubgraphArgs;

use crate::Stats;

/// Its logs are written as the settings every subgraph has say.
impl AsRef<LogArgs> for Config {
    fn as_ref(&self) -> &LogArgs {
        &self.subgraph.log
    }
}

// What the service needs to run; its doc comment opens `stats --help` (common::config::Cli).
/// The stats subgraph: per-user statistics computed from the counts tasks provides.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub listen: ListenArgs<Stats>,

    /// Stats keeps no data: its data directory only holds the generated secret key
    /// shared with the other services.
    #[command(flatten)]
    pub subgraph: SubgraphArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use clap::Parser;

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn print_schema_is_a_subcommand() {
        let cli = Cli::try_parse_from(["stats", "print-schema"]).expect("parses");
        assert!(matches!(cli.command, Some(Command::PrintSchema)));
    }
}
