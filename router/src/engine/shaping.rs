//! Result shaping: the merged subgraph data projected onto the client's selection
//! set (only requested fields, in request order, under the client's aliases, with
//! `__typename` and abstract types resolved), then null propagation as the GraphQL
//! spec says: a null in a non-null position nulls the nearest nullable parent.

use std::rc::Rc;

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::GraphQLError;
use super::data::{Data, Object};
use super::operation::{ClientOperation, FieldSelection, Selection, value_to_json};
use super::schema::{ApiSchema, BuiltInScalar, TypeInfo, TypeKind, TypeRef, named_type};

/// A null reached a non-null position: the enclosing nullable position becomes null.
struct Bubble;

/// One step of the current response path, borrowed from the operation (no
/// allocation per field; converted to JSON only when an error needs it).
#[derive(Clone, Copy)]
enum Step<'s> {
    Key(&'s str),
    Index(usize),
}

struct Shaper<'a, 's> {
    schema: &'a ApiSchema,
    variables: &'a Map<String, Value>,
    errors: &'a mut Vec<GraphQLError>,
    path: Vec<Step<'s>>,
    /// The fields of a selection set on a type, worked out once per request: a list
    /// of 500 objects of one type has its fragments and conditions resolved once.
    field_lists: FxHashMap<FieldListKey, Rc<[FieldGroup<'a, 's>]>>,
}

/// A selection set and a type name, by address and length: both borrowed for the
/// whole shaping, so equal keys are the same selection set and the same name.
type FieldListKey = (usize, usize, usize, usize);

/// The client's `data` built from the merged subgraph data.
pub(crate) fn shape(
    schema: &ApiSchema,
    variables: &Map<String, Value>,
    operation: &ClientOperation,
    data: Object,
    errors: &mut Vec<GraphQLError>,
) -> Data {
    let mut shaper = Shaper {
        schema,
        variables,
        errors,
        path: Vec::new(),
        field_lists: FxHashMap::default(),
    };
    let mut data = data;
    match shaper.object(&mut data, &operation.root_type, &[&operation.selections]) {
        Ok(()) => Data::Object(data),
        Err(Bubble) => Data::Null,
    }
}

/// Fields sharing a response key: the first one, and any others (rare; no allocation when none).
struct FieldGroup<'a, 's> {
    key: &'s str,
    first: &'s FieldSelection,
    others: Vec<&'s FieldSelection>,
    /// The schema's entry for the field's named type, looked up once per field
    /// list rather than once per value completed.
    type_info: Option<&'a TypeInfo>,
}

impl<'a, 's> Shaper<'a, 's> {
    /// Shapes the object `data` for `selection_sets` in place: its entries put in
    /// the selection's order, completed, the rest dropped. Values are completed
    /// where they lie, never moved out and back.
    fn object(
        &mut self,
        data: &mut Object,
        type_name: &str,
        selection_sets: &[&'s [Selection]],
    ) -> Result<(), Bubble> {
        let fields = self.field_list(type_name, selection_sets);
        self.complete_fields(data, type_name, &fields)?;
        data.truncate(fields.len());
        Ok(())
    }

    /// The fields of `selection_sets` that apply to `type_name`; for one selection
    /// set (all but fields merged under one response key), from the request's cache.
    fn field_list(
        &mut self,
        type_name: &str,
        selection_sets: &[&'s [Selection]],
    ) -> Rc<[FieldGroup<'a, 's>]> {
        let key = match selection_sets {
            [selections] => Some((
                selections.as_ptr() as usize,
                selections.len(),
                type_name.as_ptr() as usize,
                type_name.len(),
            )),
            _ => None,
        };
        if let Some(fields) = key.and_then(|key| self.field_lists.get(&key)) {
            return fields.clone();
        }
        let mut fields = Vec::new();
        for selections in selection_sets {
            self.collect_fields(selections, type_name, &mut fields);
        }
        let fields: Rc<[FieldGroup<'a, 's>]> = fields.into();
        if let Some(key) = key {
            self.field_lists.insert(key, fields.clone());
        }
        fields
    }

    fn complete_fields(
        &mut self,
        data: &mut Object,
        type_name: &str,
        fields: &[FieldGroup<'a, 's>],
    ) -> Result<(), Bubble> {
        for (at, group) in fields.iter().enumerate() {
            let FieldGroup {
                key,
                first: field,
                others,
                type_info,
            } = group;
            let value = data.place(at, key);
            if field.name == "__typename" {
                *value = Data::from(type_name);
                continue;
            }
            if type_name.starts_with("__") {
                self.hide_deprecated(field, value);
            }
            let own: &'s [Selection] = &field.selections;
            let merged: Vec<&'s [Selection]>;
            let children: &[&'s [Selection]] = if others.is_empty() {
                std::slice::from_ref(&own)
            } else {
                merged = std::iter::once(*field)
                    .chain(others.iter().copied())
                    .map(|field| &field.selections[..])
                    .collect();
                &merged
            };
            self.path.push(Step::Key(key));
            let completed = self.complete(
                &field.field_type,
                *type_info,
                value,
                children,
                type_name,
                &field.name,
            );
            self.path.pop();
            completed?;
        }
        Ok(())
    }

    /// Fields of `selections` that apply to `type_name`, merged by response key, in request order.
    fn collect_fields(
        &self,
        selections: &'s [Selection],
        type_name: &str,
        fields: &mut Vec<FieldGroup<'a, 's>>,
    ) {
        for selection in selections {
            match selection {
                Selection::Field(field) => {
                    if !field.condition.is_included(self.variables) {
                        continue;
                    }
                    match fields
                        .iter_mut()
                        .find(|group| group.key == field.response_key)
                    {
                        Some(group) => group.others.push(field),
                        None => fields.push(FieldGroup {
                            key: &field.response_key,
                            first: field,
                            others: Vec::new(),
                            type_info: self.schema.types.get(named_type(&field.field_type)),
                        }),
                    }
                }
                Selection::Fragment(fragment) => {
                    let applies = fragment.type_condition.as_deref().is_none_or(|condition| {
                        self.schema.type_condition_applies(condition, type_name)
                    });
                    if applies && fragment.condition.is_included(self.variables) {
                        self.collect_fields(&fragment.selections, type_name, fields);
                    }
                }
            }
        }
    }

    /// Completes `value`, of type `type_ref` (`info`: the schema's entry for its
    /// named type), in place. `Err` means a null in a non-null position (the
    /// caller's position becomes null).
    fn complete(
        &mut self,
        type_ref: &TypeRef,
        info: Option<&'a TypeInfo>,
        value: &mut Data,
        selection_sets: &[&'s [Selection]],
        parent_type: &str,
        field_name: &str,
    ) -> Result<(), Bubble> {
        match type_ref {
            TypeRef::NonNullType(inner) => {
                if value.is_null() {
                    self.null_in_non_null(parent_type, field_name);
                    return Err(Bubble);
                }
                self.complete(inner, info, value, selection_sets, parent_type, field_name)?;
                // A null here means a child already bubbled up (and was reported).
                if value.is_null() {
                    return Err(Bubble);
                }
                Ok(())
            }
            TypeRef::ListType(inner) => match value {
                Data::Null => Ok(()),
                Data::List(items) => {
                    for (index, item) in items.iter_mut().enumerate() {
                        self.path.push(Step::Index(index));
                        let result = self.complete(
                            inner,
                            info,
                            item,
                            selection_sets,
                            parent_type,
                            field_name,
                        );
                        self.path.pop();
                        if result.is_err() {
                            *value = Data::Null;
                            return Ok(());
                        }
                    }
                    Ok(())
                }
                _ => {
                    self.error(format!(
                        "Expected a list for field \"{parent_type}.{field_name}\"."
                    ));
                    *value = Data::Null;
                    Ok(())
                }
            },
            TypeRef::NamedType(name) => {
                let kind = info.map_or(TypeKind::Scalar, |info| info.kind);
                match value {
                    Data::Null => Ok(()),
                    Data::Object(object) if kind.is_composite() => {
                        let Some(concrete) = self.concrete_type(name, kind, object) else {
                            self.error(format!(
                                "Abstract type \"{name}\" must resolve to an object type at runtime for field \"{parent_type}.{field_name}\"."
                            ));
                            *value = Data::Null;
                            return Ok(());
                        };
                        if self.object(object, concrete, selection_sets).is_err() {
                            *value = Data::Null;
                        }
                        Ok(())
                    }
                    _ if kind.is_composite() => {
                        self.error(format!(
                            "Expected an object for field \"{parent_type}.{field_name}\"."
                        ));
                        *value = Data::Null;
                        Ok(())
                    }
                    _ => {
                        // Introspection values are the router's own.
                        if let Some(info) = info.filter(|_| !name.starts_with("__"))
                            && !is_valid_leaf(info, value)
                        {
                            match coerce_leaf(info, value.take()) {
                                Ok(coerced) => *value = coerced,
                                Err(error) => self.error(error.message(name)),
                            }
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    /// The object type to shape `object` as (the schema's own name: nothing is allocated).
    fn concrete_type<'n>(&self, name: &'n str, kind: TypeKind, object: &Object) -> Option<&'n str>
    where
        'a: 'n,
    {
        if kind == TypeKind::Object {
            return Some(name);
        }
        let Some(typename) = object.get("__typename").and_then(Data::as_str) else {
            // The plan only asks for `__typename` when the selection depends on it.
            return Some(name);
        };
        let (typename, info) = self.schema.types.get_key_value(typename)?;
        match info.kind {
            TypeKind::Object if self.schema.type_condition_applies(name, typename) => {
                Some(typename)
            }
            // An `@interfaceObject` entity nobody asked the concrete type of: shape it as the interface.
            TypeKind::Interface if typename == name => Some(typename),
            _ => None,
        }
    }

    /// Reports a null in a non-null field, unless an error already explains it.
    fn null_in_non_null(&mut self, parent_type: &str, field_name: &str) {
        let current = self.json_path();
        let explained = self.errors.iter().any(|error| {
            error
                .path
                .as_deref()
                .is_some_and(|path| path.starts_with(&current) || current.starts_with(path))
        });
        if !explained {
            self.error(format!(
                "Cannot return null for non-nullable field {parent_type}.{field_name}."
            ));
        }
    }

    fn error(&mut self, message: String) {
        let mut error = GraphQLError::new(message);
        error.path = Some(self.json_path());
        self.errors.push(error);
    }

    fn json_path(&self) -> Vec<Value> {
        self.path
            .iter()
            .map(|step| match step {
                Step::Key(key) => Value::String((*key).to_owned()),
                Step::Index(index) => Value::from(*index),
            })
            .collect()
    }

    /// Introspection lists hide deprecated entries unless `includeDeprecated: true`.
    fn hide_deprecated(&self, field: &FieldSelection, value: &mut Data) {
        if !matches!(
            field.name.as_str(),
            "fields" | "enumValues" | "args" | "inputFields"
        ) {
            return;
        }
        let include = field
            .arguments
            .iter()
            .find(|(name, _)| name == "includeDeprecated")
            .is_some_and(|(_, argument)| {
                value_to_json(argument, self.variables) == Value::Bool(true)
            });
        if let (false, Data::List(items)) = (include, value) {
            items.retain(|item| item.get("isDeprecated") != Some(&Data::Bool(true)));
        }
    }
}

/// Whether `value` is already what the leaf type `info` serialises it as: nearly
/// always, and then it is left where it lies, neither moved nor allocated. An
/// enum value the API schema does not have (`@inaccessible`, or known to one
/// subgraph only) is not; custom scalars always are.
fn is_valid_leaf(info: &TypeInfo, value: &Data) -> bool {
    if info.kind == TypeKind::Enum {
        return matches!(value, Data::String(name) if info.enum_values.contains(name.as_str()));
    }
    match (info.built_in, value) {
        (None, _) => true,
        (Some(BuiltInScalar::Int), Data::Number(number)) => {
            number.as_i64().is_some_and(|n| i32::try_from(n).is_ok())
        }
        (Some(BuiltInScalar::Float), Data::Number(_))
        | (Some(BuiltInScalar::String | BuiltInScalar::Id), Data::String(_))
        | (Some(BuiltInScalar::Boolean), Data::Bool(_)) => true,
        _ => false,
    }
}

/// A leaf value [`is_valid_leaf`] refused, as graphql-js's result coercion makes
/// it (an integral float to an Int, a number to a String…), or a field error when
/// the type cannot represent it.
fn coerce_leaf(info: &TypeInfo, value: Data) -> Result<Data, LeafError> {
    let number = |value: &Data| match value {
        Data::Number(number) => number.as_f64(),
        Data::Bool(flag) => Some(f64::from(u8::from(*flag))),
        Data::String(text) if !text.trim().is_empty() => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    if info.kind == TypeKind::Enum {
        return Err(LeafError::Enum(value));
    }
    // Custom scalars pass as they are (`is_valid_leaf` never refuses one).
    let Some(scalar) = info.built_in else {
        return Ok(value);
    };
    match scalar {
        BuiltInScalar::Int => match number(&value) {
            Some(float)
                if float.fract() == 0.0
                    && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&float) =>
            {
                // Exact: an integral f64 within the i32 range.
                #[allow(clippy::cast_possible_truncation)]
                Ok(Data::Number((float as i32).into()))
            }
            _ => Err(LeafError::Int(value)),
        },
        BuiltInScalar::Float => match number(&value).and_then(serde_json::Number::from_f64) {
            Some(number) => Ok(Data::Number(number)),
            None => Err(LeafError::Float(value)),
        },
        BuiltInScalar::String => match value {
            Data::Bool(flag) => Ok(Data::String(flag.to_string().into())),
            Data::Number(number) => Ok(Data::String(js_number(&number).into())),
            other => Err(LeafError::String(other)),
        },
        BuiltInScalar::Boolean => match value {
            Data::Number(number) => Ok(Data::Bool(number.as_f64() != Some(0.0))),
            other => Err(LeafError::Boolean(other)),
        },
        BuiltInScalar::Id => match value {
            Data::Number(number) if number.is_i64() || number.is_u64() => {
                Ok(Data::String(number.to_string().into()))
            }
            other => Err(LeafError::Id(other)),
        },
    }
}

/// A subgraph's leaf value the API schema's type cannot represent (a field error, worded as graphql-js words it).
#[derive(Debug)]
enum LeafError {
    Enum(Data),
    Int(Data),
    Float(Data),
    String(Data),
    Boolean(Data),
    Id(Data),
}

impl LeafError {
    /// The message, naming the field's type (`type_name`, for enums).
    fn message(&self, type_name: &str) -> String {
        match self {
            LeafError::Enum(value) => {
                format!("Enum \"{type_name}\" cannot represent value: {value}")
            }
            LeafError::Int(value) => {
                format!("Int cannot represent non 32-bit signed integer value: {value}")
            }
            LeafError::Float(value) => format!("Float cannot represent non numeric value: {value}"),
            LeafError::String(value) => format!("String cannot represent value: {value}"),
            LeafError::Boolean(value) => {
                format!("Boolean cannot represent a non boolean value: {value}")
            }
            LeafError::Id(value) => format!("ID cannot represent value: {value}"),
        }
    }
}

/// A number as JavaScript prints it (`1.0` → `1`), so Strings match graphql-js.
fn js_number(number: &serde_json::Number) -> String {
    match number.as_f64() {
        Some(float)
            if !number.is_i64()
                && !number.is_u64()
                && float.fract() == 0.0
                && float.abs() < 1e21 =>
        {
            format!("{float:.0}")
        }
        _ => number.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use graphql_tools::static_graphql::query::Document;
    use serde_json::{Value, json};

    use super::*;
    use crate::engine::operation::{build_client_operation, select_operation};
    use crate::engine::schema::tests::schema;

    const SDL: &str = "type Item { id: ID! name: String! } type Query { maybe: [Item] strict: [Item!] one: Item! }";

    fn run(query: &str, data: Value) -> (Value, Vec<GraphQLError>) {
        run_on(SDL, query, data)
    }

    #[test]
    fn a_null_item_of_a_nullable_list_stays_local() {
        let (data, errors) = run(
            "{ maybe { id name } }",
            json!({"maybe": [{"id": "1", "name": "a"}, {"id": "2", "name": null}]}),
        );
        assert_eq!(data, json!({"maybe": [{"id": "1", "name": "a"}, null]}));
        assert_eq!(
            errors[0].path,
            Some(vec![json!("maybe"), json!(1), json!("name")])
        );
    }

    #[test]
    fn a_null_item_of_a_non_null_item_list_nulls_the_list() {
        let (data, _) = run(
            "{ strict { id name } other: maybe { id } }",
            json!({"strict": [{"id": "1", "name": null}], "other": [{"id": "3"}]}),
        );
        assert_eq!(data, json!({"strict": null, "other": [{"id": "3"}]}));
    }

    #[test]
    fn a_null_reaching_the_root_nulls_data() {
        let (data, errors) = run("{ one { id } }", json!({"one": null}));
        assert_eq!(data, Value::Null);
        assert_eq!(
            errors[0].message,
            "Cannot return null for non-nullable field Query.one."
        );
    }

    const LEAVES: &str = "enum Color { RED GREEN } scalar Date type Query { color: Color colors: [Color!] i: Int f: Float s: String b: Boolean id: ID strict: Int! date: Date }";

    fn run_on(sdl: &str, query: &str, data: Value) -> (Value, Vec<GraphQLError>) {
        let schema = schema(sdl);
        let document: Document = graphql_tools::parser::parse_query::<String>(query)
            .expect("parses")
            .into_static();
        let operation = select_operation(&document, None).expect("one operation");
        let operation = build_client_operation(&schema, &document, operation).expect("builds");
        let mut errors = Vec::new();
        let Data::Object(data) = Data::from(data) else {
            panic!("object data")
        };
        let shaped = shape(&schema, &Map::new(), &operation, data, &mut errors);
        (shaped.into_json(), errors)
    }

    #[test]
    fn an_enum_value_outside_the_api_schema_is_a_field_error() {
        let (data, errors) = run_on(
            LEAVES,
            "{ color colors }",
            json!({"color": "BLUE", "colors": ["RED", "BLUE"]}),
        );
        assert_eq!(data, json!({"color": null, "colors": null}));
        let paths: Vec<_> = errors.iter().map(|error| error.path.clone()).collect();
        assert_eq!(
            paths,
            [
                Some(vec![json!("color")]),
                Some(vec![json!("colors"), json!(1)])
            ]
        );
        assert!(errors[0].message.contains("Color"), "{:?}", errors[0]);
    }

    #[test]
    fn built_in_scalars_are_coerced_as_graphql_js_does_and_custom_ones_pass() {
        let (data, errors) = run_on(
            LEAVES,
            "{ i f s b id date }",
            json!({"i": 4.0, "f": "1.5", "s": 12, "b": 0, "id": 7, "date": {"any": "thing"}}),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            data,
            json!({"i": 4, "f": 1.5, "s": "12", "b": false, "id": "7", "date": {"any": "thing"}})
        );
        let (data, errors) = run_on(
            LEAVES,
            "{ i f s b id }",
            json!({"i": 4.5, "f": "NaN?", "s": [1], "b": "yes", "id": 1.5}),
        );
        assert_eq!(
            data,
            json!({"i": null, "f": null, "s": null, "b": null, "id": null})
        );
        assert_eq!(errors.len(), 5, "{errors:?}");
    }

    #[test]
    fn a_coercion_error_in_a_non_null_position_propagates() {
        let (data, errors) = run_on(LEAVES, "{ strict }", json!({"strict": 3_000_000_000_u64}));
        assert_eq!(data, Value::Null);
        assert_eq!(errors.len(), 1, "one error: the coercion's, {errors:?}");
        assert_eq!(errors[0].path, Some(vec![json!("strict")]));
    }

    #[test]
    fn only_requested_fields_come_back_in_request_order_with_aliases() {
        let (data, _) = run(
            "{ one { name key: id } }",
            json!({"one": {"key": "7", "name": "n", "__typename": "Item", "extra": 1}}),
        );
        let one = data["one"].as_object().expect("object");
        assert_eq!(one.keys().collect::<Vec<_>>(), ["name", "key"]);
        assert_eq!(data, json!({"one": {"name": "n", "key": "7"}}));
    }
}
