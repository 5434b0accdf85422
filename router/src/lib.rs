//! A general Apollo Federation v2 router: loads a composed supergraph, plans
//! operations with `hive-router-query-planner`, executes the plans against the
//! subgraphs and serves GraphQL over HTTP with GraphiQL.

pub mod engine;
