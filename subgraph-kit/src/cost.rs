//! The demand-control directives of the IBM GraphQL cost specification as
//! Apollo ships them (`https://specs.apollo.dev/cost/v0.1`): `@cost` weights a
//! field, `@listSize` says how long a list may be. Subgraphs annotate their
//! fields with them; they compose into the supergraph (`@composeDirective`),
//! where the router reads them to estimate what an operation costs before it
//! runs it.

use async_graphql::TypeDirective;

/// The specification the directives are imported from.
pub const COST_SPEC_URL: &str = "https://specs.apollo.dev/cost/v0.1";

/// `@cost(weight:)`: what resolving the element costs, instead of the default
/// (1 per object, 0 per scalar or enum). The specification also allows it on
/// scalars; async-graphql cannot place type directives there, and we have no
/// costly scalar.
#[TypeDirective(
    name = "cost",
    location = "ArgumentDefinition",
    location = "Enum",
    location = "FieldDefinition",
    location = "InputFieldDefinition",
    location = "Object",
    composable = "https://specs.apollo.dev/cost/v0.1"
)]
pub fn cost(weight: i32) {}

/// `@listSize`: how many items a list field returns, either a fixed
/// `assumedSize` or the value of one of its `slicingArguments` (such as
/// `limit`); `sizedFields` name the lists of the returned object so sized
/// (a page type's `items`).
#[TypeDirective(
    name = "listSize",
    location = "FieldDefinition",
    composable = "https://specs.apollo.dev/cost/v0.1"
)]
pub fn list_size(
    assumed_size: Option<i32>,
    slicing_arguments: Option<Vec<String>>,
    sized_fields: Option<Vec<String>>,
    #[graphql(default_with = "Some(true)")] require_one_slicing_argument: Option<bool>,
) {
}
