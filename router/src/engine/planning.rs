//! From request text to something executable: parse, validate against the API
//! schema, build the client operation, normalise and plan with
//! `hive-router-query-planner`. Two bounded caches (moka: no global lock) keep the
//! hot path free of all of it: documents (text + operation name → prepared
//! operation) and plans (normalised operation → plan, shared by documents that
//! normalise alike; concurrent misses of one plan are planned once).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use graphql_tools::static_graphql::query::Document;
use graphql_tools::validation::rules::default_rules_validation_plan;
use graphql_tools::validation::validate::{ValidationPlan, validate};
use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::FieldSelection;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::Planner;
use hive_router_query_planner::planner::plan_nodes::{
    ParallelNode, PlanNode, QueryPlan, SequenceNode,
};
use hive_router_query_planner::utils::cancellation::CancellationToken;
use moka::sync::Cache;

use super::operation::{ClientOperation, build_client_operation, select_operation};
use super::schema::{ApiSchema, TypeKind};
use super::{GraphQLError, Location, RequestErrorKind};

/// A validated operation with its plan (None when only introspection is asked).
#[derive(Debug)]
pub(crate) struct PreparedOperation {
    pub operation: ClientOperation,
    pub plan: Option<Arc<QueryPlan>>,
}

#[derive(Clone)]
pub(crate) enum PrepareError {
    /// The client's fault: no execution, no `data`.
    Refused(RequestErrorKind, Vec<GraphQLError>),
    /// A valid operation the planner could not plan.
    PlanningFailed(Box<GraphQLError>),
}

/// Planning runs on the request's thread: a pathological operation must not hold it for long.
const PLANNING_TIME_LIMIT: Duration = Duration::from_secs(5);

type DocumentEntries = Vec<(Option<String>, Arc<PreparedOperation>)>;

pub(crate) struct Preparer {
    planner: Planner,
    validation: ValidationPlan,
    documents: Cache<String, Arc<DocumentEntries>>,
    plans: Cache<String, Arc<QueryPlan>>,
}

impl Preparer {
    pub(crate) fn new(planner: Planner, cache_size: usize) -> Preparer {
        let capacity = u64::try_from(cache_size.max(1)).unwrap_or(u64::MAX);
        Preparer {
            planner,
            validation: default_rules_validation_plan(),
            documents: Cache::new(capacity),
            plans: Cache::new(capacity),
        }
    }

    /// The prepared operation if this document was seen before (the hot path).
    pub(crate) fn cached(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Option<Arc<PreparedOperation>> {
        let entries = self.documents.get(query)?;
        let (_, prepared) = entries
            .iter()
            .find(|(name, _)| name.as_deref() == operation_name)?;
        Some(prepared.clone())
    }

    /// The cached prepared operation, or parses, validates and plans it (CPU-bound).
    pub(crate) fn prepare(
        &self,
        schema: &ApiSchema,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<Arc<PreparedOperation>, PrepareError> {
        if let Some(prepared) = self.cached(query, operation_name) {
            return Ok(prepared);
        }
        let prepared = Arc::new(self.prepare_uncached(schema, query, operation_name)?);
        // Another operation of the same document may be cached already: kept beside it.
        // (Two of them prepared at the same moment may keep only one; the other is prepared again.)
        let mut entries = self
            .documents
            .get(query)
            .map(|entries| entries.as_ref().clone())
            .unwrap_or_default();
        entries.push((operation_name.map(str::to_owned), prepared.clone()));
        self.documents.insert(query.to_owned(), Arc::new(entries));
        Ok(prepared)
    }

    fn prepare_uncached(
        &self,
        schema: &ApiSchema,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<PreparedOperation, PrepareError> {
        let document: Document = graphql_tools::parser::parse_query::<String>(query)
            .map_err(|error| {
                let message = error.to_string().trim().to_owned();
                refused(
                    RequestErrorKind::Parse,
                    vec![GraphQLError::new(message).with_code("GRAPHQL_PARSE_FAILED")],
                )
            })?
            .into_static();
        let validation_errors = validate(&schema.document, &document, &self.validation);
        if !validation_errors.is_empty() {
            let errors = validation_errors
                .into_iter()
                .map(|error| {
                    let mut client_error =
                        GraphQLError::new(error.message).with_code("GRAPHQL_VALIDATION_FAILED");
                    if !error.locations.is_empty() {
                        client_error.locations = Some(
                            error
                                .locations
                                .iter()
                                .map(|pos| Location {
                                    line: pos.line,
                                    column: pos.column,
                                })
                                .collect(),
                        );
                    }
                    client_error
                })
                .collect();
            return Err(refused(RequestErrorKind::Validation, errors));
        }
        let operation = select_operation(&document, operation_name).map_err(|error| {
            refused(
                RequestErrorKind::Validation,
                vec![(*error).with_code("GRAPHQL_VALIDATION_FAILED")],
            )
        })?;
        let client_operation =
            build_client_operation(schema, &document, operation).map_err(|error| {
                refused(
                    RequestErrorKind::Validation,
                    vec![(*error).with_code("GRAPHQL_VALIDATION_FAILED")],
                )
            })?;
        let plan = self.plan(schema, &document, operation_name)?;
        Ok(PreparedOperation {
            operation: client_operation,
            plan,
        })
    }

    fn plan(
        &self,
        schema: &ApiSchema,
        document: &Document,
        operation_name: Option<&str>,
    ) -> Result<Option<Arc<QueryPlan>>, PrepareError> {
        let supergraph = &self.planner.supergraph;
        let normalized = catch_unwind(AssertUnwindSafe(|| {
            normalize_operation(supergraph, document, operation_name)
        }))
        .map_err(|_| planning_failed("the operation could not be normalised"))?
        .map_err(|error| planning_failed(&error.to_string()))?;
        let mut operation = normalized.operation;
        // Introspection root fields are the router's own; subgraphs never see them.
        operation.selection_set.items.retain(
            |item| !matches!(item, SelectionItem::Field(field) if field.name.starts_with("__")),
        );
        if operation.selection_set.items.is_empty() {
            return Ok(None);
        }
        let key = operation.to_string();
        self.plans
            .try_get_with(key, || self.plan_normalized(schema, &operation))
            .map(Some)
            .map_err(|error| (*error).clone())
    }

    fn plan_normalized(
        &self,
        schema: &ApiSchema,
        operation: &hive_router_query_planner::ast::operation::OperationDefinition,
    ) -> Result<Arc<QueryPlan>, PrepareError> {
        let plan = catch_unwind(AssertUnwindSafe(|| {
            self.planner.plan_from_normalized_operation(
                operation,
                PlannerOverrideContext::default(),
                &CancellationToken::with_timeout(PLANNING_TIME_LIMIT),
            )
        }))
        .map_err(|_| planning_failed("the planner gave up on this operation"))?
        .map_err(|error| planning_failed(&error.to_string()))?;
        let mut plan = plan;
        if let Some(node) = plan.node.as_mut() {
            ask_concrete_typenames(schema, node);
        }
        Ok(Arc::new(plan))
    }
}

/// Entities of an `@interfaceObject` reach us typed by the interface; the entity
/// fetches on the interface's own subgraph also ask for `__typename`, so the
/// response carries the concrete object type (which the planner does not request).
fn ask_concrete_typenames(schema: &ApiSchema, node: &mut PlanNode) {
    let operation = match node {
        PlanNode::Flatten(flatten) => return ask_concrete_typenames(schema, &mut flatten.node),
        PlanNode::Sequence(SequenceNode { nodes }) | PlanNode::Parallel(ParallelNode { nodes }) => {
            return nodes
                .iter_mut()
                .for_each(|node| ask_concrete_typenames(schema, node));
        }
        PlanNode::Condition(condition) => {
            for branch in [&mut condition.if_clause, &mut condition.else_clause]
                .into_iter()
                .flatten()
            {
                ask_concrete_typenames(schema, branch);
            }
            return;
        }
        PlanNode::Fetch(fetch) if fetch.requires.is_some() => &mut fetch.operation,
        PlanNode::BatchFetch(batch) => &mut batch.operation,
        _ => return,
    };
    let mut changed = false;
    for item in &mut operation.document.operation.selection_set.items {
        let SelectionItem::Field(entities) = item else {
            continue;
        };
        if entities.name != "_entities" {
            continue;
        }
        for fragment in &mut entities.selections.items {
            let SelectionItem::InlineFragment(fragment) = fragment else {
                continue;
            };
            let is_interface =
                schema.kind_of(&fragment.type_condition) == Some(TypeKind::Interface);
            let has_typename = fragment
                .selections
                .items
                .iter()
                .any(|item| matches!(item, SelectionItem::Field(field) if field.name == "__typename" && field.alias.is_none()));
            if is_interface && !has_typename {
                fragment
                    .selections
                    .items
                    .insert(0, SelectionItem::Field(FieldSelection::new_typename()));
                changed = true;
            }
        }
    }
    if changed {
        operation.document_str = operation.document.to_string();
    }
}

fn refused(kind: RequestErrorKind, errors: Vec<GraphQLError>) -> PrepareError {
    PrepareError::Refused(kind, errors)
}

pub(crate) fn planning_failed(reason: &str) -> PrepareError {
    let error = GraphQLError::new(format!("Query planning failed: {reason}"))
        .with_code("QUERY_PLANNING_FAILED");
    PrepareError::PlanningFailed(Box::new(error))
}
