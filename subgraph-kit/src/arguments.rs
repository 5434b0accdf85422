//! Arguments as the request gave them. GraphQL's CoerceArgumentValues says an
//! argument given as a variable the request declared but did not send (with no
//! default of its own) is no value at all, so the argument's default applies —
//! and clients rely on it (Apollo Client leaves out undefined variables).
//! async-graphql resolves such a variable to `null` instead (its parser's
//! `VariableDefinition::default_value`), which a resolver that refuses an
//! explicit `null` cannot tell apart; [`given`] can, from the operation itself.

use async_graphql::{Context, MaybeUndefined};
use async_graphql_value::Value as InputValue;

/// `value`, the resolved argument `argument`, as the request gave it: undefined
/// when it is a variable the request did not send.
pub fn given<T>(ctx: &Context<'_>, argument: &str, value: Option<T>) -> MaybeUndefined<T> {
    let unsent = ctx
        .item
        .node
        .get_argument(argument)
        .and_then(|given| match &given.node {
            InputValue::Variable(name) => Some(name),
            _ => None,
        })
        .is_some_and(|name| {
            let request = ctx.query_env;
            !request.variables.contains_key(name)
                && request
                    .operation
                    .node
                    .variable_definitions
                    .iter()
                    .any(|definition| {
                        definition.node.name.node == *name
                            && definition.node.default_value.is_none()
                    })
        });
    match value {
        _ if unsent => MaybeUndefined::Undefined,
        Some(value) => MaybeUndefined::Value(value),
        None => MaybeUndefined::Null,
    }
}
