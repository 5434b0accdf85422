//! Demand control, as Apollo Router ships it, after the IBM GraphQL cost
//! directive specification: what an operation may cost is estimated from the
//! supergraph's `@cost` and `@listSize` before any subgraph is called, an
//! operation over `--demand-control-max-cost` is refused with
//! `COST_ESTIMATED_TOO_EXPENSIVE`, and the actual cost of each response is
//! measured, both exported on `/metrics`. In measure-only mode nothing is
//! refused. Without it, 192 bytes (`me { tasks { items { owner { tasks { … } } } } }`)
//! fetched 64,000 tasks: a depth limit cannot see that a list multiplies.
//!
//! The estimate (Apollo's defaults): an object, interface or union costs 1, a
//! scalar or enum 0, unless `@cost(weight:)` on the field or its type says
//! otherwise; an argument with `@cost` adds its weight; a list multiplies the
//! cost of one element by its expected size: the largest slicing argument
//! given (`@listSize(slicingArguments:)`, the argument's default counting as
//! given), else `assumedSize`, else `--demand-control-list-size`. A field with
//! `sizedFields` passes its slicing size to those child fields (pages:
//! `tasks(limit:) { items }`). A mutation costs 10 more.
//!
//! The directives are found under the names the supergraph's
//! `@link(url: "https://specs.apollo.dev/cost/v0.1", as:, import:)` gives them
//! (composition keeps a subgraph's renaming there), `@cost`/`@listSize` without it.
//!
//! Fragments are expanded while estimating: that is bounded because the
//! limits ([`crate::limits`]) already refused, without expanding, any
//! operation selecting more than `--max-fields` fields or nesting deeper than
//! `--max-nesting` (which bounds the recursion here too).

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use async_graphql_parser::types::{
    BaseType, ConstDirective, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet, ServiceDocument, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql_value::{ConstValue, Value as GraphQLValue};
use clap::ValueEnum;
use serde_json::{Map, Value};

use crate::engine::{Data, Object};

/// The cost specification's URL, without its version.
const COST_SPEC: &str = "https://specs.apollo.dev/cost/";
/// Added to every mutation (Apollo's default).
const MUTATION_COST: f64 = 10.0;

/// What demand control does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Estimate, refuse above the maximum, measure.
    Enforce,
    /// Estimate and measure, refuse nothing.
    Measure,
    /// Neither.
    Off,
}

/// Settings of demand control (from the command line).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub mode: Mode,
    pub max_cost: f64,
    /// The size assumed for a list nothing else sizes.
    pub list_size: f64,
}

/// Why an operation is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum CostError {
    TooExpensive {
        estimated: f64,
        max: f64,
    },
    /// A field with `requireOneSlicingArgument` got none or several.
    SlicingArgument {
        field: String,
        count: usize,
    },
}

impl CostError {
    pub fn code(&self) -> &'static str {
        match self {
            CostError::TooExpensive { .. } => "COST_ESTIMATED_TOO_EXPENSIVE",
            CostError::SlicingArgument { .. } => "COST_SLICING_ARGUMENT_REQUIRED",
        }
    }
}

impl std::fmt::Display for CostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CostError::TooExpensive { estimated, max } => write!(
                f,
                "The operation's estimated cost ({estimated}) is over the limit \
                 (demand-control-max-cost) of {max}"
            ),
            CostError::SlicingArgument { field, count } => write!(
                f,
                "Field {field} needs exactly one of its slicing arguments, {count} given"
            ),
        }
    }
}

/// `@listSize` of one field.
#[derive(Debug, Clone, Default, PartialEq)]
struct ListSize {
    assumed_size: Option<f64>,
    slicing_arguments: Vec<String>,
    sized_fields: Vec<String>,
    require_one_slicing_argument: bool,
}

#[derive(Debug, Clone, Default)]
struct FieldCost {
    type_name: String,
    is_list: bool,
    weight: Option<f64>,
    list_size: Option<ListSize>,
    /// Argument name → (`@cost` weight, default value).
    arguments: HashMap<String, (Option<f64>, Option<ConstValue>)>,
}

#[derive(Debug, Clone, Default)]
struct TypeCost {
    /// Objects, interfaces and unions cost 1 by default; scalars and enums 0.
    composite: bool,
    weight: Option<f64>,
    fields: HashMap<String, FieldCost>,
}

/// The costs the supergraph declares, by type and field.
#[derive(Debug, Clone, Default)]
pub struct CostModel {
    types: HashMap<String, TypeCost>,
    query_type: String,
    mutation_type: String,
    subscription_type: String,
}

/// The names the cost directives go by in one supergraph.
struct DirectiveNames {
    cost: String,
    list_size: String,
}

impl DirectiveNames {
    fn of(document: &ServiceDocument) -> DirectiveNames {
        let mut names = DirectiveNames {
            cost: "cost".to_owned(),
            list_size: "listSize".to_owned(),
        };
        let links = document
            .definitions
            .iter()
            .filter_map(|definition| match definition {
                TypeSystemDefinition::Schema(schema) => Some(&schema.node.directives),
                _ => None,
            })
            .flatten()
            .filter(|directive| directive.node.name.node == "link");
        for link in links {
            let url = match link.node.get_argument("url").map(|value| &value.node) {
                Some(ConstValue::String(url)) => url,
                _ => continue,
            };
            if !url.starts_with(COST_SPEC) {
                continue;
            }
            // Unimported definitions are `@<namespace>` and `@<namespace>__listSize`.
            let namespace = match link.node.get_argument("as").map(|value| &value.node) {
                Some(ConstValue::String(name)) => name.trim_start_matches('@').to_owned(),
                _ => "cost".to_owned(),
            };
            names.cost = namespace.clone();
            names.list_size = format!("{namespace}__listSize");
            let imports = match link.node.get_argument("import").map(|value| &value.node) {
                Some(ConstValue::List(imports)) => imports.as_slice(),
                _ => &[],
            };
            for import in imports {
                let (name, alias) = match import {
                    ConstValue::String(name) => (name.as_str(), name.as_str()),
                    ConstValue::Object(fields) => match (fields.get("name"), fields.get("as")) {
                        (Some(ConstValue::String(name)), Some(ConstValue::String(alias))) => {
                            (name.as_str(), alias.as_str())
                        }
                        (Some(ConstValue::String(name)), _) => (name.as_str(), name.as_str()),
                        _ => continue,
                    },
                    _ => continue,
                };
                let alias = alias.trim_start_matches('@').to_owned();
                match name.trim_start_matches('@') {
                    "cost" => names.cost = alias,
                    "listSize" => names.list_size = alias,
                    _ => {}
                }
            }
        }
        names
    }
}

fn number(value: &ConstValue) -> Option<f64> {
    match value {
        ConstValue::Number(number) => number.as_f64(),
        _ => None,
    }
}

fn strings(value: Option<&ConstValue>) -> Vec<String> {
    match value {
        Some(ConstValue::List(items)) => items
            .iter()
            .filter_map(|item| match item {
                ConstValue::String(text) => Some(text.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The named type under any list and non-null wrappers, and whether a list wraps it.
fn unwrap_type(ty: &Type) -> (String, bool) {
    let mut ty = ty;
    let mut is_list = false;
    // Type wrappers of a trusted supergraph: a handful of levels.
    loop {
        match &ty.base {
            BaseType::Named(name) => return (name.to_string(), is_list),
            BaseType::List(inner) => {
                is_list = true;
                ty = inner;
            }
        }
    }
}

impl CostModel {
    /// Reads the costs of a supergraph SDL.
    pub fn from_supergraph(sdl: &str) -> Result<CostModel, String> {
        let document = async_graphql_parser::parse_schema(sdl)
            .map_err(|error| format!("the supergraph does not parse: {error}"))?;
        let names = DirectiveNames::of(&document);
        let weight_of = |directives: &[async_graphql_parser::Positioned<ConstDirective>]| {
            directives
                .iter()
                .find(|directive| directive.node.name.node == names.cost.as_str())
                .and_then(|directive| directive.node.get_argument("weight"))
                .and_then(|value| number(&value.node))
        };
        let mut model = CostModel {
            query_type: "Query".to_owned(),
            mutation_type: "Mutation".to_owned(),
            subscription_type: "Subscription".to_owned(),
            ..CostModel::default()
        };
        for definition in &document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = &schema.node;
                    if let Some(name) = &schema.query {
                        model.query_type = name.node.to_string();
                    }
                    if let Some(name) = &schema.mutation {
                        model.mutation_type = name.node.to_string();
                    }
                    if let Some(name) = &schema.subscription {
                        model.subscription_type = name.node.to_string();
                    }
                }
                TypeSystemDefinition::Type(definition) => {
                    let definition = &definition.node;
                    let fields = match &definition.kind {
                        TypeKind::Object(object) => Some(&object.fields),
                        TypeKind::Interface(interface) => Some(&interface.fields),
                        _ => None,
                    };
                    let entry = model
                        .types
                        .entry(definition.name.node.to_string())
                        .or_default();
                    entry.composite = matches!(
                        definition.kind,
                        TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_)
                    );
                    entry.weight = entry.weight.or(weight_of(&definition.directives));
                    for field in fields.into_iter().flatten() {
                        let field = &field.node;
                        let (type_name, is_list) = unwrap_type(&field.ty.node);
                        let list_size = field
                            .directives
                            .iter()
                            .find(|directive| directive.node.name.node == names.list_size.as_str())
                            .map(|directive| {
                                let directive = &directive.node;
                                let argument =
                                    |name: &str| directive.get_argument(name).map(|v| &v.node);
                                ListSize {
                                    assumed_size: argument("assumedSize").and_then(number),
                                    slicing_arguments: strings(argument("slicingArguments")),
                                    sized_fields: strings(argument("sizedFields")),
                                    require_one_slicing_argument: !matches!(
                                        argument("requireOneSlicingArgument"),
                                        Some(ConstValue::Boolean(false))
                                    ),
                                }
                            });
                        let arguments = field
                            .arguments
                            .iter()
                            .map(|argument| {
                                let argument = &argument.node;
                                (
                                    argument.name.node.to_string(),
                                    (
                                        weight_of(&argument.directives),
                                        argument.default_value.as_ref().map(|v| v.node.clone()),
                                    ),
                                )
                            })
                            .collect();
                        entry.fields.insert(
                            field.name.node.to_string(),
                            FieldCost {
                                type_name,
                                is_list,
                                weight: weight_of(&field.directives),
                                list_size,
                                arguments,
                            },
                        );
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        Ok(model)
    }

    fn root_type(&self, ty: OperationType) -> &str {
        match ty {
            OperationType::Query => &self.query_type,
            OperationType::Mutation => &self.mutation_type,
            OperationType::Subscription => &self.subscription_type,
        }
    }

    fn type_cost(&self, type_name: &str) -> f64 {
        self.types.get(type_name).map_or(0.0, |ty| {
            ty.weight.unwrap_or(if ty.composite { 1.0 } else { 0.0 })
        })
    }
}

/// Demand control of the running router: its settings and the cost model of
/// the supergraph in use (replaced when the supergraph is reloaded).
pub struct DemandControl {
    pub settings: Settings,
    model: ArcSwap<CostModel>,
}

impl DemandControl {
    /// A supergraph whose costs cannot be read gets the defaults (and a warning):
    /// the engine, not demand control, decides whether it can be served.
    pub fn new(settings: Settings, supergraph_sdl: &str) -> DemandControl {
        let control = DemandControl {
            settings,
            model: ArcSwap::from_pointee(CostModel::default()),
        };
        control.load(supergraph_sdl);
        control
    }

    /// Reads the costs of a (new) supergraph.
    pub fn load(&self, supergraph_sdl: &str) {
        if self.settings.mode == Mode::Off {
            return;
        }
        match CostModel::from_supergraph(supergraph_sdl) {
            Ok(model) => self.model.store(Arc::new(model)),
            Err(error) => {
                tracing::warn!(%error, "demand control: cannot read the supergraph's costs")
            }
        }
    }

    pub fn model(&self) -> Arc<CostModel> {
        self.model.load_full()
    }
}

/// The operation a request runs: the one named, or the only one.
pub fn select_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    let mut operations = document.operations.iter();
    match operation_name {
        Some(wanted) => operations
            .find(|(name, _)| name.is_some_and(|name| name.as_str() == wanted))
            .map(|(_, operation)| &operation.node),
        None => match (operations.next(), operations.next()) {
            (Some((_, operation)), None) => Some(&operation.node),
            _ => None,
        },
    }
}

/// One estimate: the operation's static cost, and what it may be refused for.
pub struct Estimator<'a> {
    model: &'a CostModel,
    settings: &'a Settings,
    document: &'a ExecutableDocument,
    variables: &'a Map<String, Value>,
    defaults: HashMap<&'a str, &'a ConstValue>,
    error: Option<CostError>,
}

impl<'a> Estimator<'a> {
    /// The estimated cost of `operation`, or why it cannot be run. Unknown
    /// fields and fragments cost nothing: validation refuses them later.
    pub fn estimate(
        model: &'a CostModel,
        settings: &'a Settings,
        document: &'a ExecutableDocument,
        operation: &'a OperationDefinition,
        variables: &'a Map<String, Value>,
    ) -> Result<f64, CostError> {
        let defaults = operation
            .variable_definitions
            .iter()
            .filter_map(|definition| {
                let definition = &definition.node;
                Some((
                    definition.name.node.as_str(),
                    &definition.default_value.as_ref()?.node,
                ))
            })
            .collect();
        let mut estimator = Estimator {
            model,
            settings,
            document,
            variables,
            defaults,
            error: None,
        };
        let root = model.root_type(operation.ty);
        let mut cost = estimator.selection_set(&operation.selection_set.node, root, None);
        if operation.ty == OperationType::Mutation {
            cost += MUTATION_COST;
        }
        if let Some(error) = estimator.error {
            return Err(error);
        }
        Ok(cost)
    }

    /// `sized`: the child fields a parent's `sizedFields` sizes, and that size.
    fn selection_set(
        &mut self,
        selection_set: &'a SelectionSet,
        parent_type: &str,
        sized: Option<(&[String], f64)>,
    ) -> f64 {
        let mut cost = 0.0;
        for selection in &selection_set.items {
            cost += match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.field(parent_type, field, sized)
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map_or(parent_type, |condition| condition.node.on.node.as_str());
                    self.selection_set(&fragment.selection_set.node, on, sized)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    match self.document.fragments.get(name) {
                        Some(fragment) => {
                            let fragment = &fragment.node;
                            self.selection_set(
                                &fragment.selection_set.node,
                                fragment.type_condition.node.on.node.as_str(),
                                sized,
                            )
                        }
                        None => 0.0,
                    }
                }
            };
        }
        cost
    }

    fn field(
        &mut self,
        parent_type: &str,
        field: &'a async_graphql_parser::types::Field,
        sized: Option<(&[String], f64)>,
    ) -> f64 {
        let model = self.model;
        let Some(definition) = model
            .types
            .get(parent_type)
            .and_then(|ty| ty.fields.get(field.name.node.as_str()))
        else {
            return 0.0;
        };
        let mut own = definition
            .weight
            .unwrap_or_else(|| model.type_cost(&definition.type_name));
        for (name, _) in &field.arguments {
            if let Some((Some(weight), _)) = definition.arguments.get(name.node.as_str()) {
                own += weight;
            }
        }
        let slicing = definition
            .list_size
            .as_ref()
            .map(|list_size| self.slicing_size(parent_type, field, definition, list_size));
        let child_sized = match (&definition.list_size, slicing.flatten()) {
            (Some(list_size), Some(size)) if !list_size.sized_fields.is_empty() => {
                Some((list_size.sized_fields.as_slice(), size))
            }
            _ => None,
        };
        let children = self.selection_set(
            &field.selection_set.node,
            &definition.type_name,
            child_sized,
        );
        let sized_by_parent = sized.and_then(|(names, size)| {
            names
                .iter()
                .any(|name| name == field.name.node.as_str())
                .then_some(size)
        });
        let is_sizer = definition
            .list_size
            .as_ref()
            .is_some_and(|list_size| !list_size.sized_fields.is_empty());
        if definition.is_list || sized_by_parent.is_some() {
            let size = sized_by_parent
                .or(if is_sizer { None } else { slicing.flatten() })
                .or_else(|| definition.list_size.as_ref()?.assumed_size)
                .unwrap_or(self.settings.list_size);
            size * (own + children)
        } else {
            own + children
        }
    }

    /// The largest slicing argument given (or defaulted), checking
    /// `requireOneSlicingArgument`; `None` when there is none.
    fn slicing_size(
        &mut self,
        parent_type: &str,
        field: &'a async_graphql_parser::types::Field,
        definition: &FieldCost,
        list_size: &ListSize,
    ) -> Option<f64> {
        if list_size.slicing_arguments.is_empty() {
            return None;
        }
        let mut given = 0;
        let mut size: Option<f64> = None;
        for name in &list_size.slicing_arguments {
            let written = field
                .arguments
                .iter()
                .find(|(argument, _)| argument.node.as_str() == name.as_str())
                .map(|(_, value)| &value.node);
            let value = match written {
                Some(GraphQLValue::Variable(variable)) => self
                    .variables
                    .get(variable.as_str())
                    .and_then(Value::as_f64)
                    .or_else(|| self.defaults.get(variable.as_str()).and_then(|v| number(v))),
                Some(GraphQLValue::Number(number)) => number.as_f64(),
                // A value of the wrong type is validation's to refuse.
                Some(_) => None,
                None => definition
                    .arguments
                    .get(name)
                    .and_then(|(_, default)| default.as_ref())
                    .and_then(number),
            };
            // Written, or defaulted in the schema: given.
            if written.is_some() || value.is_some() {
                given += 1;
            }
            if let Some(value) = value {
                size = Some(size.map_or(value, |size: f64| size.max(value)));
            }
        }
        if list_size.require_one_slicing_argument && given != 1 && self.error.is_none() {
            self.error = Some(CostError::SlicingArgument {
                field: format!("{parent_type}.{}", field.name.node),
                count: given,
            });
        }
        // A negative page size selects nothing.
        size.map(|size| size.max(0.0))
    }
}

/// The actual cost of a response: the same rules as the estimate, with the
/// lists' real lengths. Recursion follows the response, whose depth is the
/// operation's selection depth (bounded by `--max-depth`).
pub fn actual_cost(
    model: &CostModel,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    data: &Data,
) -> f64 {
    let root = model.root_type(operation.ty);
    let mut cost = match data {
        Data::Object(object) => object_cost(
            model,
            document,
            &[&operation.selection_set.node],
            root,
            object,
        ),
        _ => 0.0,
    };
    if operation.ty == OperationType::Mutation {
        cost += MUTATION_COST;
    }
    cost
}

fn object_cost(
    model: &CostModel,
    document: &ExecutableDocument,
    selection_sets: &[&SelectionSet],
    type_name: &str,
    object: &Object,
) -> f64 {
    // Fields by response key, their sub-selections merged, fragments flattened.
    let mut by_key: Vec<(
        &str,
        &async_graphql_parser::types::Field,
        Vec<&SelectionSet>,
    )> = Vec::new();
    let mut pending: Vec<&SelectionSet> = selection_sets.to_vec();
    let mut spreads_seen = 0usize;
    while let Some(selection_set) = pending.pop() {
        for selection in &selection_set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let key = field.response_key().node.as_str();
                    match by_key.iter_mut().find(|(existing, _, _)| *existing == key) {
                        Some((_, _, sets)) => sets.push(&field.selection_set.node),
                        None => by_key.push((key, field, vec![&field.selection_set.node])),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    pending.push(&fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    // The limits bound the expansion; this bounds a cycle should one get here.
                    spreads_seen += 1;
                    if spreads_seen > 10_000 {
                        continue;
                    }
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        pending.push(&fragment.node.selection_set.node);
                    }
                }
            }
        }
    }
    let mut cost = 0.0;
    for (key, field, sets) in by_key {
        let Some(value) = object.get(key) else {
            continue;
        };
        let Some(definition) = model
            .types
            .get(type_name)
            .and_then(|ty| ty.fields.get(field.name.node.as_str()))
        else {
            continue;
        };
        let own = definition
            .weight
            .unwrap_or_else(|| model.type_cost(&definition.type_name));
        cost += value_cost(model, document, &sets, &definition.type_name, own, value);
    }
    cost
}

fn value_cost(
    model: &CostModel,
    document: &ExecutableDocument,
    selection_sets: &[&SelectionSet],
    type_name: &str,
    own: f64,
    value: &Data,
) -> f64 {
    match value {
        Data::Null => 0.0,
        Data::List(items) => items
            .iter()
            .map(|item| value_cost(model, document, selection_sets, type_name, own, item))
            .sum(),
        Data::Object(object) => {
            let concrete = object
                .get("__typename")
                .and_then(Data::as_str)
                .unwrap_or(type_name);
            own + object_cost(model, document, selection_sets, concrete, object)
        }
        _ => own,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERGRAPH: &str = r#"
schema @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/cost/v0.1", import: [{name: "@cost", as: "@weight"}, {name: "@listSize", as: "@size"}]) {
  query: Query
  mutation: Mutation
}
directive @weight(weight: Int!) on FIELD_DEFINITION | OBJECT | ARGUMENT_DEFINITION
directive @size(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
type Query { me: User  users(first: Int, last: Int): [User!]! @size(slicingArguments: ["first", "last"]) }
type Mutation { touch(note: String @weight(weight: 3)): Boolean }
type User { id: ID! name: String tasks(limit: Int = 100): TaskPage! @size(slicingArguments: ["limit"], sizedFields: ["items"]) friends: [User!]! expensive: Int @weight(weight: 5) }
type TaskPage { items: [Task!]! total: Int! }
type Task @weight(weight: 2) { id: ID! owner: User! tags: [String!]! @size(assumedSize: 3) }
"#;

    fn settings() -> Settings {
        Settings {
            mode: Mode::Enforce,
            max_cost: 1000.0,
            list_size: 10.0,
        }
    }

    fn estimate_with(query: &str, variables: Value) -> Result<f64, CostError> {
        let model = CostModel::from_supergraph(SUPERGRAPH).expect("model");
        let document = async_graphql_parser::parse_query(query).expect("parses");
        let operation = select_operation(&document, None).expect("one operation");
        let variables = variables.as_object().cloned().unwrap_or_default();
        Estimator::estimate(&model, &settings(), &document, operation, &variables)
    }

    fn estimate(query: &str) -> f64 {
        estimate_with(query, Value::Null).expect("estimated")
    }

    #[test]
    fn objects_cost_one_scalars_nothing_and_weights_override() {
        assert_eq!(estimate("{ me { id name } }"), 1.0);
        assert_eq!(estimate("{ me { expensive } }"), 6.0);
        assert_eq!(estimate("mutation { touch(note: \"x\") }"), 13.0);
        assert_eq!(estimate("mutation { touch }"), 10.0);
    }

    #[test]
    fn lists_multiply_by_slicing_arguments_assumed_or_default_sizes() {
        // me 1 + tasks 1 + 100 (default limit) × Task (weight 2).
        assert_eq!(estimate("{ me { tasks { items { id } } } }"), 202.0);
        assert_eq!(
            estimate("{ me { tasks(limit: 5) { items { id } } } }"),
            12.0
        );
        assert_eq!(
            estimate_with(
                "query($n: Int) { me { tasks(limit: $n) { items { id } } } }",
                serde_json::json!({ "n": 7 })
            ),
            Ok(16.0)
        );
        assert_eq!(
            estimate("query($n: Int = 3) { me { tasks(limit: $n) { items { id } } } }"),
            8.0
        );
        // friends: the default list size; tags: assumedSize 3 of scalars.
        assert_eq!(estimate("{ me { friends { id } } }"), 11.0);
        assert_eq!(
            estimate("{ me { tasks(limit: 2) { items { tags } } } }"),
            6.0
        );
        assert_eq!(estimate("{ users(first: 4) { id } }"), 4.0);
    }

    #[test]
    fn nested_lists_multiply_and_fragments_count() {
        let amplified = "{ me { tasks { items { owner { tasks { items { owner { tasks { items { id } } } } } } } } } }";
        let cost = estimate(amplified);
        assert!(cost > 1_000_000.0, "{cost}");
        assert_eq!(
            estimate(
                "{ me { ...F } } fragment F on User { tasks(limit: 1) { items { ... on Task { id } } } }"
            ),
            4.0
        );
    }

    #[test]
    fn one_slicing_argument_is_required_when_asked() {
        let error = estimate_with("{ users { id } }", Value::Null).expect_err("none given");
        assert_eq!(error.code(), "COST_SLICING_ARGUMENT_REQUIRED");
        let error =
            estimate_with("{ users(first: 1, last: 2) { id } }", Value::Null).expect_err("two");
        assert!(error.to_string().contains("Query.users"), "{error}");
    }

    #[test]
    fn actual_cost_counts_what_came_back() {
        let model = CostModel::from_supergraph(SUPERGRAPH).expect("model");
        let document =
            async_graphql_parser::parse_query("{ me { tasks { items { id owner { id } } } } }")
                .expect("parses");
        let operation = select_operation(&document, None).expect("one operation");
        let data = Data::from(serde_json::json!({ "me": { "tasks": { "items": [
            { "id": "1", "owner": { "id": "u" } },
            { "id": "2", "owner": { "id": "u" } },
        ] } } }));
        // me 1 + tasks 1 + 2 × (Task 2 + owner 1).
        assert_eq!(actual_cost(&model, &document, operation, &data), 8.0);
    }

    #[test]
    fn the_defaults_refuse_amplification_and_pass_a_page_of_tasks_on_our_supergraph() {
        use clap::Parser;
        let settings = crate::Cli::try_parse_from(["router"])
            .expect("defaults parse")
            .config
            .demand_control
            .settings();
        let model = CostModel::from_supergraph(include_str!("../../supergraph.graphql"))
            .expect("our supergraph");
        let estimate = |query: &str| {
            let document = async_graphql_parser::parse_query(query).expect("parses");
            let operation = select_operation(&document, None).expect("one operation");
            Estimator::estimate(&model, &settings, &document, operation, &Map::new())
                .expect("estimated")
        };
        let amplification = estimate(
            "{ me { tasks { items { owner { tasks { items { owner { tasks { items { id } } } } } } } } } }",
        );
        assert!(amplification > settings.max_cost, "{amplification}");
        let page = estimate(
            "{ me { tasks(limit: 100) { items { id title status priority dueDate } total } \
             stats { totalTasks completedTasks completedPercentage breakdown { total done } } } }",
        );
        assert!(page <= settings.max_cost, "{page}");
    }

    #[test]
    fn plain_names_are_used_without_a_link() {
        let model = CostModel::from_supergraph(
            "directive @cost(weight: Int!) on FIELD_DEFINITION\n type Query { a: Int @cost(weight: 7) }",
        )
        .expect("model");
        let document = async_graphql_parser::parse_query("{ a }").expect("parses");
        let operation = select_operation(&document, None).expect("one operation");
        let cost = Estimator::estimate(&model, &settings(), &document, operation, &Map::new())
            .expect("ok");
        assert_eq!(cost, 7.0);
    }
}
