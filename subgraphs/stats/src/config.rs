//! Command line and environment of the stats service (flags over env over defaults).

use clap::{Args, Parser, Subcommand};
use common::config::{DataDirArgs, JwtArgs, LogArgs};

/// The stats subgraph: per-user statistics computed from the task counts the router brings.
#[derive(Debug, Clone, Parser)]
#[command(name = "stats", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Print the subgraph SDL (exactly what `{ _service { sdl } }` returns) and exit.
    PrintSchema,
}

/// Everything the server needs to run.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Port to listen on (0 picks a free one; the chosen address is announced on stdout).
    #[arg(long, env = "STATS_PORT", default_value_t = 8003)]
    pub port: u16,

    /// Address to bind (`0.0.0.0` to accept connections from other hosts).
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Stats keeps no data; the directory only holds the generated secret key shared with the other services.
    /// Limits on GraphQL documents, JSON nesting and error output.
    #[command(flatten)]
    pub graphql: common::document_scan::GraphqlLimits,

    /// Timeouts and caps of the HTTP server (shared by every service).
    #[command(flatten)]
    pub http: common::server::ServerLimits,

    #[command(flatten)]
    pub data_dir: DataDirArgs,

    #[command(flatten)]
    pub log: LogArgs,

    #[command(flatten)]
    pub jwt: JwtArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

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
