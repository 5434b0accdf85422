//! `tasktracker`: with no subcommand, runs the whole system; `tasktracker <service> …` runs one service.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = tasktracker::cli::Cli::parse();
    tokio::runtime::Runtime::new()?.block_on(tasktracker::cli::run(cli))
}
