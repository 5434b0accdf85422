//! Entity data handling for the executor: finding the entities a flatten path
//! leads to, building their representations (the plan's `requires`, with input
//! rewrites), applying output rewrites and merging `_entities` answers back into
//! the response tree.

use std::collections::BTreeSet;

use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::{
    FetchNodePathSegment, FetchRewrite, FlattenNodePath, FlattenNodePathSegment,
};
use serde_json::Value;

use super::data::{Data, Key, Object, prefetch_value};

use super::schema::{ApiSchema, TypeKind, TypeRef, named_type};

/// One step of a concrete response path.
#[derive(Debug, Clone, Copy)]
pub(super) enum PathStep<'p> {
    Key(&'p str),
    Index(usize),
}

/// The entities of one `_entities` selection (the whole fetch, or one alias of a batch).
pub(super) struct EntityGroup<'p> {
    pub(super) response_key: &'p str,
    pub(super) variable: &'p str,
    pub(super) paths: Vec<&'p FlattenNodePath>,
    pub(super) requires: &'p SelectionSet,
    pub(super) input_rewrites: &'p [FetchRewrite],
    pub(super) output_rewrites: &'p [FetchRewrite],
}

/// The representations of a group and where each answer goes.
#[derive(Default)]
pub(super) struct CollectedGroup<'p> {
    pub(super) representations: Vec<Data>,
    /// The paths to every entity that asked, as a tree: a step shared by many
    /// entities (`users`, `users.3`, `users.3.reviews`…) is stored and walked once,
    /// not once per entity below it. Nodes are in depth-first order, so a node's
    /// descendants are the nodes right after it, up to its `end`.
    nodes: Vec<PathNode<'p>>,
    /// Every entity that asked, in the order found: the node its path ends at
    /// (`ROOT` for the response root) and the representation answering it.
    targets: Vec<(u32, u32)>,
    /// The nodes of the last target's path, root first (where the next one's path
    /// is compared to share its prefix).
    open: Vec<u32>,
    /// For each representation, the first target asking for it (to place errors).
    pub(super) first_target: Vec<usize>,
}

/// One step of the collected paths.
struct PathNode<'p> {
    step: PathStep<'p>,
    parent: u32,
    /// One past this node's last descendant.
    end: u32,
    /// The targets whose path ends here (consecutive in `targets`).
    targets: std::ops::Range<u32>,
}

/// The parent of a first step, and the node of a target at the response root.
const ROOT: u32 = u32::MAX;

impl<'p> CollectedGroup<'p> {
    /// Records that the entity at `steps` is answered by representation `index`.
    pub(super) fn push_target(&mut self, steps: &[PathStep<'p>], index: usize) {
        // The longest prefix of the last target's path that this one shares.
        let mut shared = self
            .open
            .iter()
            .zip(steps)
            .take_while(|(node, step)| self.nodes[**node as usize].step.same_as(step))
            .count();
        // A node takes targets only while it is the newest: an entity reached again
        // after others below it starts a path of its own, keeping each node's
        // targets consecutive.
        if shared == steps.len() && shared > 0 && self.open.len() > shared {
            shared -= 1;
        }
        self.open.truncate(shared);
        for step in &steps[shared..] {
            let id = self.nodes.len() as u32;
            let parent = self.open.last().copied().unwrap_or(ROOT);
            for &ancestor in &self.open {
                self.nodes[ancestor as usize].end = id + 1;
            }
            let at = self.targets.len() as u32;
            self.nodes.push(PathNode {
                step: *step,
                parent,
                end: id + 1,
                targets: at..at,
            });
            self.open.push(id);
        }
        let node = self.open.last().copied().unwrap_or(ROOT);
        if let Some(node) = self.nodes.get_mut(node as usize) {
            node.targets.end += 1;
        }
        self.targets.push((node, index as u32));
    }

    pub(super) fn target_count(&self) -> usize {
        self.targets.len()
    }

    /// The client path of target `target`.
    pub(super) fn target_path(&self, target: usize) -> Option<Vec<Value>> {
        let (mut node, _) = *self.targets.get(target)?;
        let mut steps = Vec::new();
        while let Some(path_node) = self.nodes.get(node as usize) {
            steps.push(path_node.step);
            node = path_node.parent;
        }
        steps.reverse();
        Some(steps_to_path(&steps))
    }

    /// The representation answering each target, in order.
    fn target_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.targets.iter().map(|&(_, index)| index as usize)
    }
}

pub(super) type TargetVisitor<'v, 'p, 'd> = dyn FnMut(&'d Object, &[PathStep<'p>]) + 'v;

/// Calls `visit` on every object the flatten path leads to.
pub(super) fn visit_targets<'p, 'd>(
    schema: &ApiSchema,
    value: &'d Data,
    path: &'p [FlattenNodePathSegment],
    steps: &mut Vec<PathStep<'p>>,
    visit: &mut TargetVisitor<'_, 'p, 'd>,
) {
    match (path.split_first(), value) {
        (_, Data::List(items)) => {
            let rest = path_inside_list(path);
            for (index, item) in items.iter().enumerate() {
                steps.push(PathStep::Index(index));
                visit_targets(schema, item, rest, steps, visit);
                steps.pop();
            }
        }
        (None, Data::Object(object)) => visit(object, steps),
        (Some((FlattenNodePathSegment::Field(key), rest)), Data::Object(object)) => {
            if let Some(child) = object.get(key) {
                steps.push(PathStep::Key(key));
                visit_targets(schema, child, rest, steps, visit);
                steps.pop();
            }
        }
        (Some((FlattenNodePathSegment::TypeCondition(types), rest)), Data::Object(object))
            if typename_matches(schema, object, types) =>
        {
            visit_targets(schema, value, rest, steps, visit);
        }
        _ => {}
    }
}

/// The rest of `path` for the items of a list it reaches: lists are walked
/// whether or not the path marks them with `@`.
fn path_inside_list(path: &[FlattenNodePathSegment]) -> &[FlattenNodePathSegment] {
    match path.split_first() {
        Some((FlattenNodePathSegment::List, rest)) => rest,
        _ => path,
    }
}

/// Loads the objects a flatten path leads to into the cache, level by level, before
/// [`visit_targets`] walks them depth first.
///
/// Why: the response tree was last touched before the previous fetch's await, so a
/// walk down it misses the cache at nearly every step, and a depth-first walk waits
/// for those loads one after the other (most of the executor's time went there).
/// Breadth first, every load of one level is asked for at once and they overlap:
/// the wait is per level of the path, not per object.
pub(super) fn prefetch_targets(data: &Data, path: &[FlattenNodePathSegment]) {
    let mut level: Vec<(&Data, &[FlattenNodePathSegment])> = vec![(data, path)];
    let mut next = Vec::new();
    while !level.is_empty() {
        for (value, path) in level.drain(..) {
            match (path.split_first(), value) {
                (_, Data::List(items)) => {
                    let rest = path_inside_list(path);
                    for item in items {
                        item.prefetch();
                        next.push((item, rest));
                    }
                }
                (Some((FlattenNodePathSegment::Field(key), rest)), Data::Object(object)) => {
                    if let Some(child) = object.get(key) {
                        child.prefetch();
                        next.push((child, rest));
                    }
                }
                // The type condition is checked by the walk itself.
                (Some((FlattenNodePathSegment::TypeCondition(_), rest)), Data::Object(_)) => {
                    next.push((value, rest));
                }
                _ => {}
            }
        }
        std::mem::swap(&mut level, &mut next);
    }
}

pub(super) fn typename_matches(
    schema: &ApiSchema,
    object: &Object,
    types: &BTreeSet<String>,
) -> bool {
    match object.get("__typename").and_then(Data::as_str) {
        Some(typename) => types
            .iter()
            .any(|condition| schema.type_condition_applies(condition, typename)),
        None => true,
    }
}

/// A required value the entity does not have: it must not be sent.
pub(super) struct Missing;

/// The representation of an entity: the required fields, keyed by field name.
pub(super) struct Representation {
    pub(super) value: Data,
    /// A nullable required value is null: legitimate, unless a failed fetch nulled it.
    pub(super) has_null: bool,
}

/// Builds the representation of an entity, or `Missing` when a value it needs is
/// absent, or null where it cannot be (a key field, or a non-null field): that
/// only happens when the fetch that should have brought it failed or the data is
/// broken, and sending it would make the subgraph refuse the whole batch.
///
/// A field the planner renamed (`_internal_qp_alias_N`, because the client asked
/// for the same field with other arguments) comes with its data key as `name`
/// and the field's own name as `alias`: read under the first, send under the second.
pub(super) fn project_requires(
    schema: &ApiSchema,
    requires: &SelectionSet,
    entity: &Object,
) -> Result<Representation, Missing> {
    let mut representation = Object::new();
    let mut has_null = false;
    project_items(
        schema,
        &requires.items,
        entity,
        None,
        &mut representation,
        &mut has_null,
    )?;
    if representation.is_empty() {
        return Err(Missing);
    }
    Ok(Representation {
        value: Data::Object(representation),
        has_null,
    })
}

/// An entity's representation without building it, when the plan's `requires`
/// is flat (leaf fields, possibly inside inline fragments) and every value is
/// present and not null: the (key sent, value) pairs [`project_requires`] would
/// build, in its order, into `pairs`. Most entities of a fetch are reached by
/// several paths; only the first needs building. `false` for anything else,
/// and [`project_requires`] decides.
pub(super) fn flat_representation<'p, 'e>(
    schema: &ApiSchema,
    items: &'p [SelectionItem],
    entity: &'e Object,
    pairs: &mut Vec<(&'p str, &'e Data)>,
) -> bool {
    let typename = entity.get("__typename").and_then(Data::as_str);
    for item in items {
        match item {
            SelectionItem::Field(field) if field.selections.items.is_empty() => {
                let Some(value) = entity.get(&field.name).filter(|value| !value.is_null()) else {
                    return false;
                };
                let key = field.alias.as_deref().unwrap_or(&field.name);
                // Asked twice (in and out of a fragment): sent once, where first asked.
                if !pairs.iter().any(|(known, _)| *known == key) {
                    pairs.push((key, value));
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                let applies = typename.is_none_or(|typename| {
                    schema.type_condition_applies(&fragment.type_condition, typename)
                });
                if applies
                    && !flat_representation(schema, &fragment.selections.items, entity, pairs)
                {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

fn project_items(
    schema: &ApiSchema,
    items: &[SelectionItem],
    object: &Object,
    parent_type: Option<&str>,
    out: &mut Object,
    has_null: &mut bool,
) -> Result<(), Missing> {
    let typename = object.get("__typename").and_then(Data::as_str);
    let parent_type = typename.or(parent_type);
    for item in items {
        match item {
            SelectionItem::Field(field) => {
                let Some(value) = object.get(&field.name) else {
                    return Err(Missing);
                };
                let field_type =
                    parent_type.and_then(|parent| schema.field_type(parent, &field.name));
                let projected = match value {
                    Data::Null => {
                        let is_key = parent_type
                            .is_some_and(|parent| schema.is_key_field(parent, &field.name));
                        if is_key || matches!(field_type, Some(TypeRef::NonNullType(_))) {
                            return Err(Missing);
                        }
                        *has_null = true;
                        Data::Null
                    }
                    _ if field.selections.items.is_empty() => value.clone(),
                    _ => {
                        let child_type = field_type.map(named_type);
                        project_value(schema, &field.selections.items, value, child_type, has_null)?
                    }
                };
                let key = field.alias.as_deref().unwrap_or(&field.name);
                match out.get_mut(key) {
                    Some(existing) => deep_merge(existing, projected),
                    None => out.push_new(Key::from(key), projected),
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                let applies = typename.is_none_or(|typename| {
                    schema.type_condition_applies(&fragment.type_condition, typename)
                });
                if applies {
                    let inner = typename.unwrap_or(&fragment.type_condition);
                    project_items(
                        schema,
                        &fragment.selections.items,
                        object,
                        Some(inner),
                        out,
                        has_null,
                    )?;
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

fn project_value(
    schema: &ApiSchema,
    items: &[SelectionItem],
    value: &Data,
    value_type: Option<&str>,
    has_null: &mut bool,
) -> Result<Data, Missing> {
    match value {
        Data::Object(object) => {
            let mut out = Object::new();
            project_items(schema, items, object, value_type, &mut out, has_null)?;
            Ok(Data::Object(out))
        }
        Data::List(values) => values
            .iter()
            .map(|value| match value {
                // An item's nullability is not tracked here; a null item stays as the data has it.
                Data::Null => Ok(Data::Null),
                value => project_value(schema, items, value, value_type, has_null),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Data::List),
        other => Ok(other.clone()),
    }
}

/// Applies an input or output rewrite of the plan to a representation or an entity.
pub(super) fn apply_rewrite(schema: &ApiSchema, rewrite: &FetchRewrite, value: &mut Data) {
    match rewrite {
        FetchRewrite::ValueSetter(setter) => {
            rewrite_at(schema, &setter.path, value, &mut |target| {
                *target = Data::from(setter.set_value_to.as_str());
            });
        }
        FetchRewrite::KeyRenamer(renamer) => {
            let Some((FetchNodePathSegment::Key(old_key), parent_path)) = renamer.path.split_last()
            else {
                return;
            };
            rewrite_at(schema, parent_path, value, &mut |parent| {
                if let Data::Object(object) = parent
                    && let Some(moved) = object.remove(old_key)
                {
                    object.insert(renamer.rename_key_to.as_str(), moved);
                }
            });
        }
    }
}

fn rewrite_at(
    schema: &ApiSchema,
    path: &[FetchNodePathSegment],
    value: &mut Data,
    apply: &mut dyn FnMut(&mut Data),
) {
    if let Data::List(items) = value {
        for item in items {
            rewrite_at(schema, path, item, apply);
        }
        return;
    }
    let Some((segment, rest)) = path.split_first() else {
        apply(value);
        return;
    };
    let Data::Object(object) = value else {
        return;
    };
    match segment {
        FetchNodePathSegment::TypenameEquals(types) => {
            if typename_matches(schema, object, types) {
                rewrite_at(schema, rest, value, apply);
            }
        }
        FetchNodePathSegment::Key(key) => {
            if let Some(child) = object.get_mut(key) {
                rewrite_at(schema, rest, child, apply);
            }
        }
    }
}

/// Puts the entities a subgraph returned into every place that asked for them.
pub(super) fn merge_entities(
    schema: &ApiSchema,
    data: &mut Data,
    group: &EntityGroup,
    collected: &CollectedGroup,
    mut entities: Vec<Data>,
) {
    for entity in &mut entities {
        for rewrite in group.output_rewrites {
            apply_rewrite(schema, rewrite, entity);
        }
        // An `@interfaceObject` subgraph answers with the interface's name; the
        // concrete type already known must survive the merge.
        if let Data::Object(object) = entity
            && object
                .get("__typename")
                .and_then(Data::as_str)
                .is_some_and(|typename| schema.kind_of(typename) != Some(TypeKind::Object))
        {
            object.remove("__typename");
        }
    }
    let mut remaining_uses = vec![0usize; entities.len()];
    for index in collected.target_indices() {
        if let Some(uses) = remaining_uses.get_mut(index) {
            *uses += 1;
        }
    }
    // The last place an entity goes to takes it; the others get a copy. A place
    // that is not in the data (`placed` false) is only counted off.
    let mut entity_for = |index: usize, placed: bool| -> Option<Data> {
        let entity = entities.get_mut(index)?;
        remaining_uses[index] -= 1;
        let last = remaining_uses[index] == 0;
        let entity = match (placed, last) {
            (true, true) => entity.take(),
            (true, false) => entity.clone(),
            (false, true) => {
                *entity = Data::Null;
                return None;
            }
            (false, false) => return None,
        };
        (!entity.is_null()).then_some(entity)
    };
    for (_, index) in collected.targets.iter().filter(|(node, _)| *node == ROOT) {
        if let Some(entity) = entity_for(*index as usize, true) {
            deep_merge(data, entity);
        }
    }
    prefetch_collected(data, collected);
    merge_below(data, collected, 0..collected.nodes.len(), &mut entity_for);
}

/// Loads the places the collected paths lead to into the cache, level by level,
/// before [`merge_below`] walks them depth first (why: see [`prefetch_targets`]).
fn prefetch_collected(data: &Data, collected: &CollectedGroup) {
    // A parent's data and the range of path nodes below it.
    let mut level = vec![(data, 0..collected.nodes.len())];
    let mut next = Vec::new();
    while !level.is_empty() {
        for (parent, nodes) in level.drain(..) {
            let mut at = nodes.start;
            while at < nodes.end {
                let path_node = &collected.nodes[at];
                let end = path_node.end as usize;
                let child = match path_node.step {
                    PathStep::Key(key) => parent.get(key),
                    PathStep::Index(index) => parent.index(index),
                };
                if let Some(child) = child {
                    child.prefetch();
                    if at + 1 < end {
                        // The path node below is read at the next level.
                        prefetch_value(&collected.nodes[at + 1]);
                        next.push((child, at + 1..end));
                    }
                }
                at = end;
            }
        }
        std::mem::swap(&mut level, &mut next);
    }
}

/// Merges into `node` the entities of the path nodes in `nodes` (the subtrees of
/// `node`'s children, in depth-first order). Recursion goes as deep as the plan's
/// flatten path, as `visit_targets` does.
fn merge_below(
    node: &mut Data,
    collected: &CollectedGroup,
    nodes: std::ops::Range<usize>,
    entity_for: &mut dyn FnMut(usize, bool) -> Option<Data>,
) {
    let mut at = nodes.start;
    while at < nodes.end {
        let path_node = &collected.nodes[at];
        let end = path_node.end as usize;
        let child = match path_node.step {
            PathStep::Key(key) => node.get_mut(key),
            PathStep::Index(index) => node.index_mut(index),
        };
        match child {
            Some(child) => {
                for &(_, index) in &collected.targets[range(&path_node.targets)] {
                    if let Some(entity) = entity_for(index as usize, true) {
                        deep_merge(child, entity);
                    }
                }
                merge_below(child, collected, at + 1..end, entity_for);
            }
            // Nowhere to put them: they are only counted off.
            None => {
                let first = path_node.targets.start as usize;
                let last = collected.nodes[end - 1].targets.end as usize;
                for &(_, index) in &collected.targets[first..last.max(first)] {
                    entity_for(index as usize, false);
                }
            }
        }
        at = end;
    }
}

fn range(targets: &std::ops::Range<u32>) -> std::ops::Range<usize> {
    targets.start as usize..targets.end as usize
}

impl PathStep<'_> {
    fn same_as(&self, other: &PathStep) -> bool {
        match (self, other) {
            // Steps of one flatten path share the plan's strings: equal addresses, no byte compare.
            (PathStep::Key(one), PathStep::Key(other)) => {
                std::ptr::eq(*one, *other) || one == other
            }
            (PathStep::Index(one), PathStep::Index(other)) => one == other,
            _ => false,
        }
    }
}

/// Merges a subgraph's answer into the response tree.
pub(super) fn deep_merge(target: &mut Data, source: Data) {
    match (target, source) {
        (Data::Object(target), Data::Object(source)) => target.merge_with(source, deep_merge),
        (Data::List(target), Data::List(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                deep_merge(existing, value);
            }
        }
        // Another subgraph's data is never erased by a null.
        (target, Data::Null) if !target.is_null() => {}
        (target, source) => *target = source,
    }
}

pub(super) fn steps_to_path(steps: &[PathStep]) -> Vec<Value> {
    steps
        .iter()
        .map(|step| match step {
            PathStep::Key(key) => Value::String((*key).to_owned()),
            PathStep::Index(index) => Value::from(*index),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Data, deep_merge};

    #[test]
    fn deep_merge_joins_objects_and_lists_and_never_erases_with_null() {
        let mut target =
            Data::from(json!({"a": {"x": 1}, "list": [{"id": 1}, {"id": 2}], "kept": "yes"}));
        deep_merge(
            &mut target,
            Data::from(
                json!({"a": {"y": 2}, "list": [{"n": "one"}, {"n": "two"}], "kept": null, "new": true}),
            ),
        );
        assert_eq!(
            target.into_json(),
            json!({"a": {"x": 1, "y": 2}, "list": [{"id": 1, "n": "one"}, {"id": 2, "n": "two"}], "kept": "yes", "new": true})
        );
    }
}
