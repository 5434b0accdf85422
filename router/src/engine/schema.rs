//! The API schema (what clients see: no federation internals, no `@inaccessible`
//! elements) indexed for the hot path: field types by parent type, possible types
//! of abstract types, enum values and input fields. Validation, result shaping,
//! variable coercion and introspection all read it.

// Fx hashing: the keys are the schema's own names, and shaping looks them up for every field of every response.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use graphql_tools::static_graphql::query::Type;
use graphql_tools::static_graphql::schema::{Definition, Document, TypeDefinition};

/// A field or input type reference (`[String!]!` …).
pub(crate) type TypeRef = Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeKind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl TypeKind {
    pub(crate) fn is_composite(self) -> bool {
        matches!(
            self,
            TypeKind::Object | TypeKind::Interface | TypeKind::Union
        )
    }

    pub(crate) fn introspection_name(self) -> &'static str {
        match self {
            TypeKind::Scalar => "SCALAR",
            TypeKind::Object => "OBJECT",
            TypeKind::Interface => "INTERFACE",
            TypeKind::Union => "UNION",
            TypeKind::Enum => "ENUM",
            TypeKind::InputObject => "INPUT_OBJECT",
        }
    }
}

/// An input field of an input object type.
#[derive(Debug)]
pub(crate) struct InputField {
    pub name: String,
    pub value_type: TypeRef,
    pub has_default: bool,
}

#[derive(Debug)]
pub(crate) struct TypeInfo {
    pub kind: TypeKind,
    /// Output fields (objects and interfaces).
    pub fields: HashMap<String, TypeRef>,
    /// Object types a value of this type can be (itself for objects).
    pub possible_types: HashSet<String>,
    pub enum_values: HashSet<String>,
    pub input_fields: Vec<InputField>,
    /// Which built-in scalar this is (their values are coerced in results).
    pub built_in: Option<BuiltInScalar>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BuiltInScalar {
    Int,
    Float,
    String,
    Boolean,
    Id,
}

#[derive(Debug)]
pub(crate) struct ApiSchema {
    /// The consumer schema of the planner: API schema plus introspection types.
    pub document: Document,
    /// The API schema alone, printed.
    pub sdl: String,
    pub types: HashMap<String, TypeInfo>,
    pub query_type: String,
    pub mutation_type: Option<String>,
    pub subscription_type: Option<String>,
    /// Type → the top-level fields of its `@key`s in any subgraph (a null there identifies nothing).
    pub key_fields: HashMap<String, HashSet<String>>,
}

/// Built-in definitions that the introspection schema adds but SDL printing omits.
const BUILT_IN_DIRECTIVES: [&str; 5] = ["skip", "include", "deprecated", "specifiedBy", "oneOf"];
const BUILT_IN_SCALARS: [&str; 5] = ["Boolean", "Float", "Int", "ID", "String"];

impl ApiSchema {
    pub(crate) fn new(
        document: Document,
        query_type: String,
        mutation_type: Option<String>,
        subscription_type: Option<String>,
    ) -> ApiSchema {
        let mut types: HashMap<String, TypeInfo> = HashMap::default();
        let mut implementations: Vec<(String, String)> = Vec::new();
        for definition in &document.definitions {
            let Definition::TypeDefinition(type_definition) = definition else {
                continue;
            };
            let (name, info) = match type_definition {
                TypeDefinition::Scalar(scalar) => {
                    let built_in = match scalar.name.as_str() {
                        "Int" => Some(BuiltInScalar::Int),
                        "Float" => Some(BuiltInScalar::Float),
                        "String" => Some(BuiltInScalar::String),
                        "Boolean" => Some(BuiltInScalar::Boolean),
                        "ID" => Some(BuiltInScalar::Id),
                        _ => None,
                    };
                    let info = TypeInfo {
                        built_in,
                        ..TypeInfo::empty(TypeKind::Scalar)
                    };
                    (&scalar.name, info)
                }
                TypeDefinition::Object(object) => {
                    for interface in &object.implements_interfaces {
                        implementations.push((interface.clone(), object.name.clone()));
                    }
                    let info = TypeInfo {
                        possible_types: std::iter::once(object.name.clone()).collect(),
                        fields: field_types(&object.fields),
                        ..TypeInfo::empty(TypeKind::Object)
                    };
                    (&object.name, info)
                }
                TypeDefinition::Interface(interface) => {
                    let info = TypeInfo {
                        fields: field_types(&interface.fields),
                        ..TypeInfo::empty(TypeKind::Interface)
                    };
                    (&interface.name, info)
                }
                TypeDefinition::Union(union) => {
                    let info = TypeInfo {
                        possible_types: union.types.iter().cloned().collect(),
                        ..TypeInfo::empty(TypeKind::Union)
                    };
                    (&union.name, info)
                }
                TypeDefinition::Enum(enumeration) => {
                    let values = enumeration.values.iter();
                    let info = TypeInfo {
                        enum_values: values.map(|value| value.name.clone()).collect(),
                        ..TypeInfo::empty(TypeKind::Enum)
                    };
                    (&enumeration.name, info)
                }
                TypeDefinition::InputObject(input) => {
                    let input_fields = input.fields.iter().map(|field| InputField {
                        name: field.name.clone(),
                        value_type: field.value_type.clone(),
                        has_default: field.default_value.is_some(),
                    });
                    let info = TypeInfo {
                        input_fields: input_fields.collect(),
                        ..TypeInfo::empty(TypeKind::InputObject)
                    };
                    (&input.name, info)
                }
            };
            types.insert(name.clone(), info);
        }
        // The consumer schema may leave the built-in scalars implicit; results still coerce to them.
        for (name, scalar) in [
            ("Int", BuiltInScalar::Int),
            ("Float", BuiltInScalar::Float),
            ("String", BuiltInScalar::String),
            ("Boolean", BuiltInScalar::Boolean),
            ("ID", BuiltInScalar::Id),
        ] {
            let info = types
                .entry(name.to_owned())
                .or_insert_with(|| TypeInfo::empty(TypeKind::Scalar));
            info.built_in = Some(scalar);
        }
        for (interface, object) in implementations {
            if let Some(info) = types.get_mut(&interface) {
                info.possible_types.insert(object);
            }
        }
        let sdl = print_api_sdl(&document, &query_type);
        ApiSchema {
            document,
            sdl,
            types,
            query_type,
            mutation_type,
            subscription_type,
            key_fields: HashMap::default(),
        }
    }

    /// Records the key field sets of `type_name` (federation field set syntax).
    pub(crate) fn add_keys<'k>(&mut self, type_name: &str, keys: impl Iterator<Item = &'k str>) {
        let fields = self.key_fields.entry(type_name.to_owned()).or_default();
        for key in keys {
            fields.extend(top_level_fields(key));
        }
    }

    pub(crate) fn is_key_field(&self, type_name: &str, field_name: &str) -> bool {
        self.key_fields
            .get(type_name)
            .is_some_and(|fields| fields.contains(field_name))
    }

    /// Whether a value of concrete type `object_type` matches a fragment on `type_condition`.
    pub(crate) fn type_condition_applies(&self, type_condition: &str, object_type: &str) -> bool {
        type_condition == object_type
            || self
                .types
                .get(type_condition)
                .is_some_and(|info| info.possible_types.contains(object_type))
    }

    pub(crate) fn kind_of(&self, type_name: &str) -> Option<TypeKind> {
        self.types.get(type_name).map(|info| info.kind)
    }

    pub(crate) fn field_type(&self, parent_type: &str, field_name: &str) -> Option<&TypeRef> {
        self.types.get(parent_type)?.fields.get(field_name)
    }
}

impl TypeInfo {
    fn empty(kind: TypeKind) -> TypeInfo {
        TypeInfo {
            kind,
            fields: HashMap::default(),
            possible_types: HashSet::default(),
            enum_values: HashSet::default(),
            input_fields: Vec::new(),
            built_in: None,
        }
    }
}

/// The field names of a field set outside its braces: `"id org { id }"` → `id`, `org`.
/// The output fields of an object or interface, by name.
fn field_types(
    fields: &[graphql_tools::static_graphql::schema::Field],
) -> HashMap<String, TypeRef> {
    fields
        .iter()
        .map(|field| (field.name.clone(), field.field_type.clone()))
        .collect()
}

fn top_level_fields(field_set: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut depth = 0usize;
    let spaced = field_set.replace('{', " { ").replace('}', " } ");
    for token in spaced.split_whitespace() {
        match token {
            "{" => depth += 1,
            "}" => depth = depth.saturating_sub(1),
            name if depth == 0 => fields.push(name.to_owned()),
            _ => {}
        }
    }
    fields
}

/// The innermost named type of a type reference.
pub(crate) fn named_type(type_ref: &TypeRef) -> &str {
    match type_ref {
        Type::NamedType(name) => name,
        Type::ListType(inner) | Type::NonNullType(inner) => named_type(inner),
    }
}

/// The API schema as SDL: the consumer schema without what the introspection schema adds.
fn print_api_sdl(document: &Document, query_type: &str) -> String {
    let mut printed = document.clone();
    printed
        .definitions
        .retain_mut(|definition| match definition {
            Definition::DirectiveDefinition(directive) => {
                !BUILT_IN_DIRECTIVES.contains(&directive.name.as_str())
            }
            Definition::TypeDefinition(TypeDefinition::Scalar(scalar)) => {
                !BUILT_IN_SCALARS.contains(&scalar.name.as_str()) && !scalar.name.starts_with("__")
            }
            Definition::TypeDefinition(TypeDefinition::Object(object)) => {
                if object.name == query_type {
                    object.fields.retain(|field| !field.name.starts_with("__"));
                }
                !object.name.starts_with("__")
            }
            Definition::TypeDefinition(TypeDefinition::Enum(enumeration)) => {
                !enumeration.name.starts_with("__")
            }
            _ => true,
        });
    printed.to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small API schema for unit tests.
    pub(crate) fn schema(sdl: &str) -> ApiSchema {
        let document = graphql_tools::parser::parse_schema::<String>(sdl)
            .expect("test SDL parses")
            .into_static();
        ApiSchema::new(document, "Query".to_owned(), None, None)
    }

    #[test]
    fn possible_types_and_type_conditions() {
        let schema = schema(
            "interface Node { id: ID! } type A implements Node { id: ID! } type B { id: ID! } union U = A | B type Query { n: Node }",
        );
        assert!(schema.type_condition_applies("Node", "A"));
        assert!(!schema.type_condition_applies("Node", "B"));
        assert!(schema.type_condition_applies("U", "B"));
        assert!(schema.type_condition_applies("A", "A"));
        assert_eq!(schema.kind_of("U"), Some(TypeKind::Union));
    }

    #[test]
    fn key_fields_are_the_top_level_names_of_every_key() {
        let mut schema = schema("type A { id: ID! org: ID } type Query { a: A }");
        schema.add_keys("A", ["id", "org { id } sku"].into_iter());
        assert!(schema.is_key_field("A", "id"));
        assert!(schema.is_key_field("A", "org"));
        assert!(schema.is_key_field("A", "sku"));
        assert!(!schema.is_key_field("A", "name"));
    }
}
