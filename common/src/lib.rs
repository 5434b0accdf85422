//! The small kit every TaskTracker service is built from: configuration, JWT
//! claims, the two stores (PostgreSQL and embedded SQLite), telemetry, the
//! GraphQL error codes of the public contract and the HTTP server scaffolding.

pub mod auth;
pub mod config;
pub mod cost;
pub mod db;
pub mod document_scan;
pub mod email;
pub mod errors;
pub mod graphql_http;
pub mod http_client;
pub mod http_server;
pub mod rules;
pub mod scalars;
pub mod server;
pub mod storable;
pub mod subgraph;
pub mod telemetry;
pub mod trace_context;
