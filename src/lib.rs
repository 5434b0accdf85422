//! The all-in-one entry point: the three subgraphs, the router and the REST
//! layer composed in this one process (`one_process`, the default), or started
//! as child processes of this same binary, wired to each other and supervised
//! (`launcher`, `supervisor`); and the subcommands that run each service on its own.

pub mod cli;
pub mod launcher;
pub mod one_process;
pub mod supervisor;
