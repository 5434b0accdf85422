//! Service basics, what all five services are built from: the one service
//! skeleton (`server`), the hardened HTTP server and client, configuration
//! arguments, telemetry and trace context, the GraphQL-over-HTTP rules and
//! document limits that need no GraphQL engine; and, merged here because they
//! are small and dependency-free (no async-graphql, no sqlx), the public
//! contract (`rules`, `email`, `errors::ErrorCode`, `timestamps`): every
//! service reads it (the router its error codes, REST all of it), so a crate
//! of its own would only add an edge. What needs async-graphql lives in
//! `subgraph_kit`, the store in `db`, TaskTracker's token claims in `tokens`:
//! the router and the REST layer link none of them.

pub mod config;
pub mod connection_threads;
pub mod document_scan;
pub mod email;
pub mod errors;
pub mod graphql_http;
pub mod http_client;
pub mod http_server;
pub mod in_process;
pub mod rules;
pub mod server;
pub mod telemetry;
pub mod timestamps;
pub mod trace_context;
