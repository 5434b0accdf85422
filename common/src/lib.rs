//! Service basics, what all five services are built from: the one service
//! skeleton (`server`), the hardened HTTP server and client, configuration
//! arguments, telemetry and trace context, the GraphQL-over-HTTP rules and
//! document limits that need no GraphQL engine; and, merged here because they
//! are small and dependency-free (no async-graphql, no sqlx), the public
//! contract (`rules`, `email`, `errors::ErrorCode`, `timestamps`) and
//! TaskTracker's access tokens (`auth`). What needs async-graphql lives in
//! `subgraph_kit`, the store in `db`: the router and the REST layer link neither.

pub mod auth;
pub mod config;
pub mod document_scan;
pub mod email;
pub mod errors;
pub mod graphql_http;
pub mod http_client;
pub mod http_server;
pub mod rules;
pub mod server;
pub mod telemetry;
pub mod timestamps;
pub mod trace_context;
