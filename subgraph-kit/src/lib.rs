//! What the three subgraphs share on top of the service basics (`common`):
//! everything that needs async-graphql — the subgraph GraphQL endpoint, the
//! contract's error codes as GraphQL errors, the `DateTime` scalar, the cost
//! directives, the viewer in a resolver's context, async-graphql's own limits
//! and the `print-schema` subcommand. The router and the REST layer never link
//! it (nor async-graphql).

pub mod cli;
pub mod cost;
pub mod errors;
pub mod graphql_http;
mod operation;
pub mod scalars;
pub mod storable;
mod unsent_variables;

use async_graphql::{EmptySubscription, ObjectType, Schema, SchemaBuilder};
use common::document_scan::GraphqlLimits;
use tokens::Viewer;

use crate::errors::{CodedError, ErrorCode};

/// The viewer as resolvers see it.
pub trait ViewerExt {
    /// The viewer an operation runs as (put into the request data by the HTTP layer);
    /// anonymous when there is none.
    fn of(ctx: &async_graphql::Context<'_>) -> Viewer;

    /// The viewer's user id, or the contract's UNAUTHENTICATED error.
    fn require_user(&self) -> async_graphql::Result<i64>;
}

impl ViewerExt for Viewer {
    fn of(ctx: &async_graphql::Context<'_>) -> Viewer {
        ctx.data_opt::<Viewer>()
            .copied()
            .unwrap_or(Viewer::Anonymous)
    }

    fn require_user(&self) -> async_graphql::Result<i64> {
        match self {
            Viewer::User(id) => Ok(*id),
            Viewer::Anonymous => Err(ErrorCode::Unauthenticated.error("Not authenticated")),
            Viewer::InvalidToken => {
                Err(ErrorCode::Unauthenticated.error("Could not validate credentials"))
            }
        }
    }
}

/// A subgraph's schema: `query` and `mutation` as an Apollo Federation v2
/// subgraph (no subscriptions), with async-graphql's own limits from the
/// service's [`GraphqlLimits`]: selection depth, complexity (one per field, so
/// the field limit), the depth its validation recurses to, and directives per
/// field.
pub fn subgraph_schema<Q, M>(
    query: Q,
    mutation: M,
    limits: &GraphqlLimits,
) -> SchemaBuilder<Q, M, EmptySubscription>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
{
    let builder = Schema::build(query, mutation, EmptySubscription)
        .enable_federation()
        .limit_depth(limits.selection_depth())
        .limit_complexity(limits.max_fields)
        .limit_recursive_depth(limits.max_nesting)
        .limit_directives(limits.max_directives);
    // Spans of the operation and of each resolver that is not a scalar or enum field,
    // only when traces are exported (crate::telemetry): otherwise they would cost.
    if common::telemetry::enabled() {
        builder.extension(async_graphql::extensions::Tracing)
    } else {
        builder
    }
}
