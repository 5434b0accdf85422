//! Which of a document's operations a request runs, by async-graphql's own
//! rule for choosing it, so that what is decided about "the operation" before
//! execution is about the one that will run: an operation name picks that
//! named operation; without one, a lone operation runs. Any other request is
//! refused at execution.

use async_graphql::parser::types::{DocumentOperations, OperationDefinition};
use async_graphql::{Name, Positioned};

/// Where the operation a request runs sits among a document's operations.
enum Selected {
    Lone,
    Named(Name),
}

fn selected(operations: &DocumentOperations, operation_name: Option<&str>) -> Option<Selected> {
    match (operations, operation_name) {
        (DocumentOperations::Single(_), None) => Some(Selected::Lone),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get_key_value(name)
            .map(|(name, _)| Selected::Named(name.clone())),
        (DocumentOperations::Multiple(operations), None) => {
            let mut names = operations.keys();
            match (names.next(), names.next()) {
                (Some(name), None) => Some(Selected::Named(name.clone())),
                _ => None,
            }
        }
    }
}

/// The operation a request naming `operation_name` runs, if any.
pub fn selected_operation<'d>(
    operations: &'d DocumentOperations,
    operation_name: Option<&str>,
) -> Option<&'d Positioned<OperationDefinition>> {
    match (selected(operations, operation_name)?, operations) {
        (Selected::Lone, DocumentOperations::Single(operation)) => Some(operation),
        (Selected::Named(name), DocumentOperations::Multiple(operations)) => operations.get(&name),
        _ => None,
    }
}

/// [`selected_operation`], to change.
pub fn selected_operation_mut<'d>(
    operations: &'d mut DocumentOperations,
    operation_name: Option<&str>,
) -> Option<&'d mut Positioned<OperationDefinition>> {
    match (selected(operations, operation_name)?, operations) {
        (Selected::Lone, DocumentOperations::Single(operation)) => Some(operation),
        (Selected::Named(name), DocumentOperations::Multiple(operations)) => {
            operations.get_mut(&name)
        }
        _ => None,
    }
}

/// The name of the operation a request runs when it is one of several (`None`
/// for a document's lone anonymous operation or when none is selected).
pub fn selected_name(
    operations: &DocumentOperations,
    operation_name: Option<&str>,
) -> Option<Name> {
    match selected(operations, operation_name)? {
        Selected::Named(name) => Some(name),
        Selected::Lone => None,
    }
}
