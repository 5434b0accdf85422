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
pub mod scalars;
pub mod storable;

use async_graphql::{ObjectType, SchemaBuilder, SubscriptionType};
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

/// async-graphql's own limits from the service's [`GraphqlLimits`].
pub trait ApplyLimits {
    /// Sets them on a subgraph schema.
    fn apply<Q, M, S>(&self, builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S>
    where
        Q: ObjectType + 'static,
        M: ObjectType + 'static,
        S: SubscriptionType + 'static;
}

impl ApplyLimits for GraphqlLimits {
    /// async-graphql's own limits, set on a subgraph schema: selection depth,
    /// complexity (one per field, so the field limit), the depth its validation
    /// recurses to, and directives per field.
    fn apply<Q, M, S>(&self, builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S>
    where
        Q: ObjectType + 'static,
        M: ObjectType + 'static,
        S: SubscriptionType + 'static,
    {
        let builder = builder
            .limit_depth(self.selection_depth())
            .limit_complexity(self.max_fields)
            .limit_recursive_depth(self.max_nesting)
            .limit_directives(self.max_directives);
        // Spans of the operation and of each resolver that is not a scalar or enum field,
        // only when traces are exported (crate::telemetry): otherwise they would cost.
        if common::telemetry::enabled() {
            builder.extension(async_graphql::extensions::Tracing)
        } else {
            builder
        }
    }
}
