//! The client's operation as the result shaper needs it: the selection tree with
//! fragment spreads resolved, every field's type looked up in the API schema once,
//! `@skip`/`@include` with literal arguments already decided and the variable
//! definitions with their defaults. Built once per distinct document and cached.

use graphql_tools::static_graphql::query::{
    Definition, Directive, Document, FragmentDefinition, OperationDefinition,
    Selection as AstSelection, SelectionSet, TypeCondition, Value as AstValue,
};
use serde_json::{Map, Value};

use super::schema::{ApiSchema, TypeRef};
use super::{GraphQLError, Location};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

#[derive(Debug)]
pub(crate) struct VariableDefinition {
    pub name: String,
    pub type_ref: TypeRef,
    pub default: Option<Value>,
}

/// `@skip(if: $a)` / `@include(if: $b)` left to decide per request.
#[derive(Debug, Default)]
pub(crate) struct Condition {
    pub skip_if: Option<String>,
    pub include_if: Option<String>,
}

impl Condition {
    pub(crate) fn is_included(&self, variables: &Map<String, Value>) -> bool {
        let flag = |name: &String| {
            variables
                .get(name)
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        !self.skip_if.as_ref().is_some_and(flag) && self.include_if.as_ref().is_none_or(flag)
    }
}

#[derive(Debug)]
pub(crate) enum Selection {
    Field(FieldSelection),
    Fragment(FragmentSelection),
}

#[derive(Debug)]
pub(crate) struct FieldSelection {
    pub response_key: String,
    pub name: String,
    pub field_type: TypeRef,
    pub arguments: Vec<(String, AstValue)>,
    pub condition: Condition,
    pub selections: Vec<Selection>,
}

#[derive(Debug)]
pub(crate) struct FragmentSelection {
    pub type_condition: Option<String>,
    pub condition: Condition,
    pub selections: Vec<Selection>,
}

#[derive(Debug)]
pub(crate) struct ClientOperation {
    pub kind: OperationKind,
    pub root_type: String,
    pub variables: Vec<VariableDefinition>,
    pub selections: Vec<Selection>,
}

/// Picks the operation to run (by name, or the only one).
pub(crate) fn select_operation<'d>(
    document: &'d Document,
    operation_name: Option<&str>,
) -> Result<&'d OperationDefinition, Box<GraphQLError>> {
    let mut operations = document
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            Definition::Operation(operation) => Some(operation),
            Definition::Fragment(_) => None,
        });
    match operation_name {
        Some(wanted) => operations
            .find(|operation| operation_parts(operation).1 == Some(wanted))
            .ok_or_else(|| {
                GraphQLError::new(format!("Unknown operation named \"{wanted}\".")).into()
            }),
        None => {
            let first = operations
                .next()
                .ok_or_else(|| GraphQLError::new("The document contains no operation."))?;
            if operations.next().is_some() {
                return Err(Box::new(GraphQLError::new(
                    "Must provide operation name if query contains multiple operations.",
                )));
            }
            Ok(first)
        }
    }
}

fn operation_parts(operation: &OperationDefinition) -> (OperationKind, Option<&str>) {
    match operation {
        OperationDefinition::SelectionSet(_) => (OperationKind::Query, None),
        OperationDefinition::Query(query) => (OperationKind::Query, query.name.as_deref()),
        OperationDefinition::Mutation(mutation) => {
            (OperationKind::Mutation, mutation.name.as_deref())
        }
        OperationDefinition::Subscription(subscription) => {
            (OperationKind::Subscription, subscription.name.as_deref())
        }
    }
}

/// Builds the client operation from a validated document.
pub(crate) fn build_client_operation(
    schema: &ApiSchema,
    document: &Document,
    operation: &OperationDefinition,
) -> Result<ClientOperation, Box<GraphQLError>> {
    let (kind, _) = operation_parts(operation);
    let (variable_definitions, selection_set) = match operation {
        OperationDefinition::SelectionSet(selection_set) => (&[][..], selection_set),
        OperationDefinition::Query(query) => {
            (&query.variable_definitions[..], &query.selection_set)
        }
        OperationDefinition::Mutation(mutation) => {
            (&mutation.variable_definitions[..], &mutation.selection_set)
        }
        OperationDefinition::Subscription(subscription) => (
            &subscription.variable_definitions[..],
            &subscription.selection_set,
        ),
    };
    let root_type = match kind {
        OperationKind::Query => Some(schema.query_type.clone()),
        OperationKind::Mutation => schema.mutation_type.clone(),
        OperationKind::Subscription => schema.subscription_type.clone(),
    }
    .ok_or_else(|| GraphQLError::new("The schema does not support this operation type."))?;
    let variables = variable_definitions
        .iter()
        .map(|definition| VariableDefinition {
            name: definition.name.clone(),
            type_ref: definition.var_type.clone(),
            default: definition
                .default_value
                .as_ref()
                .map(|value| value_to_json(value, &Map::new())),
        })
        .collect();
    let fragments: Vec<&FragmentDefinition> = document
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            Definition::Fragment(fragment) => Some(fragment),
            Definition::Operation(_) => None,
        })
        .collect();
    let builder = SelectionBuilder {
        schema,
        fragments: &fragments,
    };
    let selections = builder.selection_set(selection_set, &root_type, 0)?;
    Ok(ClientOperation {
        kind,
        root_type,
        variables,
        selections,
    })
}

/// Deeper than this, a document is refused rather than risk the stack.
const MAX_SELECTION_DEPTH: usize = 128;

struct SelectionBuilder<'a> {
    schema: &'a ApiSchema,
    fragments: &'a [&'a FragmentDefinition],
}

impl SelectionBuilder<'_> {
    fn selection_set(
        &self,
        selection_set: &SelectionSet,
        parent_type: &str,
        depth: usize,
    ) -> Result<Vec<Selection>, Box<GraphQLError>> {
        if depth > MAX_SELECTION_DEPTH {
            return Err(GraphQLError::new("The operation is nested too deeply.").into());
        }
        let mut selections = Vec::with_capacity(selection_set.items.len());
        for item in &selection_set.items {
            let Some(condition) = condition_of(directives_of(item)) else {
                continue;
            };
            match item {
                AstSelection::Field(field) => {
                    let field_type = if field.name == "__typename" {
                        TypeRef::NonNullType(Box::new(TypeRef::NamedType("String".to_owned())))
                    } else {
                        self.schema
                            .field_type(parent_type, &field.name)
                            .cloned()
                            .ok_or_else(|| {
                                GraphQLError::new(format!(
                                    "Cannot query field \"{}\" on type \"{parent_type}\".",
                                    field.name
                                ))
                                .at(field.position.line, field.position.column)
                            })?
                    };
                    let child_type = super::schema::named_type(&field_type).to_owned();
                    selections.push(Selection::Field(FieldSelection {
                        response_key: field.alias.clone().unwrap_or_else(|| field.name.clone()),
                        name: field.name.clone(),
                        arguments: field.arguments.clone(),
                        condition,
                        selections: self.selection_set(
                            &field.selection_set,
                            &child_type,
                            depth + 1,
                        )?,
                        field_type,
                    }));
                }
                AstSelection::InlineFragment(fragment) => {
                    let type_condition = fragment
                        .type_condition
                        .as_ref()
                        .map(|TypeCondition::On(name)| name.clone());
                    selections.push(self.fragment(
                        &fragment.selection_set,
                        type_condition,
                        parent_type,
                        condition,
                        depth,
                    )?);
                }
                AstSelection::FragmentSpread(spread) => {
                    let fragment = self
                        .fragments
                        .iter()
                        .find(|fragment| fragment.name == spread.fragment_name)
                        .ok_or_else(|| {
                            GraphQLError::new(format!(
                                "Unknown fragment \"{}\".",
                                spread.fragment_name
                            ))
                        })?;
                    let TypeCondition::On(type_condition) = &fragment.type_condition;
                    selections.push(self.fragment(
                        &fragment.selection_set,
                        Some(type_condition.clone()),
                        parent_type,
                        condition,
                        depth,
                    )?);
                }
            }
        }
        Ok(selections)
    }

    /// A fragment, inline or spread: its selections apply to its type condition, or to the
    /// enclosing type when it has none.
    fn fragment(
        &self,
        selection_set: &SelectionSet,
        type_condition: Option<String>,
        parent_type: &str,
        condition: Condition,
        depth: usize,
    ) -> Result<Selection, Box<GraphQLError>> {
        let inner_type = type_condition.as_deref().unwrap_or(parent_type);
        Ok(Selection::Fragment(FragmentSelection {
            selections: self.selection_set(selection_set, inner_type, depth + 1)?,
            type_condition,
            condition,
        }))
    }
}

/// The directives written on a selection.
fn directives_of(selection: &AstSelection) -> &[Directive] {
    match selection {
        AstSelection::Field(field) => &field.directives,
        AstSelection::InlineFragment(fragment) => &fragment.directives,
        AstSelection::FragmentSpread(spread) => &spread.directives,
    }
}

/// The `@skip`/`@include` condition of a selection, or None when a literal argument excludes it.
fn condition_of(directives: &[Directive]) -> Option<Condition> {
    let mut condition = Condition::default();
    for directive in directives {
        let skip = match directive.name.as_str() {
            "skip" => true,
            "include" => false,
            _ => continue,
        };
        let Some((_, argument)) = directive.arguments.iter().find(|(name, _)| name == "if") else {
            continue;
        };
        match argument {
            AstValue::Boolean(flag) if *flag == skip => return None,
            AstValue::Variable(variable) if skip => condition.skip_if = Some(variable.clone()),
            AstValue::Variable(variable) => condition.include_if = Some(variable.clone()),
            _ => {}
        }
    }
    Some(condition)
}

/// A GraphQL literal as JSON, with variables replaced by their values.
pub(crate) fn value_to_json(value: &AstValue, variables: &Map<String, Value>) -> Value {
    match value {
        AstValue::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        AstValue::Int(number) => number.as_i64().map_or(Value::Null, Value::from),
        AstValue::Float(float) => {
            serde_json::Number::from_f64(*float).map_or(Value::Null, Value::Number)
        }
        AstValue::String(text) => Value::String(text.clone()),
        AstValue::Boolean(flag) => Value::Bool(*flag),
        AstValue::Null => Value::Null,
        AstValue::Enum(name) => Value::String(name.clone()),
        AstValue::List(items) => Value::Array(
            items
                .iter()
                .map(|item| value_to_json(item, variables))
                .collect(),
        ),
        AstValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, field)| (name.clone(), value_to_json(field, variables)))
                .collect(),
        ),
    }
}

impl GraphQLError {
    pub(crate) fn new(message: impl Into<String>) -> GraphQLError {
        GraphQLError {
            message: message.into(),
            locations: None,
            path: None,
            extensions: None,
        }
    }

    pub(crate) fn at(mut self, line: usize, column: usize) -> GraphQLError {
        self.locations = Some(vec![Location { line, column }]);
        self
    }

    pub(crate) fn with_extension(mut self, name: &str, value: Value) -> GraphQLError {
        self.extensions
            .get_or_insert_with(Map::new)
            .insert(name.to_owned(), value);
        self
    }

    pub(crate) fn with_code(mut self, code: &str) -> GraphQLError {
        self.extensions
            .get_or_insert_with(Map::new)
            .insert("code".to_owned(), Value::String(code.to_owned()));
        self
    }
}
