//! Coercion of the request's variables against the operation's variable
//! definitions: defaults applied, required variables enforced, values checked
//! against their input types, so subgraphs only ever see well-typed variables.

use serde_json::{Map, Value};

use super::GraphQLError;
use super::operation::VariableDefinition;
use super::schema::{ApiSchema, TypeKind, TypeRef};

/// The variables to execute with, or the errors that refuse the request.
pub(crate) fn coerce_variables(
    schema: &ApiSchema,
    definitions: &[VariableDefinition],
    provided: Option<Map<String, Value>>,
) -> Result<Map<String, Value>, Vec<GraphQLError>> {
    let mut provided = provided.unwrap_or_default();
    let mut coerced = Map::with_capacity(definitions.len());
    let mut errors = Vec::new();
    for definition in definitions {
        let name = &definition.name;
        match provided.remove(name) {
            Some(value) => match check_input(schema, &definition.type_ref, &value) {
                Ok(()) => {
                    coerced.insert(name.clone(), value);
                }
                Err(reason) => errors.push(GraphQLError::new(format!(
                    "Variable \"${name}\" got invalid value {value}; {reason}"
                ))),
            },
            None => match &definition.default {
                Some(default) => {
                    coerced.insert(name.clone(), default.clone());
                }
                None if matches!(definition.type_ref, TypeRef::NonNullType(_)) => {
                    errors.push(GraphQLError::new(format!(
                        "Variable \"${name}\" of required type \"{}\" was not provided.",
                        definition.type_ref
                    )))
                }
                None => {}
            },
        }
    }
    if errors.is_empty() {
        Ok(coerced)
    } else {
        Err(errors
            .into_iter()
            .map(|error| error.with_code("BAD_USER_INPUT"))
            .collect())
    }
}

/// What is wrong with a variable's value (the message clients see after the value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum InputError {
    #[error("expected non-nullable type \"{type_ref}\" not to be null")]
    Null { type_ref: String },
    #[error("unknown type \"{0}\"")]
    UnknownType(String),
    #[error("expected an object for input type \"{0}\"")]
    NotAnObject(String),
    #[error("field \"{field}\" is not defined by type \"{type_name}\"")]
    UnknownField { field: String, type_name: String },
    #[error("field \"{field}\" of required type \"{type_ref}\" was not provided")]
    MissingField { field: String, type_ref: String },
    #[error("at \"{field}\": {error}")]
    InField {
        field: String,
        error: Box<InputError>,
    },
    #[error("expected a value of type \"{0}\"")]
    WrongType(String),
}

/// Checks one input value against its type; the error says what is wrong.
fn check_input(schema: &ApiSchema, type_ref: &TypeRef, value: &Value) -> Result<(), InputError> {
    match (type_ref, value) {
        (TypeRef::NonNullType(_), Value::Null) => Err(InputError::Null {
            type_ref: type_ref.to_string(),
        }),
        (TypeRef::NonNullType(inner), _) => check_input(schema, inner, value),
        (_, Value::Null) => Ok(()),
        (TypeRef::ListType(inner), Value::Array(items)) => items
            .iter()
            .try_for_each(|item| check_input(schema, inner, item)),
        // A single value where a list is expected is coerced to a one-item list.
        (TypeRef::ListType(inner), _) => check_input(schema, inner, value),
        (TypeRef::NamedType(name), _) => check_named(schema, name, value),
    }
}

fn check_named(schema: &ApiSchema, name: &str, value: &Value) -> Result<(), InputError> {
    let valid =
        match name {
            "Int" => value.as_i64().is_some_and(|int| i32::try_from(int).is_ok()),
            "Float" => value.is_number(),
            "String" => value.is_string(),
            "Boolean" => value.is_boolean(),
            "ID" => value.is_string() || value.is_i64() || value.is_u64(),
            _ => {
                let Some(info) = schema.types.get(name) else {
                    return Err(InputError::UnknownType(name.to_owned()));
                };
                match info.kind {
                    TypeKind::Enum => value
                        .as_str()
                        .is_some_and(|text| info.enum_values.contains(text)),
                    TypeKind::InputObject => {
                        let Value::Object(fields) = value else {
                            return Err(InputError::NotAnObject(name.to_owned()));
                        };
                        if let Some(unknown) = fields
                            .keys()
                            .find(|key| !info.input_fields.iter().any(|f| &f.name == *key))
                        {
                            return Err(InputError::UnknownField {
                                field: unknown.clone(),
                                type_name: name.to_owned(),
                            });
                        }
                        for field in &info.input_fields {
                            match fields.get(&field.name) {
                                Some(inner) => check_input(schema, &field.value_type, inner)
                                    .map_err(|error| InputError::InField {
                                        field: field.name.clone(),
                                        error: Box::new(error),
                                    })?,
                                None if matches!(field.value_type, TypeRef::NonNullType(_))
                                    && !field.has_default =>
                                {
                                    return Err(InputError::MissingField {
                                        field: field.name.clone(),
                                        type_ref: field.value_type.to_string(),
                                    });
                                }
                                None => {}
                            }
                        }
                        true
                    }
                    // Custom scalars accept any JSON: the subgraph owning them validates.
                    _ => true,
                }
            }
        };
    if valid {
        Ok(())
    } else {
        Err(InputError::WrongType(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::engine::schema::tests::schema;

    fn definition(name: &str, type_ref: &str, default: Option<Value>) -> VariableDefinition {
        let document = graphql_tools::parser::parse_query::<String>(&format!(
            "query (${name}: {type_ref}) {{ x }}"
        ))
        .expect("test operation parses")
        .into_static();
        let graphql_tools::static_graphql::query::Definition::Operation(
            graphql_tools::static_graphql::query::OperationDefinition::Query(query),
        ) = &document.definitions[0]
        else {
            panic!("a query");
        };
        VariableDefinition {
            name: name.to_owned(),
            type_ref: query.variable_definitions[0].var_type.clone(),
            default,
        }
    }

    const SDL: &str = "enum Color { RED GREEN } input Filter { color: Color! limit: Int = 10 } type Query { x: Int }";

    #[test]
    fn defaults_apply_and_absent_nullables_stay_absent() {
        let schema = schema(SDL);
        let definitions = [
            definition("a", "Int", Some(json!(3))),
            definition("b", "String", None),
        ];
        let coerced = coerce_variables(&schema, &definitions, None).expect("valid");
        assert_eq!(Value::Object(coerced), json!({"a": 3}));
    }

    #[test]
    fn required_and_typed_values_are_enforced() {
        let schema = schema(SDL);
        let errors =
            coerce_variables(&schema, &[definition("id", "ID!", None)], None).expect_err("missing");
        assert_eq!(
            errors[0].message,
            "Variable \"$id\" of required type \"ID!\" was not provided."
        );
        let color = [definition("c", "Color", None)];
        assert!(
            coerce_variables(
                &schema,
                &color,
                Some(json!({"c": "RED"}).as_object().cloned().unwrap_or_default())
            )
            .is_ok()
        );
        assert!(
            coerce_variables(
                &schema,
                &color,
                Some(
                    json!({"c": "BLUE"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                )
            )
            .is_err()
        );
        let filter = [definition("f", "Filter!", None)];
        let missing_field = json!({"f": {"limit": 1}}).as_object().cloned();
        let errors = coerce_variables(&schema, &filter, missing_field).expect_err("color missing");
        assert!(
            errors[0]
                .message
                .contains("field \"color\" of required type \"Color!\""),
            "{}",
            errors[0].message
        );
        let too_big = json!({"f": {"color": "RED", "limit": 3_000_000_000u64}})
            .as_object()
            .cloned();
        assert!(coerce_variables(&schema, &filter, too_big).is_err());
        let list = [definition("l", "[Int!]", None)];
        assert!(
            coerce_variables(&schema, &list, json!({"l": [1, 2]}).as_object().cloned()).is_ok()
        );
        assert!(
            coerce_variables(&schema, &list, json!({"l": [1, null]}).as_object().cloned()).is_err()
        );
    }
}
