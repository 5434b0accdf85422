//! GraphQL over HTTP as every endpoint of the system answers it, subgraphs and
//! router alike, without a GraphQL engine (the subgraphs' endpoint on
//! async-graphql is `subgraph_kit::graphql_http`, the router has its own).

/// A mutation sent with GET is refused (405, `Allow: POST`: a link must never change
/// data) with this message and code by every GraphQL endpoint, subgraphs and router alike.
pub const MUTATION_OVER_GET_MESSAGE: &str = "Mutations must be sent with POST";
/// See [`MUTATION_OVER_GET_MESSAGE`].
pub const MUTATION_OVER_GET_CODE: &str = "METHOD_NOT_ALLOWED";

/// Real operations, even a router's `_entities` batch, are a few kilobytes;
/// async-graphql buffers a body whole, so bound what one request can make us hold.
pub const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;
