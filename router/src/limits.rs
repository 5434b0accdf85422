//! What one operation may cost, checked before the engine sees it: lexical
//! tokens and bracket nesting (a flat pre-scan of the text, so huge or deep
//! documents never reach a parser, see [`crate::prescan`]), then on the parsed
//! document selection depth, aliases, root fields and the number of fields
//! selected once fragments are expanded.
//!
//! The document is never expanded: each fragment's measures are computed once,
//! in a topological order of the fragments (a fragment after every fragment it
//! spreads), and reused wherever it is spread. So `fragment F20 { ...F19 ...F19 }`
//! over twenty doublings costs twenty small steps, not a million fields, and a
//! fragment cycle is found without following it. Documents that passed are
//! remembered by their text ([`CheckedDocuments`]), so a repeated operation is
//! neither scanned nor parsed again.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;

use async_graphql_parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

use crate::config::RequestLimits;
use crate::prescan;

/// Each limit the router enforces on a request's text or document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Tokens,
    /// Brackets `{ [ (` in the text, and selection sets nested through fragment spreads.
    Nesting,
    /// Objects and arrays in a JSON body or parameter.
    JsonNesting,
    Depth,
    Aliases,
    RootFields,
    /// Fields selected, fragments expanded.
    Fields,
    /// Directives written in the document.
    Directives,
}

impl Limit {
    /// The setting's name, as in `--max-depth`.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Tokens => "max-tokens",
            Limit::Nesting => "max-nesting",
            Limit::JsonNesting => "max-json-nesting",
            Limit::Depth => "max-depth",
            Limit::Aliases => "max-aliases",
            Limit::RootFields => "max-root-fields",
            Limit::Fields => "max-fields",
            Limit::Directives => "max-directives",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Limit::Tokens => "The operation has too many tokens",
            Limit::Nesting => {
                "The operation nests too deeply (brackets, selections and fragment spreads)"
            }
            Limit::JsonNesting => "The JSON of the request nests too deeply",
            Limit::Depth => "The operation has too many levels of nesting",
            Limit::Aliases => "The operation has too many aliases",
            Limit::RootFields => "The operation has too many root fields",
            Limit::Fields => "The operation selects too many fields (fragments expanded)",
            Limit::Directives => "The document has too many directives",
        }
    }

    /// The `extensions.code` of the refusal. The limits that bound the work of
    /// merely reading a request have codes of their own; the others are
    /// validation failures, as they always were.
    pub fn code(self) -> &'static str {
        match self {
            Limit::Nesting | Limit::JsonNesting => "NESTING_TOO_DEEP",
            Limit::Fields => "TOO_MANY_FIELDS",
            Limit::Directives => "TOO_MANY_DIRECTIVES",
            Limit::Tokens | Limit::Depth | Limit::Aliases | Limit::RootFields => {
                "GRAPHQL_VALIDATION_FAILED"
            }
        }
    }

    /// Whether the refusal is a 400 whatever the media type: the request was
    /// refused for what reading it would cost, before it was treated as GraphQL.
    pub fn always_bad_request(self) -> bool {
        matches!(
            self,
            Limit::Nesting | Limit::JsonNesting | Limit::Fields | Limit::Directives
        )
    }
}

/// A limit the request went over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitExceeded {
    pub limit: Limit,
    pub max: usize,
    /// What was counted; a lower bound when `counting_stopped` (scans stop at the limit).
    pub actual: usize,
    pub counting_stopped: bool,
}

impl LimitExceeded {
    fn new(limit: Limit, max: usize, actual: usize) -> Self {
        Self {
            limit,
            max,
            actual,
            counting_stopped: false,
        }
    }

    /// Counting stopped as soon as `actual` passed `max`.
    pub(crate) fn at_least(limit: Limit, max: usize, actual: usize) -> Self {
        Self {
            counting_stopped: true,
            ..Self::new(limit, max, actual)
        }
    }
}

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the limit ({}) is {}",
            self.limit.what(),
            self.limit.name(),
            self.max
        )?;
        if !self.counting_stopped {
            write!(f, ", it has {}", self.actual)?;
        }
        Ok(())
    }
}

/// Checks the token count, bracket nesting and field selections of the raw document text.
pub fn check_text(source: &str, limits: &RequestLimits) -> Result<(), LimitExceeded> {
    prescan::scan_document(
        source,
        &prescan::DocumentLimits {
            max_tokens: limits.max_tokens,
            max_nesting: limits.max_nesting,
            max_fields: limits.max_fields,
            max_directives: limits.max_directives,
        },
    )
}

/// What checking a document found, besides its verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Selections (fields, spreads, inline fragments) looked at: each one of
    /// the document once, however often its fragment is spread.
    pub selections_visited: u64,
}

/// Checks nesting through fragments, depth, aliases, root fields and field
/// count of every operation in the document, in time linear in its size.
pub fn check_document(
    document: &ExecutableDocument,
    limits: &RequestLimits,
    work: &mut Work,
) -> Result<(), Refusal> {
    let fragments = summarise_fragments(document, work)?;
    let mut aliases = 0u64;
    for fragment in fragments.values() {
        aliases = aliases.saturating_add(fragment.aliases);
    }
    let mut operations = Vec::new();
    for (_, operation) in document.operations.iter() {
        let summary = summarise(&operation.node.selection_set.node, &fragments, work);
        aliases = aliases.saturating_add(summary.aliases);
        operations.push(summary);
    }
    let over = |limit: Limit, max: usize, actual: u64| {
        (actual > max as u64)
            .then(|| LimitExceeded::new(limit, max, usize::try_from(actual).unwrap_or(usize::MAX)))
    };
    // Every fragment is checked, spread or not: validation walks them all.
    for summary in fragments.values().chain(operations.iter()) {
        // One more level: the definition's own selection set.
        let nesting = summary.nesting.saturating_add(1);
        if let Some(error) = over(Limit::Nesting, limits.max_nesting, nesting) {
            return Err(Refusal::Limit(error));
        }
    }
    if let Some(error) = over(Limit::Aliases, limits.max_aliases, aliases) {
        return Err(Refusal::Limit(error));
    }
    for summary in &operations {
        let checks = [
            (
                Limit::RootFields,
                limits.max_root_fields,
                summary.root_fields,
            ),
            (Limit::Depth, limits.max_depth, summary.depth),
            (Limit::Fields, limits.max_fields, summary.fields),
        ];
        for (limit, max, actual) in checks {
            if let Some(error) = over(limit, max, actual) {
                return Err(Refusal::Limit(error));
            }
        }
    }
    Ok(())
}

/// The measures of a selection set with its fragments expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    /// Selection sets nested, a fragment spread counting as one more level.
    nesting: u64,
    /// Fields nested (what `--max-depth` limits).
    depth: u64,
    root_fields: u64,
    fields: u64,
    /// Aliases written in this selection set, not in fragments it spreads
    /// (aliases are counted in the text, each once).
    aliases: u64,
}

/// Summaries of every fragment, each computed once after the fragments it spreads.
/// A fragment that spreads itself, directly or not, is a validation error: it
/// is reported here because no order exists to measure it in.
fn summarise_fragments<'a>(
    document: &'a ExecutableDocument,
    work: &mut Work,
) -> Result<HashMap<&'a str, Summary>, Refusal> {
    // Kahn's algorithm over "fragment → fragments it spreads".
    let mut spread_by: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut waiting_on: HashMap<&str, usize> = HashMap::new();
    for (name, definition) in &document.fragments {
        let mut spreads = Vec::new();
        collect_spreads(&definition.node.selection_set.node, &mut spreads, work);
        spreads.sort_unstable();
        spreads.dedup();
        spreads.retain(|spread| document.fragments.contains_key(*spread));
        waiting_on.insert(name.as_str(), spreads.len());
        for spread in spreads {
            spread_by.entry(spread).or_default().push(name.as_str());
        }
    }
    let mut ready: Vec<&str> = waiting_on
        .iter()
        .filter(|(_, waiting)| **waiting == 0)
        .map(|(name, _)| *name)
        .collect();
    let mut summaries = HashMap::with_capacity(document.fragments.len());
    while let Some(name) = ready.pop() {
        let Some(definition) = document.fragments.get(name) else {
            continue;
        };
        let summary = summarise(&definition.node.selection_set.node, &summaries, work);
        summaries.insert(name, summary);
        for dependent in spread_by.get(name).into_iter().flatten() {
            if let Some(waiting) = waiting_on.get_mut(dependent) {
                *waiting -= 1;
                if *waiting == 0 {
                    ready.push(dependent);
                }
            }
        }
    }
    if summaries.len() < document.fragments.len() {
        // What is left waits on itself: fragments in (or spreading into) a cycle.
        let mut in_cycle: Vec<&str> = waiting_on
            .iter()
            .filter(|(_, waiting)| **waiting > 0)
            .map(|(name, _)| *name)
            .collect();
        in_cycle.sort_unstable();
        return Err(Refusal::FragmentCycle(
            in_cycle
                .first()
                .map(|name| (*name).to_owned())
                .unwrap_or_default(),
        ));
    }
    Ok(summaries)
}

/// Measures one selection set, using the summaries of the fragments it spreads.
/// The recursion follows selection sets written inside one definition, so its
/// depth is bounded by the bracket nesting the pre-scan allowed (`--max-nesting`).
fn summarise(
    selection_set: &SelectionSet,
    fragments: &HashMap<&str, Summary>,
    work: &mut Work,
) -> Summary {
    let mut summary = Summary::default();
    for selection in &selection_set.items {
        work.selections_visited += 1;
        let (child, own_level, is_field) = match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                summary.aliases += u64::from(field.alias.is_some());
                let child = summarise(&field.selection_set.node, fragments, work);
                let has_selections = !field.selection_set.node.items.is_empty();
                (child, u64::from(has_selections), true)
            }
            Selection::InlineFragment(fragment) => (
                summarise(&fragment.node.selection_set.node, fragments, work),
                1,
                false,
            ),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                // An unknown fragment is validation's to report; it selects nothing here.
                let child = fragments.get(name).copied().unwrap_or_default();
                // The fragment's aliases are counted once, in its own definition.
                let child = Summary {
                    aliases: 0,
                    ..child
                };
                (child, 1, false)
            }
        };
        summary.nesting = summary.nesting.max(child.nesting.saturating_add(own_level));
        summary.aliases = summary.aliases.saturating_add(child.aliases);
        if is_field {
            summary.depth = summary.depth.max(child.depth.saturating_add(1));
            summary.root_fields = summary.root_fields.saturating_add(1);
            summary.fields = summary
                .fields
                .saturating_add(child.fields)
                .saturating_add(1);
        } else {
            summary.depth = summary.depth.max(child.depth);
            summary.root_fields = summary.root_fields.saturating_add(child.root_fields);
            summary.fields = summary.fields.saturating_add(child.fields);
        }
    }
    summary
}

/// The names of the fragments spread anywhere in a selection set (recursion
/// bounded by the bracket nesting, as in [`summarise`]).
fn collect_spreads<'a>(
    selection_set: &'a SelectionSet,
    spreads: &mut Vec<&'a str>,
    work: &mut Work,
) {
    for selection in &selection_set.items {
        work.selections_visited += 1;
        match &selection.node {
            Selection::Field(field) => {
                collect_spreads(&field.node.selection_set.node, spreads, work)
            }
            Selection::InlineFragment(fragment) => {
                collect_spreads(&fragment.node.selection_set.node, spreads, work)
            }
            Selection::FragmentSpread(spread) => {
                spreads.push(spread.node.fragment_name.node.as_str())
            }
        }
    }
}

/// The type of the operation a request will run: the one named, or the only one.
/// `None` when that is ambiguous or the name is unknown (the engine reports those).
pub fn selected_operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    OperationTypes::of(document).selected(operation_name)
}

/// The operations of a document, by name, with their types: what the edge
/// still needs of a document once its limits are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationTypes(Vec<(Option<String>, OperationType)>);

impl OperationTypes {
    pub fn of(document: &ExecutableDocument) -> OperationTypes {
        OperationTypes(
            document
                .operations
                .iter()
                .map(|(name, op)| (name.map(|name| name.to_string()), op.node.ty))
                .collect(),
        )
    }

    /// See [`selected_operation_type`].
    pub fn selected(&self, operation_name: Option<&str>) -> Option<OperationType> {
        match operation_name {
            Some(wanted) => self
                .0
                .iter()
                .find(|(name, _)| name.as_deref() == Some(wanted))
                .map(|(_, ty)| *ty),
            None if self.0.len() == 1 => self.0.first().map(|(_, ty)| *ty),
            None => None,
        }
    }
}

/// Why a document was refused before the engine saw it.
#[derive(Debug)]
pub enum Refusal {
    Limit(LimitExceeded),
    Syntax(async_graphql_parser::Error),
    /// The named fragment spreads itself, directly or through others.
    FragmentCycle(String),
}

/// A document that passed the limits.
#[derive(Debug)]
pub struct CheckedDocument {
    pub operation_types: OperationTypes,
    /// The parsed document, for what the edge measures per request (its cost).
    pub document: ExecutableDocument,
}

/// Documents (by their text) that passed the limits, most recently used kept.
/// The limits are fixed for the life of the router, so a verdict never goes
/// stale; refused documents are not kept (they are checked again, and cost
/// the sender the work).
pub struct CheckedDocuments {
    passed: Mutex<LruCache<String, Arc<CheckedDocument>>>,
}

impl CheckedDocuments {
    /// Remembers up to `capacity` documents (at least one).
    pub fn new(capacity: usize) -> CheckedDocuments {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        CheckedDocuments {
            passed: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// Checks `source` against `limits` (the text's pre-scan, syntax, then the
    /// document's shape) unless it passed before; `work` counts what it took.
    pub fn check(
        &self,
        source: &str,
        limits: &RequestLimits,
        work: &mut Work,
    ) -> Result<Arc<CheckedDocument>, Refusal> {
        if let Some(checked) = self.lock().get(source) {
            return Ok(checked.clone());
        }
        check_text(source, limits).map_err(Refusal::Limit)?;
        let document = async_graphql_parser::parse_query(source).map_err(Refusal::Syntax)?;
        check_document(&document, limits, work)?;
        let checked = Arc::new(CheckedDocument {
            operation_types: OperationTypes::of(&document),
            document,
        });
        self.lock().put(source.to_owned(), checked.clone());
        Ok(checked)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<CheckedDocument>>> {
        // The cache holds no invariant a panicking holder could break.
        self.passed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RequestLimits {
        RequestLimits {
            max_depth: 3,
            max_aliases: 2,
            max_root_fields: 2,
            max_tokens: 40,
            max_nesting: 6,
            max_fields: 8,
            ..RequestLimits::default()
        }
    }

    fn check_with(query: &str, limits: &RequestLimits) -> Result<Work, LimitExceeded> {
        check_text(query, limits)?;
        let document = async_graphql_parser::parse_query(query).expect("test queries parse");
        let mut work = Work::default();
        match check_document(&document, limits, &mut work) {
            Ok(()) => Ok(work),
            Err(Refusal::Limit(error)) => Err(error),
            Err(other) => panic!("{query}: {other:?}"),
        }
    }

    fn check(query: &str) -> Result<Work, LimitExceeded> {
        check_with(query, &limits())
    }

    #[test]
    fn documents_within_the_limits_pass() {
        check("{ a { b { c } } d: e }").expect("within limits");
        check("query { ...F } fragment F on Query { a { b } }").expect("within limits");
    }

    #[test]
    fn each_limit_names_itself_and_its_value() {
        let error = check("{ a { b { c { d } } } }").expect_err("too deep");
        assert_eq!((error.limit, error.max, error.actual), (Limit::Depth, 3, 4));
        assert_eq!(
            error.to_string(),
            "The operation has too many levels of nesting: the limit (max-depth) is 3, it has 4"
        );

        let error = check("{ a: x b: x c: x }").expect_err("too many aliases");
        assert_eq!((error.limit, error.actual), (Limit::Aliases, 3));

        let error = check("{ x y z }").expect_err("too many root fields");
        assert_eq!((error.limit, error.actual), (Limit::RootFields, 3));

        let error =
            check(&format!("{{ x(list: [{}]) }}", "1 ".repeat(50))).expect_err("too many tokens");
        assert_eq!(error.limit, Limit::Tokens);
        assert_eq!(
            error.to_string(),
            "The operation has too many tokens: the limit (max-tokens) is 40"
        );

        let error = check("{ a { b c d e f g h i } }").expect_err("too many fields");
        assert_eq!((error.limit, error.actual), (Limit::Fields, 9));
        assert_eq!(error.limit.code(), "TOO_MANY_FIELDS");

        let error = check("{ a(x: [[[[[[1]]]]]]) }").expect_err("too deep");
        assert_eq!((error.limit, error.max), (Limit::Nesting, 6));
        assert_eq!(error.limit.code(), "NESTING_TOO_DEEP");
    }

    #[test]
    fn fragments_are_expanded_and_cycles_are_refused() {
        let error =
            check("{ ...A } fragment A on Q { a { ...B } } fragment B on Q { b { c { d } } }")
                .expect_err("deep");
        assert_eq!((error.limit, error.actual), (Limit::Depth, 4));
        let error = check("{ ...R } fragment R on Q { x y ... on Q { z } }").expect_err("wide");
        assert_eq!((error.limit, error.actual), (Limit::RootFields, 3));
        let document = async_graphql_parser::parse_query(
            "{ ...A } fragment A on Q { a { ...B } } fragment B on Q { ...A }",
        )
        .expect("parses");
        let refusal = check_document(&document, &limits(), &mut Work::default())
            .expect_err("a cycle has no size");
        assert!(
            matches!(&refusal, Refusal::FragmentCycle(name) if name == "A"),
            "{refusal:?}"
        );
    }

    #[test]
    fn spreads_count_as_nesting_so_fragment_chains_stay_shallow() {
        let chain: String = (0..10)
            .map(|i| format!("fragment F{i} on Q {{ ...F{} }} ", i + 1))
            .collect();
        let query = format!("{{ ...F0 }} {chain} fragment F10 on Q {{ a }}");
        let generous = RequestLimits {
            max_tokens: 10_000,
            ..limits()
        };
        let error = check_with(&query, &generous).expect_err("eleven spreads deep");
        assert_eq!(error.limit, Limit::Nesting);
    }

    #[test]
    fn doubling_fragments_are_counted_without_expanding_them() {
        let mut query = String::from("query { me { ...F20 } } fragment F0 on User { id name }");
        for i in 1..=20 {
            query.push_str(&format!(
                " fragment F{i} on User {{ ...F{} ...F{} }}",
                i - 1,
                i - 1
            ));
        }
        let limits = RequestLimits {
            max_tokens: 10_000,
            max_nesting: 40,
            ..limits()
        };
        let error = check_with(&query, &limits).expect_err("two million fields");
        assert_eq!(error.limit, Limit::Fields);
        assert_eq!(error.actual, 1 + 2 * (1 << 20));
        // Every selection of the text once when collecting spreads, once when measuring.
        let mut work = Work::default();
        let document = async_graphql_parser::parse_query(&query).expect("parses");
        let _ = check_document(&document, &limits, &mut work);
        assert!(work.selections_visited <= 2 * 45, "{work:?}");
    }

    #[test]
    fn checked_documents_are_remembered_and_refusals_are_not() {
        let checked = CheckedDocuments::new(2);
        let mut work = Work::default();
        let first = checked
            .check("query A { a } mutation B { b }", &limits(), &mut work)
            .expect("within limits");
        let again = checked
            .check("query A { a } mutation B { b }", &limits(), &mut work)
            .expect("still within limits");
        assert!(Arc::ptr_eq(&first, &again), "the verdict is remembered");
        assert_eq!(
            again.operation_types.selected(Some("B")),
            Some(OperationType::Mutation)
        );

        for _ in 0..2 {
            let refusal = checked
                .check("{ a { b { c { d } } } }", &limits(), &mut work)
                .expect_err("too deep, every time");
            assert!(
                matches!(&refusal, Refusal::Limit(error) if error.limit == Limit::Depth),
                "{refusal:?}"
            );
            let refusal = checked
                .check(
                    &format!("{{ x(list: [{}]) }}", "1 ".repeat(50)),
                    &limits(),
                    &mut work,
                )
                .expect_err("too many tokens, every time");
            assert!(
                matches!(&refusal, Refusal::Limit(error) if error.limit == Limit::Tokens),
                "{refusal:?}"
            );
            let refusal = checked
                .check("{ a ", &limits(), &mut work)
                .expect_err("bad syntax");
            assert!(matches!(refusal, Refusal::Syntax(_)), "{refusal:?}");
        }
    }

    #[test]
    fn checked_documents_forget_the_least_recently_used() {
        let checked = CheckedDocuments::new(1);
        let mut work = Work::default();
        let first = checked.check("{ a }", &limits(), &mut work).expect("ok");
        checked.check("{ b }", &limits(), &mut work).expect("ok");
        let again = checked.check("{ a }", &limits(), &mut work).expect("ok");
        assert!(!Arc::ptr_eq(&first, &again), "checked again after eviction");
        assert_eq!(first.operation_types, again.operation_types);
    }

    #[test]
    fn the_selected_operation_type_is_found() {
        let document =
            async_graphql_parser::parse_query("query A { a } mutation B { b }").expect("parses");
        assert_eq!(
            selected_operation_type(&document, Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            selected_operation_type(&document, Some("A")),
            Some(OperationType::Query)
        );
        assert_eq!(selected_operation_type(&document, None), None);
        let document = async_graphql_parser::parse_query("mutation { b }").expect("parses");
        assert_eq!(
            selected_operation_type(&document, None),
            Some(OperationType::Mutation)
        );
    }
}
