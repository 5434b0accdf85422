//! The all-in-one entry point: a launcher that starts the three subgraphs, the
//! router and the REST layer as child processes of this same binary, wired to
//! each other, and the subcommands that run each service on its own.

pub mod cli;
pub mod launcher;
pub mod supervisor;
