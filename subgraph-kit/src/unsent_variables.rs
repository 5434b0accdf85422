//! Variables a request declared but did not send, as no value at all.
//!
//! GraphQL's CoerceArgumentValues and CoerceInputValues say that an argument
//! or input-object field given as a variable the request did not send (and
//! that has no default of its own) has no value: the argument takes its
//! default or is absent, the field is absent. Clients rely on it — Apollo
//! Client leaves undefined variables out of `variables` — and an update whose
//! input says `description: $d` must not clear the description when `$d` is
//! not sent. async-graphql 7 resolves such a variable to `null` instead
//! (`VariableDefinition::default_value`), so before the document reaches it,
//! every argument and object field given as such a variable, at any depth and
//! in every field and directive, is taken out of the document. A list item
//! given as one stays: the spec makes it `null`. A non-null variable that is
//! not sent is left for async-graphql to refuse.
//!
//! The operation that runs then may no longer use a variable it declares,
//! which validation refuses, so such a declaration goes too. And the document
//! is cut to that operation and the fragments it spreads: the fragments it
//! shares with another operation lost a usage for that one too, and the others
//! are never run. Every walk is a loop over an explicit stack: the client
//! chooses how deep a document nests.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition,
    Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Variables};
use async_graphql_value::Value;

use crate::operation::{selected_name, selected_operation_mut};

type Arguments = Vec<(Positioned<Name>, Positioned<Value>)>;

/// Takes every argument and input-object field given as a variable
/// `variables` leaves out (nullable and without a default) out of the
/// operation a request naming `operation_name` runs.
pub fn leave_out_unsent(
    document: &mut ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) {
    let Some(operation) = selected_operation_mut(&mut document.operations, operation_name) else {
        return;
    };
    let unsent: HashSet<Name> = operation
        .node
        .variable_definitions
        .iter()
        .map(|definition| &definition.node)
        .filter(|definition| {
            definition.var_type.node.nullable
                && definition.default_value.is_none()
                && !variables.contains_key(&definition.name.node)
        })
        .map(|definition| definition.name.node.clone())
        .collect();
    if unsent.is_empty() {
        return;
    }

    let mut left_out = HashSet::new();
    let mut leave_out = |arguments: &mut Arguments| leave_out_of(arguments, &unsent, &mut left_out);
    let mut spread = Vec::new();
    let operation = &mut operation.node;
    walk_operation(operation, &mut leave_out, &mut spread);
    let mut reachable = HashSet::new();
    while let Some(name) = spread.pop() {
        if let Some(fragment) = document.fragments.get_mut(&name)
            && reachable.insert(name)
        {
            walk_fragment(&mut fragment.node, &mut leave_out, &mut spread);
        }
    }
    if left_out.is_empty() {
        return;
    }

    document
        .fragments
        .retain(|name, _| reachable.contains(name));
    let used = used_variables(operation, &mut document.fragments);
    operation.variable_definitions.retain(|definition| {
        let name = &definition.node.name.node;
        !left_out.contains(name) || used.contains(name)
    });
    if let Some(selected) = selected_name(&document.operations, operation_name)
        && let DocumentOperations::Multiple(operations) = &mut document.operations
    {
        operations.retain(|name, _| *name == selected);
    }
}

/// Removes from `arguments`, and from the objects in their values, every
/// entry given as a variable in `unsent`, noting it in `left_out`.
fn leave_out_of(arguments: &mut Arguments, unsent: &HashSet<Name>, left_out: &mut HashSet<Name>) {
    let mut is_unsent = |value: &Value| match value {
        Value::Variable(name) if unsent.contains(name) => {
            left_out.insert(name.clone());
            true
        }
        _ => false,
    };
    arguments.retain(|(_, value)| !is_unsent(&value.node));
    let mut pending: Vec<&mut Value> = arguments
        .iter_mut()
        .map(|(_, value)| &mut value.node)
        .collect();
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(fields) => {
                fields.retain(|_, field| !is_unsent(field));
                pending.extend(fields.values_mut());
            }
            Value::List(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
}

/// The variables used in `operation` and in `fragments`.
fn used_variables(
    operation: &mut OperationDefinition,
    fragments: &mut HashMap<Name, Positioned<FragmentDefinition>>,
) -> HashSet<Name> {
    let mut used = HashSet::new();
    let mut note = |arguments: &mut Arguments| {
        let mut pending: Vec<&Value> = arguments.iter().map(|(_, value)| &value.node).collect();
        while let Some(value) = pending.pop() {
            match value {
                Value::Variable(name) => {
                    used.insert(name.clone());
                }
                Value::Object(fields) => pending.extend(fields.values()),
                Value::List(items) => pending.extend(items),
                _ => {}
            }
        }
    };
    let mut spread = Vec::new();
    walk_operation(operation, &mut note, &mut spread);
    for fragment in fragments.values_mut() {
        walk_fragment(&mut fragment.node, &mut note, &mut spread);
    }
    used
}

/// [`walk`] over an operation.
fn walk_operation(
    operation: &mut OperationDefinition,
    visit: &mut impl FnMut(&mut Arguments),
    spread: &mut Vec<Name>,
) {
    walk(
        &mut operation.selection_set.node,
        &mut operation.directives,
        visit,
        spread,
    );
}

/// [`walk`] over a fragment definition.
fn walk_fragment(
    fragment: &mut FragmentDefinition,
    visit: &mut impl FnMut(&mut Arguments),
    spread: &mut Vec<Name>,
) {
    walk(
        &mut fragment.selection_set.node,
        &mut fragment.directives,
        visit,
        spread,
    );
}

/// Calls `visit` with the arguments of every field and directive in
/// `selection_set` and in `directives` (those of what holds it), and adds the
/// name of every fragment it spreads to `spread`.
fn walk(
    selection_set: &mut SelectionSet,
    directives: &mut [Positioned<Directive>],
    visit: &mut impl FnMut(&mut Arguments),
    spread: &mut Vec<Name>,
) {
    for directive in directives {
        visit(&mut directive.node.arguments);
    }
    let mut pending = vec![selection_set];
    while let Some(selection_set) = pending.pop() {
        for selection in &mut selection_set.items {
            let (directives, inner) = match &mut selection.node {
                Selection::Field(field) => {
                    visit(&mut field.node.arguments);
                    (
                        &mut field.node.directives,
                        Some(&mut field.node.selection_set),
                    )
                }
                Selection::FragmentSpread(fragment_spread) => {
                    spread.push(fragment_spread.node.fragment_name.node.clone());
                    (&mut fragment_spread.node.directives, None)
                }
                Selection::InlineFragment(inline) => (
                    &mut inline.node.directives,
                    Some(&mut inline.node.selection_set),
                ),
            };
            for directive in directives {
                visit(&mut directive.node.arguments);
            }
            pending.extend(inner.map(|inner| &mut inner.node));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;
    use serde_json::json;

    /// `query` after [`leave_out_unsent`] with `variables`.
    fn left_out(
        query: &str,
        operation_name: Option<&str>,
        variables: serde_json::Value,
    ) -> ExecutableDocument {
        let mut document = parse_query(query).expect("a document");
        let variables = Variables::from_json(variables);
        leave_out_unsent(&mut document, operation_name, &variables);
        document
    }

    /// The arguments of each field a selection set of `document` selects, as
    /// GraphQL text, in the order written (fragments by name).
    fn arguments(document: &mut ExecutableDocument) -> Vec<String> {
        let mut written = Vec::new();
        let mut note = |arguments: &mut Arguments| {
            let text: Vec<String> = arguments
                .iter()
                .map(|(name, value)| format!("{}: {}", name.node, value.node))
                .collect();
            written.push(text.join(", "));
        };
        let mut spread = Vec::new();
        for (_, operation) in document.operations.iter() {
            walk_operation(&mut operation.node.clone(), &mut note, &mut spread);
        }
        let mut names: Vec<_> = document.fragments.keys().cloned().collect();
        names.sort();
        for name in names {
            if let Some(fragment) = document.fragments.get_mut(&name) {
                walk_fragment(&mut fragment.node, &mut note, &mut spread);
            }
        }
        written
    }

    fn declared(document: &ExecutableDocument) -> Vec<String> {
        document
            .operations
            .iter()
            .flat_map(|(_, operation)| operation.node.variable_definitions.iter())
            .map(|definition| definition.node.name.node.to_string())
            .collect()
    }

    #[test]
    fn unsent_nullable_variables_are_left_out_at_any_depth() {
        let mut document = left_out(
            "query($a: Int, $b: String, $c: Int = 3, $d: ID!, $e: Int) { \
               f(a: $a, b: $b, c: $c, d: $d, e: $e, o: { x: $a, y: [{ z: $a, w: 1 }, $a], v: $b }) \
             }",
            None,
            json!({ "b": null }),
        );
        assert_eq!(
            arguments(&mut document),
            [r#"b: $b, c: $c, d: $d, o: {y: [{w: 1}, $a], v: $b}"#],
            "sent (even as null), defaulted and non-null variables stay; a list item stays"
        );
        assert_eq!(
            declared(&document),
            ["a", "b", "c", "d"],
            "$e is used nowhere else; $a still is, in a list"
        );
    }

    #[test]
    fn field_and_directive_arguments_in_fragments_are_left_out() {
        let mut document = left_out(
            "query($a: Int, $s: Boolean) { ...F g @include(if: $s) { ... on T { h(a: $a) } } } \
             fragment F on Query { f(a: $a, b: 1) @custom(a: $a) }",
            None,
            json!({}),
        );
        assert_eq!(arguments(&mut document), ["", "", "", "b: 1", ""]);
        assert!(declared(&document).is_empty());
    }

    #[test]
    fn the_document_is_cut_to_the_operation_that_runs_only_when_it_changes() {
        let query = "query A($a: Int) { ...F } query B($a: Int) { ...F } \
                     query C { g } fragment F on Query { f(a: $a) } fragment G on Query { g }";
        let untouched = left_out(query, Some("A"), json!({ "a": 1 }));
        assert_eq!(untouched.operations.iter().count(), 3);
        assert_eq!(untouched.fragments.len(), 2);

        let mut changed = left_out(query, Some("A"), json!({}));
        let names: Vec<_> = changed
            .operations
            .iter()
            .map(|(name, _)| name.map(Name::to_string))
            .collect();
        assert_eq!(names, [Some("A".to_owned())]);
        assert_eq!(arguments(&mut changed), [""], "f without its argument");
        assert!(declared(&changed).is_empty());
        assert_eq!(
            changed
                .fragments
                .keys()
                .map(Name::as_str)
                .collect::<Vec<_>>(),
            ["F"]
        );
    }

    #[test]
    fn a_request_that_selects_no_operation_is_left_as_it_is() {
        let query = "query A($a: Int) { f(a: $a) } query B($a: Int) { f(a: $a) }";
        for name in [None, Some("C")] {
            let mut document = left_out(query, name, json!({}));
            assert_eq!(arguments(&mut document), ["a: $a", "a: $a"]);
        }
    }
}
