//! Introspection answered by the router itself: the `__schema` and every `__type`
//! of the API schema are computed once as JSON at load; a request's `__schema` /
//! `__type(name:)` root fields take a copy, and the result shaper projects the
//! client's selection onto it like any other data.

use std::collections::HashMap;

use graphql_tools::static_graphql::schema::{Definition, Directive, InputValue, TypeDefinition};
use serde_json::{Map, Value, json};

use super::operation::{ClientOperation, Selection, value_to_json};
use super::schema::{ApiSchema, TypeKind, TypeRef};

pub(crate) struct Introspection {
    schema: Value,
    types: HashMap<String, Value>,
}

impl Introspection {
    pub(crate) fn new(api: &ApiSchema) -> Introspection {
        let mut types = HashMap::new();
        let mut type_list = Vec::new();
        let mut directives = Vec::new();
        for definition in &api.document.definitions {
            match definition {
                Definition::TypeDefinition(type_definition) => {
                    let (name, value) = type_json(api, type_definition);
                    type_list.push(value.clone());
                    types.insert(name, value);
                }
                Definition::DirectiveDefinition(directive) => directives.push(json!({
                    "name": directive.name,
                    "description": directive.description,
                    "locations": directive.locations.iter().map(|location| location.as_str()).collect::<Vec<_>>(),
                    "args": directive.arguments.iter().map(|argument| input_value_json(api, argument)).collect::<Vec<_>>(),
                    "isRepeatable": directive.repeatable,
                })),
                _ => {}
            }
        }
        let root = |name: Option<&String>| {
            name.and_then(|name| types.get(name).cloned())
                .unwrap_or(Value::Null)
        };
        let schema = json!({
            "description": null,
            "queryType": root(Some(&api.query_type)),
            "mutationType": root(api.mutation_type.as_ref()),
            "subscriptionType": root(api.subscription_type.as_ref()),
            "types": type_list,
            "directives": directives,
        });
        Introspection { schema, types }
    }

    /// Puts the answers of the operation's root introspection fields into `data`.
    pub(crate) fn resolve_root_fields(
        &self,
        operation: &ClientOperation,
        variables: &Map<String, Value>,
        data: &mut Map<String, Value>,
    ) {
        self.resolve_in(&operation.selections, variables, data);
    }

    fn resolve_in(
        &self,
        selections: &[Selection],
        variables: &Map<String, Value>,
        data: &mut Map<String, Value>,
    ) {
        for selection in selections {
            match selection {
                Selection::Field(field) if field.name == "__schema" => {
                    data.insert(field.response_key.clone(), self.schema.clone());
                }
                Selection::Field(field) if field.name == "__type" => {
                    let wanted = field
                        .arguments
                        .iter()
                        .find(|(name, _)| name == "name")
                        .map(|(_, value)| value_to_json(value, variables));
                    let found = wanted
                        .as_ref()
                        .and_then(Value::as_str)
                        .and_then(|name| self.types.get(name))
                        .cloned();
                    data.insert(field.response_key.clone(), found.unwrap_or(Value::Null));
                }
                Selection::Field(_) => {}
                Selection::Fragment(fragment) => {
                    self.resolve_in(&fragment.selections, variables, data)
                }
            }
        }
    }
}

fn type_json(api: &ApiSchema, definition: &TypeDefinition) -> (String, Value) {
    let (name, description, kind) = match definition {
        TypeDefinition::Scalar(scalar) => (&scalar.name, &scalar.description, TypeKind::Scalar),
        TypeDefinition::Object(object) => (&object.name, &object.description, TypeKind::Object),
        TypeDefinition::Interface(interface) => {
            (&interface.name, &interface.description, TypeKind::Interface)
        }
        TypeDefinition::Union(union) => (&union.name, &union.description, TypeKind::Union),
        TypeDefinition::Enum(enumeration) => {
            (&enumeration.name, &enumeration.description, TypeKind::Enum)
        }
        TypeDefinition::InputObject(input) => {
            (&input.name, &input.description, TypeKind::InputObject)
        }
    };
    let is_root_query = *name == api.query_type;
    let fields = |fields: &[graphql_tools::static_graphql::schema::Field]| {
        Value::Array(
            fields
                .iter()
                .filter(|field| !(is_root_query && field.name.starts_with("__")))
                .map(|field| {
                    let deprecation = deprecation_reason(&field.directives);
                    json!({
                        "name": field.name,
                        "description": field.description,
                        "args": field.arguments.iter().map(|argument| input_value_json(api, argument)).collect::<Vec<_>>(),
                        "type": type_ref_json(api, &field.field_type),
                        "isDeprecated": deprecation.is_some(),
                        "deprecationReason": deprecation,
                    })
                })
                .collect(),
        )
    };
    let named_refs = |names: &mut dyn Iterator<Item = &String>| {
        let mut names: Vec<&String> = names.collect();
        names.sort();
        Value::Array(
            names
                .into_iter()
                .map(|name| named_ref_json(api, name))
                .collect(),
        )
    };
    let mut value = json!({
        "kind": kind.introspection_name(),
        "name": name,
        "description": description,
        "specifiedByURL": null,
        "isOneOf": false,
        "fields": null,
        "interfaces": null,
        "possibleTypes": null,
        "enumValues": null,
        "inputFields": null,
        "ofType": null,
    });
    let object = value
        .as_object_mut()
        .expect("json! of an object literal is an object");
    match definition {
        TypeDefinition::Object(definition) => {
            object.insert("fields".into(), fields(&definition.fields));
            object.insert(
                "interfaces".into(),
                named_refs(&mut definition.implements_interfaces.iter()),
            );
        }
        TypeDefinition::Interface(definition) => {
            object.insert("fields".into(), fields(&definition.fields));
            object.insert(
                "interfaces".into(),
                named_refs(&mut definition.implements_interfaces.iter()),
            );
            let possible = api
                .types
                .get(name)
                .map(|info| info.possible_types.iter().collect::<Vec<_>>());
            object.insert(
                "possibleTypes".into(),
                named_refs(&mut possible.unwrap_or_default().into_iter()),
            );
        }
        TypeDefinition::Union(definition) => {
            object.insert(
                "possibleTypes".into(),
                named_refs(&mut definition.types.iter()),
            );
        }
        TypeDefinition::Enum(definition) => {
            let values = definition.values.iter().map(|value| {
                let deprecation = deprecation_reason(&value.directives);
                json!({
                    "name": value.name,
                    "description": value.description,
                    "isDeprecated": deprecation.is_some(),
                    "deprecationReason": deprecation,
                })
            });
            object.insert("enumValues".into(), Value::Array(values.collect()));
        }
        TypeDefinition::InputObject(definition) => {
            let input_fields = definition
                .fields
                .iter()
                .map(|field| input_value_json(api, field));
            object.insert("inputFields".into(), Value::Array(input_fields.collect()));
        }
        TypeDefinition::Scalar(_) => {}
    }
    (name.clone(), value)
}

fn input_value_json(api: &ApiSchema, input: &InputValue) -> Value {
    let deprecation = deprecation_reason(&input.directives);
    json!({
        "name": input.name,
        "description": input.description,
        "type": type_ref_json(api, &input.value_type),
        "defaultValue": input.default_value.as_ref().map(ToString::to_string),
        "isDeprecated": deprecation.is_some(),
        "deprecationReason": deprecation,
    })
}

fn type_ref_json(api: &ApiSchema, type_ref: &TypeRef) -> Value {
    match type_ref {
        TypeRef::NamedType(name) => named_ref_json(api, name),
        TypeRef::ListType(inner) => {
            json!({"kind": "LIST", "name": null, "ofType": type_ref_json(api, inner)})
        }
        TypeRef::NonNullType(inner) => {
            json!({"kind": "NON_NULL", "name": null, "ofType": type_ref_json(api, inner)})
        }
    }
}

fn named_ref_json(api: &ApiSchema, name: &str) -> Value {
    let kind = api.kind_of(name).unwrap_or(TypeKind::Scalar);
    json!({"kind": kind.introspection_name(), "name": name, "ofType": null})
}

fn deprecation_reason(directives: &[Directive]) -> Option<String> {
    let directive = directives
        .iter()
        .find(|directive| directive.name == "deprecated")?;
    let reason = directive
        .arguments
        .iter()
        .find(|(name, _)| name == "reason")
        .and_then(|(_, value)| match value {
            graphql_tools::static_graphql::schema::Value::String(reason) => Some(reason.clone()),
            _ => None,
        });
    Some(reason.unwrap_or_else(|| "No longer supported".to_owned()))
}
