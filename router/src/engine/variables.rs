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

/// Checks one input value against its type; the error says what is wrong.
fn check_input(schema: &ApiSchema, type_ref: &TypeRef, value: &Value) -> Result<(), String> {
    match (type_ref, value) {
        (TypeRef::NonNullType(_), Value::Null) => Err(format!(
            "expected non-nullable type \"{type_ref}\" not to be null"
        )),
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

fn check_named(schema: &ApiSchema, name: &str, value: &Value) -> Result<(), String> {
    let valid = match name {
        "Int" => value.as_i64().is_some_and(|int| i32::try_from(int).is_ok()),
        "Float" => value.is_number(),
        "String" => value.is_string(),
        "Boolean" => value.is_boolean(),
        "ID" => value.is_string() || value.is_i64() || value.is_u64(),
        _ => {
            let Some(info) = schema.types.get(name) else {
                return Err(format!("unknown type \"{name}\""));
            };
            match info.kind {
                TypeKind::Enum => value
                    .as_str()
                    .is_some_and(|text| info.enum_values.contains(text)),
                TypeKind::InputObject => {
                    let Value::Object(fields) = value else {
                        return Err(format!("expected an object for input type \"{name}\""));
                    };
                    if let Some(unknown) = fields
                        .keys()
                        .find(|key| !info.input_fields.iter().any(|f| &f.name == *key))
                    {
                        return Err(format!(
                            "field \"{unknown}\" is not defined by type \"{name}\""
                        ));
                    }
                    for field in &info.input_fields {
                        match fields.get(&field.name) {
                            Some(inner) => check_input(schema, &field.value_type, inner)
                                .map_err(|reason| format!("at \"{}\": {reason}", field.name))?,
                            None if matches!(field.value_type, TypeRef::NonNullType(_))
                                && !field.has_default =>
                            {
                                return Err(format!(
                                    "field \"{}\" of required type \"{}\" was not provided",
                                    field.name, field.value_type
                                ));
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
        Err(format!("expected a value of type \"{name}\""))
    }
}
