//! Runs a query plan: root fetches merged into the response tree, entity fetches
//! (one `_entities` call per fetch node, representations deduplicated, results
//! mapped back onto every entity that asked), sequences, parallel branches and
//! conditions (entity data itself is handled in `entities`). Subgraph failures become errors at the affected paths; the rest of
//! the tree still resolves.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hasher;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::trace_context::DirectSpan;
use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::{FetchNode, PlanNode};
use hive_router_query_planner::state::supergraph_state::OperationKind;
use http::HeaderMap;
use parking_lot::{Mutex, MutexGuard};
use rustc_hash::{FxBuildHasher, FxHasher};
use serde::Deserialize;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::GraphQLError;
use super::data::Data;
use super::entities::{
    CollectedGroup, EntityGroup, PathStep, apply_rewrite, deep_merge, flat_representation,
    merge_entities, prefetch_targets, project_requires, steps_to_path, visit_targets,
};
use super::failure::{FailedFetch, FailureRecord, FetchFailure};
use super::schema::ApiSchema;
use super::transport::{
    Deduplicator, SubgraphRequest, SubgraphResponse, SubgraphTransport, TransportError,
};

/// A subgraph as the executor calls it.
#[derive(Debug, Clone)]
pub(crate) struct Subgraph {
    pub name: Arc<str>,
    pub url: Arc<str>,
}

/// What the plan has produced so far.
#[derive(Default)]
pub(crate) struct ExecutionState {
    pub data: Data,
    pub errors: Vec<GraphQLError>,
    /// Where fetches failed: later fetches needing data from there are not sent.
    pub failures: Vec<FailureRecord>,
}

/// Everything one plan execution reads, plus the state it builds.
pub(crate) struct Executor<'a> {
    pub subgraphs: &'a HashMap<String, Subgraph>,
    pub transport: &'a Arc<dyn SubgraphTransport>,
    pub deduplicator: Option<&'a Deduplicator<SharedAnswer>>,
    pub timeout: Duration,
    pub metrics: &'a crate::metrics::Metrics,
    pub schema: &'a ApiSchema,
    pub variables: &'a Map<String, Value>,
    pub headers: &'a HeaderMap,
    /// Parallel branches only ever hold this between awaits, never across one.
    pub state: Mutex<ExecutionState>,
}

/// A subgraph's answer as identical fetches in flight share it: read once.
pub(crate) type SharedAnswer = Result<Arc<SubgraphBody>, FailedFetch>;

#[derive(Deserialize, Clone)]
pub(crate) struct SubgraphBody {
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    errors: Vec<SubgraphError>,
}

#[derive(Deserialize, Clone)]
struct SubgraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    path: Option<Vec<Value>>,
    #[serde(default)]
    extensions: Option<Map<String, Value>>,
}

impl<'a> Executor<'a> {
    pub(crate) fn into_state(self) -> ExecutionState {
        self.state.into_inner()
    }

    fn lock(&self) -> MutexGuard<'_, ExecutionState> {
        self.state.lock()
    }

    pub(crate) fn run<'s>(&'s self, node: &'s PlanNode) -> BoxFuture<'s, ()> {
        async move {
            match node {
                PlanNode::Fetch(fetch) => self.root_fetch(fetch).await,
                // Subscriptions are refused before execution (`Engine::execute`).
                PlanNode::Subscription(_) => self.unsupported("a subscription"),
                PlanNode::Flatten(flatten) => match flatten.node.as_ref() {
                    PlanNode::Fetch(fetch) => {
                        let Some(requires) = &fetch.requires else {
                            return self.unsupported("a flattened fetch without requirements");
                        };
                        let group = EntityGroup {
                            response_key: "_entities",
                            variable: "representations",
                            paths: vec![&flatten.path],
                            requires,
                            input_rewrites: fetch.input_rewrites.as_deref().unwrap_or_default(),
                            output_rewrites: fetch.output_rewrites.as_deref().unwrap_or_default(),
                        };
                        self.entity_fetch(fetch, vec![group]).await
                    }
                    _ => self.unsupported("a flatten node around something else than a fetch"),
                },
                PlanNode::BatchFetch(batch) => {
                    let groups = batch
                        .entity_batch
                        .aliases
                        .iter()
                        .map(|alias| EntityGroup {
                            response_key: &alias.alias,
                            variable: &alias.representations_variable_name,
                            paths: alias.merge_paths.iter().collect(),
                            requires: &alias.requires,
                            input_rewrites: alias.input_rewrites.as_deref().unwrap_or_default(),
                            output_rewrites: alias.output_rewrites.as_deref().unwrap_or_default(),
                        })
                        .collect();
                    let fetch = FetchParts {
                        service_name: &batch.service_name,
                        query: &batch.operation.document_str,
                        variable_usages: batch.variable_usages.as_ref(),
                        operation: &batch.operation.document.operation.selection_set,
                        deduplicate: true,
                    };
                    self.entity_fetch_parts(fetch, groups).await
                }
                PlanNode::Sequence(sequence) => {
                    for child in &sequence.nodes {
                        self.run(child).await;
                    }
                }
                PlanNode::Parallel(parallel) => {
                    join_all(parallel.nodes.iter().map(|child| self.run(child))).await;
                }
                PlanNode::Condition(condition) => {
                    let flag = self
                        .variables
                        .get(&condition.condition)
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let branch = if flag {
                        &condition.if_clause
                    } else {
                        &condition.else_clause
                    };
                    if let Some(branch) = branch {
                        self.run(branch).await;
                    }
                }
                // No incremental delivery: deferred parts are simply resolved before answering.
                PlanNode::Defer(defer) => {
                    if let Some(primary) = &defer.primary.node {
                        self.run(primary).await;
                    }
                    for deferred in &defer.deferred {
                        if let Some(node) = &deferred.node {
                            self.run(node).await;
                        }
                    }
                }
            }
        }
        .boxed()
    }

    fn unsupported(&self, what: &str) {
        self.lock().errors.push(
            GraphQLError::new(format!(
                "The query plan contains {what}, which this router cannot execute."
            ))
            .with_code("INTERNAL_SERVER_ERROR"),
        );
    }

    async fn root_fetch(&self, fetch: &FetchNode) {
        let parts = FetchParts::of(fetch);
        let body = FetchBody {
            query: parts.query,
            usages: parts.variable_usages,
            variables: self.variables,
            extra: &[],
        };
        match self.send(&parts, &body).await {
            Ok(response) => {
                let mut state = self.lock();
                let state = &mut *state;
                if let Some(mut data) = response.data {
                    for rewrite in fetch.output_rewrites.iter().flatten() {
                        apply_rewrite(self.schema, rewrite, &mut data);
                    }
                    deep_merge(&mut state.data, data);
                }
                for error in response.errors {
                    let error = subgraph_error(error, parts.service_name, Some);
                    record_subgraph_error(&mut state.failures, &error, parts.service_name, || {
                        root_keys(parts.operation)
                    });
                    state.errors.push(error);
                }
            }
            Err(failed) => {
                let path =
                    first_field_key(parts.operation).map(|key| vec![Value::String(key.to_owned())]);
                let mut state = self.lock();
                for path in root_keys(parts.operation) {
                    state.failures.push(failed.record(parts.service_name, path));
                }
                state
                    .errors
                    .push(failed.kind.error(parts.service_name, &failed.reason, path));
            }
        }
    }

    async fn entity_fetch(&self, fetch: &FetchNode, groups: Vec<EntityGroup<'_>>) {
        self.entity_fetch_parts(FetchParts::of(fetch), groups).await
    }

    async fn entity_fetch_parts(&self, fetch: FetchParts<'_>, groups: Vec<EntityGroup<'_>>) {
        let collected: Vec<CollectedGroup> = {
            let mut state = self.lock();
            let state = &mut *state;
            let mut skipped = Vec::new();
            let collected = groups
                .iter()
                .map(|group| self.collect(&state.data, &state.failures, group, &mut skipped))
                .collect();
            // One error per failed fetch and path pattern (`feed.@.commenterCount`), at
            // its first entity's path and with how many it covers: a list of 10,000
            // entities whose input failed is said once, not 10,000 times.
            let mut written: HashMap<DependentErrorKey, usize> = HashMap::new();
            let mut dependent: Vec<(GraphQLError, u64)> = Vec::new();
            for (group, steps) in skipped {
                let mut path = steps;
                let Some(failure) = state.failures.iter().find(|failure| failure.covers(&path))
                else {
                    continue;
                };
                if let Some(key) = first_entity_field_key(fetch.operation, group) {
                    path.push(Value::String(key.to_owned()));
                }
                let key = DependentErrorKey {
                    service_name: failure.service_name.clone(),
                    code: failure.kind.code(),
                    reason: failure.reason.clone(),
                    pattern: path_pattern(&path),
                };
                match written.get(&key) {
                    Some(&index) => dependent[index].1 += 1,
                    None => {
                        written.insert(key, dependent.len());
                        let error = failure.dependent_error(fetch.service_name, Some(path));
                        dependent.push((error, 1));
                    }
                }
            }
            for (error, count) in dependent {
                let error = error.with_extension("skippedEntities", Value::from(count));
                if !state.errors.contains(&error) {
                    state.errors.push(error);
                }
            }
            collected
        };
        if collected
            .iter()
            .all(|group| group.representations.is_empty())
        {
            return;
        }
        let extra: Vec<(&str, &[Data])> = groups
            .iter()
            .zip(&collected)
            .map(|(group, collected)| (group.variable, &collected.representations[..]))
            .collect();
        let body = FetchBody {
            query: fetch.query,
            usages: fetch.variable_usages,
            variables: self.variables,
            extra: &extra,
        };
        let result = self.send(&fetch, &body).await;
        let mut state = self.lock();
        let state = &mut *state;
        match result {
            Ok(response) => {
                let mut data = response.data.unwrap_or_default();
                let mut entities: Vec<Vec<Data>> = groups
                    .iter()
                    .map(
                        |group| match data.get_mut(group.response_key).map(Data::take) {
                            Some(Data::List(entities)) => entities,
                            _ => Vec::new(),
                        },
                    )
                    .collect();
                let mut blamed = Vec::new();
                for error in response.errors {
                    let client_error = subgraph_error(error, fetch.service_name, |path| {
                        entity_error_path(&groups, &collected, &entities, &mut blamed, &path)
                    });
                    record_subgraph_error(
                        &mut state.failures,
                        &client_error,
                        fetch.service_name,
                        || entity_paths(&collected),
                    );
                    state.errors.push(client_error);
                }
                for ((group, collected), entities) in
                    groups.iter().zip(&collected).zip(entities.iter_mut())
                {
                    merge_entities(
                        self.schema,
                        &mut state.data,
                        group,
                        collected,
                        std::mem::take(entities),
                    );
                }
            }
            Err(failed) => {
                for path in entity_paths(&collected) {
                    state.failures.push(failed.record(fetch.service_name, path));
                }
                let path = groups
                    .iter()
                    .zip(&collected)
                    .find_map(|(group, collected)| {
                        let mut path = collected.target_path(0)?;
                        if let Some(key) =
                            first_entity_field_key(fetch.operation, group.response_key)
                        {
                            path.push(Value::String(key.to_owned()));
                        }
                        Some(path)
                    });
                state
                    .errors
                    .push(failed.kind.error(fetch.service_name, &failed.reason, path));
            }
        }
    }

    /// Finds the entities of a group in the response tree and builds their
    /// representations. An entity missing a value its representation needs is not
    /// sent; it goes to `skipped` (group response key, client path) instead.
    fn collect<'p>(
        &self,
        data: &Data,
        failures: &[FailureRecord],
        group: &EntityGroup<'p>,
        skipped: &mut Vec<(&'p str, Vec<Value>)>,
    ) -> CollectedGroup<'p> {
        let mut collected = CollectedGroup::default();
        // Representations by a structural hash (no text built per entity): the same
        // entity reached by many paths is sent once.
        let mut seen: HashMap<u64, Vec<usize>, FxBuildHasher> = HashMap::default();
        let mut steps = Vec::new();
        // The flat representation of the entity at hand; one buffer for all of them.
        let mut pairs = Vec::new();
        for path in &group.paths {
            prefetch_targets(data, path.as_slice());
            visit_targets(
                self.schema,
                data,
                path.as_slice(),
                &mut steps,
                &mut |entity, steps| {
                    // An entity already seen by another path: found without building it.
                    pairs.clear();
                    let known = (group.input_rewrites.is_empty()
                        && flat_representation(
                            self.schema,
                            &group.requires.items,
                            entity,
                            &mut pairs,
                        )
                        && !pairs.is_empty())
                    .then(|| {
                        let candidates = seen.get(&hash_object(pairs.iter().copied()))?;
                        candidates
                            .iter()
                            .copied()
                            .find(|&index| is_object_of(&collected.representations[index], &pairs))
                    })
                    .flatten();
                    let index = match known {
                        Some(index) => index,
                        None => {
                            let mut representation =
                                match project_requires(self.schema, group.requires, entity) {
                                    // A nullable input is null: still sent, unless a failed fetch explains the null.
                                    Ok(projected)
                                        if !(projected.has_null && failed_at(failures, steps)) =>
                                    {
                                        projected.value
                                    }
                                    _ => {
                                        skipped.push((group.response_key, steps_to_path(steps)));
                                        return;
                                    }
                                };
                            for rewrite in group.input_rewrites {
                                apply_rewrite(self.schema, rewrite, &mut representation);
                            }
                            let same_hash = seen.entry(hash_value(&representation)).or_default();
                            let known = same_hash
                                .iter()
                                .copied()
                                .find(|&index| collected.representations[index] == representation);
                            known.unwrap_or_else(|| {
                                let next = collected.representations.len();
                                same_hash.push(next);
                                collected.representations.push(representation);
                                collected.first_target.push(collected.target_count());
                                next
                            })
                        }
                    };
                    collected.push_target(steps, index);
                },
            );
        }
        collected
    }

    /// Sends one subgraph request and reads its GraphQL response, recording its
    /// latency and whether a GraphQL response came back.
    ///
    /// Traced as the client span `fetch <subgraph>` (tracing on; see `DirectSpan` for why
    /// it is not a `tracing` span).
    async fn send(
        &self,
        fetch: &FetchParts<'_>,
        body: &FetchBody<'_>,
    ) -> Result<SubgraphBody, FailedFetch> {
        let mut span = DirectSpan::client(
            || format!("fetch {}", fetch.service_name),
            &[("subgraph", fetch.service_name)],
        );
        let started = std::time::Instant::now();
        let result = self.send_unrecorded(fetch, body, &span).await;
        self.metrics
            .record_subgraph_fetch(fetch.service_name, started.elapsed(), result.is_ok());
        if let Err(failed) = &result {
            span.record_error(|| failed.reason.clone());
        }
        result
    }

    async fn send_unrecorded(
        &self,
        fetch: &FetchParts<'_>,
        body: &FetchBody<'_>,
        span: &DirectSpan,
    ) -> Result<SubgraphBody, FailedFetch> {
        let subgraph = self.subgraphs.get(fetch.service_name).ok_or_else(|| {
            FailedFetch::new(
                FetchFailure::Unavailable,
                format!(
                    "the subgraph \"{}\" is not in the supergraph",
                    fetch.service_name
                ),
            )
        })?;
        let body = serde_json::to_vec(body).map_err(|error| {
            FailedFetch::new(
                FetchFailure::InvalidResponse,
                format!("cannot serialise the request: {error}"),
            )
        })?;
        let request = SubgraphRequest {
            subgraph: subgraph.name.clone(),
            url: subgraph.url.clone(),
            body: Bytes::from(body),
            // With the fetch span's `traceparent` (tracing on).
            headers: span.headers(self.headers),
        };
        let timeout = self.timeout;
        let timed_out = || {
            FailedFetch::new(
                FetchFailure::Timeout,
                format!("no response within {} ms", timeout.as_millis()),
            )
        };
        match self.deduplicator {
            Some(deduplicator) if fetch.deduplicate => {
                let transport = self.transport.clone();
                let shared = deduplicator.fetch(request, move |request| async move {
                    read_answer(transport.fetch(request).await).map(Arc::new)
                });
                let answer = tokio::time::timeout(timeout, shared)
                    .await
                    .map_err(|_| timed_out())??;
                // The last request to take a shared answer has it; the others copy it
                // (cheaper than parsing it again).
                Ok(Arc::try_unwrap(answer).unwrap_or_else(|shared| SubgraphBody::clone(&shared)))
            }
            _ => {
                let response = tokio::time::timeout(timeout, self.transport.fetch(request))
                    .await
                    .map_err(|_| timed_out())?;
                read_answer(response)
            }
        }
    }
}

/// A subgraph's HTTP answer read as a GraphQL response, or why it is not one.
fn read_answer(
    response: Result<SubgraphResponse, TransportError>,
) -> Result<SubgraphBody, FailedFetch> {
    let response =
        response.map_err(|error| FailedFetch::new(error.kind, error.message.to_string()))?;
    let success = (200..300).contains(&response.status);
    // UTF-8 checked once for the whole body, not again for each string in it.
    let parsed = std::str::from_utf8(&response.body)
        .map_err(|error| error.to_string())
        .and_then(|text| {
            serde_json::from_str::<SubgraphBody>(text).map_err(|error| error.to_string())
        });
    match parsed {
        Ok(body) if body.data.is_some() || !body.errors.is_empty() => Ok(body),
        _ if !success => Err(FailedFetch::new(
            FetchFailure::HttpError,
            format!("HTTP status {}", response.status),
        )),
        Ok(_) => Err(FailedFetch::new(
            FetchFailure::InvalidResponse,
            "the response has neither data nor errors",
        )),
        Err(error) => Err(FailedFetch::new(
            FetchFailure::InvalidResponse,
            format!("the response is not GraphQL JSON: {error}"),
        )),
    }
}

/// A hash of a JSON value's structure and contents (keys in order), for
/// deduplicating representations. Its depth is the plan's `@requires`
/// selection's, fixed by the supergraph, plus that of a JSON-scalar value a
/// subgraph sent, which serde_json's parser caps (128 levels); never a client's.
fn hash_value(value: &Data) -> u64 {
    let mut hasher = FxHasher::default();
    feed(value, &mut hasher);
    hasher.finish()
}

/// [`hash_value`] of the object these (key, value) pairs make, without making it.
fn hash_object<'v>(fields: impl ExactSizeIterator<Item = (&'v str, &'v Data)>) -> u64 {
    let mut hasher = FxHasher::default();
    feed_object(fields, &mut hasher);
    hasher.finish()
}

/// `value` is the object these distinct (key, value) pairs make.
fn is_object_of(value: &Data, fields: &[(&str, &Data)]) -> bool {
    value.as_object().is_some_and(|object| {
        object.len() == fields.len()
            && fields
                .iter()
                .all(|(key, field)| object.get(key) == Some(*field))
    })
}

fn feed(value: &Data, hasher: &mut FxHasher) {
    match value {
        Data::Null => hasher.write_u8(0),
        Data::Bool(flag) => hasher.write_u8(1 + u8::from(*flag)),
        Data::Number(number) => {
            hasher.write_u8(3);
            match (number.as_i64(), number.as_f64()) {
                (Some(integer), _) => hasher.write_i64(integer),
                (None, Some(float)) => hasher.write_u64(float.to_bits()),
                (None, None) => hasher.write_u8(0),
            }
        }
        Data::String(text) => {
            hasher.write_u8(4);
            hasher.write(text.as_bytes());
            hasher.write_u8(0xff);
        }
        Data::List(items) => {
            hasher.write_u8(5);
            hasher.write_usize(items.len());
            items.iter().for_each(|item| feed(item, hasher));
        }
        Data::Object(object) => feed_object(object.iter(), hasher),
    }
}

fn feed_object<'v>(
    fields: impl ExactSizeIterator<Item = (&'v str, &'v Data)>,
    hasher: &mut FxHasher,
) {
    hasher.write_u8(6);
    hasher.write_usize(fields.len());
    for (key, item) in fields {
        hasher.write(key.as_bytes());
        hasher.write_u8(0xff);
        feed(item, hasher);
    }
}

/// The parts of a fetch or batch fetch node the sending code needs.
struct FetchParts<'p> {
    service_name: &'p str,
    query: &'p str,
    variable_usages: Option<&'p BTreeSet<String>>,
    operation: &'p SelectionSet,
    /// Mutations are never shared: two identical mutations are two intended effects.
    deduplicate: bool,
}

impl<'p> FetchParts<'p> {
    fn of(fetch: &'p FetchNode) -> FetchParts<'p> {
        FetchParts {
            service_name: &fetch.service_name,
            query: &fetch.operation.document_str,
            variable_usages: fetch.variable_usages.as_ref(),
            operation: &fetch.operation.document.operation.selection_set,
            deduplicate: !matches!(fetch.operation_kind, Some(OperationKind::Mutation)),
        }
    }
}

/// The JSON body of a subgraph request, serialised straight from borrowed parts.
struct FetchBody<'b> {
    query: &'b str,
    usages: Option<&'b BTreeSet<String>>,
    variables: &'b Map<String, Value>,
    extra: &'b [(&'b str, &'b [Data])],
}

impl Serialize for FetchBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Variables<'v>(&'v FetchBody<'v>);
        impl Serialize for Variables<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(None)?;
                for name in self.0.usages.into_iter().flatten() {
                    if let Some(value) = self.0.variables.get(name) {
                        map.serialize_entry(name, value)?;
                    }
                }
                for (name, values) in self.0.extra {
                    map.serialize_entry(name, values)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("query", self.query)?;
        map.serialize_entry("variables", &Variables(self))?;
        map.end()
    }
}

/// `["_entities", 3, "reviews"]` → the client path of the entity behind representation 3.
///
/// Some subgraphs (async-graphql) leave the index out: `["_entities", "reviews"]`. The
/// error is then put on the first entity whose value at that path is null and that
/// no earlier error took.
fn entity_error_path(
    groups: &[EntityGroup],
    collected: &[CollectedGroup],
    entities: &[Vec<Data>],
    blamed: &mut Vec<(usize, usize)>,
    path: &[Value],
) -> Option<Vec<Value>> {
    let key = path.first()?.as_str()?;
    let position = groups.iter().position(|group| group.response_key == key)?;
    let collected = &collected[position];
    let (index, rest) = match path.get(1).and_then(Value::as_u64) {
        Some(index) => (usize::try_from(index).ok()?, &path[2..]),
        None => {
            let rest = &path[1..];
            let is_null_at_rest = |entity: &Data| {
                rest.iter()
                    .try_fold(entity, |value, step| match step {
                        Value::String(key) => value.get(key),
                        Value::Number(index) => value.index(usize::try_from(index.as_u64()?).ok()?),
                        _ => None,
                    })
                    .is_none_or(Data::is_null)
            };
            let index = (0..collected.representations.len())
                .find(|index| {
                    !blamed.contains(&(position, *index))
                        && entities[position].get(*index).is_none_or(&is_null_at_rest)
                })
                .unwrap_or(0);
            (index, rest)
        }
    };
    blamed.push((position, index));
    let target = *collected.first_target.get(index)?;
    let mut client_path = collected.target_path(target)?;
    client_path.extend(rest.iter().cloned());
    Some(client_path)
}

fn subgraph_error(
    error: SubgraphError,
    service_name: &str,
    map_path: impl FnOnce(Vec<Value>) -> Option<Vec<Value>>,
) -> GraphQLError {
    let mut extensions = error.extensions.unwrap_or_default();
    extensions
        .entry("serviceName")
        .or_insert_with(|| Value::String(service_name.to_owned()));
    GraphQLError {
        message: error.message,
        locations: None,
        path: error.path.and_then(map_path),
        extensions: Some(extensions),
    }
}

/// Whether a recorded failure explains missing data at the entity at `steps`.
fn failed_at(failures: &[FailureRecord], steps: &[PathStep]) -> bool {
    !failures.is_empty() && {
        let path = steps_to_path(steps);
        failures.iter().any(|failure| failure.covers(&path))
    }
}

/// Records a subgraph's GraphQL error as a failure at its path (or, without
/// one, at every place the fetch was for).
fn record_subgraph_error(
    failures: &mut Vec<FailureRecord>,
    error: &GraphQLError,
    service_name: &str,
    fallback: impl FnOnce() -> Vec<Vec<Value>>,
) {
    let paths = match &error.path {
        Some(path) => vec![path.clone()],
        None => fallback(),
    };
    let failed = FailedFetch::new(FetchFailure::SubgraphError, error.message.clone());
    failures.extend(
        paths
            .into_iter()
            .map(|path| failed.record(service_name, path)),
    );
}

/// The client path of every entity a fetch was for.
fn entity_paths(collected: &[CollectedGroup]) -> Vec<Vec<Value>> {
    collected
        .iter()
        .flat_map(|group| (0..group.target_count()).filter_map(|target| group.target_path(target)))
        .collect()
}

/// The response keys of a root fetch's fields.
fn root_keys(selection_set: &SelectionSet) -> Vec<Vec<Value>> {
    selection_set
        .items
        .iter()
        .flat_map(|item| match item {
            SelectionItem::Field(field) if field.name != "__typename" => {
                vec![vec![Value::String(field.selection_identifier().to_owned())]]
            }
            SelectionItem::InlineFragment(fragment) => root_keys(&fragment.selections),
            _ => Vec::new(),
        })
        .collect()
}

/// The response key of the first field a root fetch asks for.
fn first_field_key(selection_set: &SelectionSet) -> Option<&str> {
    selection_set.items.iter().find_map(|item| match item {
        SelectionItem::Field(field) if field.name != "__typename" => {
            Some(field.selection_identifier())
        }
        SelectionItem::InlineFragment(fragment) => first_field_key(&fragment.selections),
        _ => None,
    })
}

/// The response key of the first entity field an `_entities` selection asks for.
fn first_entity_field_key<'p>(operation: &'p SelectionSet, response_key: &str) -> Option<&'p str> {
    operation.items.iter().find_map(|item| match item {
        SelectionItem::Field(field) if field.selection_identifier() == response_key => {
            first_field_key(&field.selections)
        }
        _ => None,
    })
}

/// The prefix of the aliases the planner gives a field the client also selects
/// with other arguments; clients must never see it.
const PLANNER_ALIAS_PREFIX: &str = "_internal_qp_alias_";

/// Puts the client's field names back into error paths that went through a
/// planner alias (`_internal_qp_alias_N` → the aliased field), then drops the
/// duplicates that leaves (the client's copy of the field failed the same way).
pub(crate) fn unalias_error_paths(plan: &PlanNode, errors: &mut Vec<GraphQLError>) {
    let aliased = |error: &GraphQLError| {
        error.path.as_ref().is_some_and(|path| {
            path.iter().any(|segment| {
                segment
                    .as_str()
                    .is_some_and(|key| key.starts_with(PLANNER_ALIAS_PREFIX))
            })
        })
    };
    if !errors.iter().any(aliased) {
        return;
    }
    let mut names: HashMap<&str, &str> = HashMap::new();
    collect_planner_aliases(plan, &mut names);
    let mut kept: Vec<GraphQLError> = Vec::with_capacity(errors.len());
    for mut error in errors.drain(..) {
        if let Some(path) = error.path.as_mut() {
            for segment in path.iter_mut() {
                if let Some(name) = segment.as_str().and_then(|key| names.get(key)) {
                    *segment = Value::String((*name).to_owned());
                }
            }
        }
        if !kept.contains(&error) {
            kept.push(error);
        }
    }
    *errors = kept;
}

fn collect_planner_aliases<'p>(node: &'p PlanNode, names: &mut HashMap<&'p str, &'p str>) {
    match node {
        PlanNode::Fetch(fetch) => {
            aliases_in(&fetch.operation.document.operation.selection_set, names)
        }
        PlanNode::BatchFetch(batch) => {
            aliases_in(&batch.operation.document.operation.selection_set, names)
        }
        PlanNode::Subscription(subscription) => aliases_in(
            &subscription
                .primary
                .operation
                .document
                .operation
                .selection_set,
            names,
        ),
        PlanNode::Flatten(flatten) => collect_planner_aliases(&flatten.node, names),
        PlanNode::Sequence(sequence) => sequence
            .nodes
            .iter()
            .for_each(|node| collect_planner_aliases(node, names)),
        PlanNode::Parallel(parallel) => parallel
            .nodes
            .iter()
            .for_each(|node| collect_planner_aliases(node, names)),
        PlanNode::Condition(condition) => [&condition.if_clause, &condition.else_clause]
            .into_iter()
            .flatten()
            .for_each(|node| collect_planner_aliases(node, names)),
        PlanNode::Defer(defer) => defer
            .primary
            .node
            .iter()
            .chain(
                defer
                    .deferred
                    .iter()
                    .filter_map(|deferred| deferred.node.as_ref()),
            )
            .for_each(|node| collect_planner_aliases(node, names)),
    }
}

/// Planner aliases in a subgraph operation (its depth is the plan's, not the client's input).
fn aliases_in<'p>(selection_set: &'p SelectionSet, names: &mut HashMap<&'p str, &'p str>) {
    for item in &selection_set.items {
        match item {
            SelectionItem::Field(field) => {
                if let Some(alias) = field
                    .alias
                    .as_deref()
                    .filter(|alias| alias.starts_with(PLANNER_ALIAS_PREFIX))
                {
                    names.entry(alias).or_insert(&field.name);
                }
                aliases_in(&field.selections, names);
            }
            SelectionItem::InlineFragment(fragment) => aliases_in(&fragment.selections, names),
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

/// What makes two "not fetched" errors one: the failure that caused them and
/// where they are, list indexes left out.
#[derive(PartialEq, Eq, Hash)]
struct DependentErrorKey {
    service_name: String,
    code: &'static str,
    reason: String,
    pattern: Vec<Option<String>>,
}

/// A client path with its list indexes left out (`None`).
fn path_pattern(path: &[Value]) -> Vec<Option<String>> {
    path.iter()
        .map(|segment| segment.as_str().map(str::to_owned))
        .collect()
}
