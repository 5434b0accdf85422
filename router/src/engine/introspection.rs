//! Introspection answered by the router itself: the `__schema` and every `__type`
//! of the API schema are computed once as JSON at load; a request's `__schema` /
//! `__type(name:)` root fields take a copy, and the result shaper projects the
//! client's selection onto it like any other data.

use std::collections::HashMap;

use graphql_tools::static_graphql::schema::{Definition, Directive, InputValue, TypeDefinition};
use serde_json::{Map, Value, json};

use super::data::{Data, Object};
use super::operation::{ClientOperation, Selection, value_to_json};
use super::schema::{ApiSchema, TypeKind, TypeRef, named_type};

/// Held as executor data, so that a request copies it without converting.
pub(crate) struct Introspection {
    schema: Data,
    types: HashMap<String, Data>,
}

impl Introspection {
    pub(crate) fn new(api: &ApiSchema) -> Introspection {
        let referenced = referenced_type_names(api);
        let mut types = HashMap::new();
        let mut type_list = Vec::new();
        let mut directives = specified_directives();
        for definition in &api.document.definitions {
            match definition {
                Definition::TypeDefinition(type_definition) => {
                    let (name, value) = type_json(api, type_definition);
                    // As graphql-js does: a built-in scalar is listed only when something uses it.
                    if BUILT_IN_SCALARS.contains(&name.as_str()) && !referenced.contains(name.as_str()) {
                        continue;
                    }
                    type_list.push(value.clone());
                    types.insert(name, value);
                }
                Definition::DirectiveDefinition(directive)
                    if !SPECIFIED_DIRECTIVES.contains(&directive.name.as_str()) =>
                {
                    directives.push(json!({
                        "name": directive.name,
                        "description": directive.description,
                        "locations": directive.locations.iter().map(|location| location.as_str()).collect::<Vec<_>>(),
                        "args": directive.arguments.iter().map(|argument| input_value_json(api, argument)).collect::<Vec<_>>(),
                        "isRepeatable": directive.repeatable,
                    }))
                }
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
        Introspection {
            schema: Data::from(schema),
            types: types
                .into_iter()
                .map(|(name, value)| (name, Data::from(value)))
                .collect(),
        }
    }

    /// Puts the answers of the operation's root introspection fields into `data`.
    pub(crate) fn resolve_root_fields(
        &self,
        operation: &ClientOperation,
        variables: &Map<String, Value>,
        data: &mut Object,
    ) {
        self.resolve_in(&operation.selections, variables, data);
    }

    fn resolve_in(
        &self,
        selections: &[Selection],
        variables: &Map<String, Value>,
        data: &mut Object,
    ) {
        for selection in selections {
            match selection {
                Selection::Field(field) if field.name == "__schema" => {
                    data.insert(field.response_key.as_str(), self.schema.clone());
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
                    data.insert(field.response_key.as_str(), found.unwrap_or_default());
                }
                Selection::Field(_) => {}
                Selection::Fragment(fragment) => {
                    self.resolve_in(&fragment.selections, variables, data)
                }
            }
        }
    }
}

const BUILT_IN_SCALARS: [&str; 5] = ["String", "Boolean", "Int", "Float", "ID"];
const SPECIFIED_DIRECTIVES: [&str; 5] = ["include", "skip", "deprecated", "specifiedBy", "oneOf"];

/// Names of the types that fields, arguments and input fields refer to, plus
/// `String` and `Boolean`, which introspection itself always uses.
fn referenced_type_names(api: &ApiSchema) -> std::collections::HashSet<&str> {
    let mut names: std::collections::HashSet<&str> = ["String", "Boolean"].into_iter().collect();
    for definition in &api.document.definitions {
        let Definition::TypeDefinition(definition) = definition else {
            continue;
        };
        let fields = match definition {
            TypeDefinition::Object(object) => &object.fields[..],
            TypeDefinition::Interface(interface) => &interface.fields[..],
            TypeDefinition::InputObject(input) => {
                names.extend(
                    input
                        .fields
                        .iter()
                        .map(|field| named_type(&field.value_type)),
                );
                continue;
            }
            _ => continue,
        };
        for field in fields {
            names.insert(named_type(&field.field_type));
            names.extend(
                field
                    .arguments
                    .iter()
                    .map(|argument| named_type(&argument.value_type)),
            );
        }
    }
    names
}

/// The directives every GraphQL schema has, as the specification (and graphql-js) defines them.
fn specified_directives() -> Vec<Value> {
    let non_null = |name: &str| json!({"kind": "NON_NULL", "name": null, "ofType": {"kind": "SCALAR", "name": name, "ofType": null}});
    let argument = |name: &str, description: &str, type_ref: Value, default: Value| {
        json!({"name": name, "description": description, "type": type_ref, "defaultValue": default,
               "isDeprecated": false, "deprecationReason": null})
    };
    let directive = |name: &str, description: &str, locations: &[&str], args: Vec<Value>| json!({"name": name, "description": description, "locations": locations, "args": args, "isRepeatable": false});
    vec![
        directive(
            "include",
            "Directs the executor to include this field or fragment only when the `if` argument is true.",
            &["FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"],
            vec![argument(
                "if",
                "Included when true.",
                non_null("Boolean"),
                Value::Null,
            )],
        ),
        directive(
            "skip",
            "Directs the executor to skip this field or fragment when the `if` argument is true.",
            &["FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"],
            vec![argument(
                "if",
                "Skipped when true.",
                non_null("Boolean"),
                Value::Null,
            )],
        ),
        directive(
            "deprecated",
            "Marks an element of a GraphQL schema as no longer supported.",
            &[
                "FIELD_DEFINITION",
                "ARGUMENT_DEFINITION",
                "INPUT_FIELD_DEFINITION",
                "ENUM_VALUE",
                "DIRECTIVE_DEFINITION",
            ],
            vec![argument(
                "reason",
                "Explains why this element was deprecated, usually also including a suggestion for how to access supported similar data. Formatted using the Markdown syntax, as specified by [CommonMark](https://commonmark.org/).",
                json!({"kind": "SCALAR", "name": "String", "ofType": null}),
                json!("\"No longer supported\""),
            )],
        ),
        directive(
            "specifiedBy",
            "Exposes a URL that specifies the behavior of this scalar.",
            &["SCALAR"],
            vec![argument(
                "url",
                "The URL that specifies the behavior of this scalar.",
                non_null("String"),
                Value::Null,
            )],
        ),
        directive(
            "oneOf",
            "Indicates exactly one field must be supplied and this field must not be `null`.",
            &["INPUT_OBJECT"],
            vec![],
        ),
    ]
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
