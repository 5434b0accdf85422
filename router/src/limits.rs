//! What one operation may cost, checked before the engine sees it: lexical
//! tokens (counted before parsing, so huge documents never reach the parser),
//! then selection depth, aliases and root fields on the parsed document.
//! Documents that passed are remembered by their text ([`CheckedDocuments`]),
//! so a repeated operation is neither counted nor parsed again.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;

use async_graphql_parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

use crate::config::RequestLimits;

/// A limit the document went over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitExceeded {
    /// The setting's name, as in `--max-depth`.
    pub limit: &'static str,
    pub max: usize,
    pub actual: usize,
}

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.limit {
            "max-tokens" => "tokens",
            "max-depth" => "levels of nesting",
            "max-aliases" => "aliases",
            _ => "root fields",
        };
        // `actual` may be a lower bound: counting stops once the limit is passed.
        write!(
            f,
            "The operation has too many {what}: the limit ({}) is {}",
            self.limit, self.max
        )?;
        if self.limit != "max-tokens" {
            write!(f, ", it has {}", self.actual)?;
        }
        Ok(())
    }
}

/// Checks the token count of the raw document text.
pub fn check_tokens(source: &str, limits: &RequestLimits) -> Result<(), LimitExceeded> {
    let tokens = count_tokens(source, limits.max_tokens.saturating_add(1));
    if tokens > limits.max_tokens {
        return Err(LimitExceeded {
            limit: "max-tokens",
            max: limits.max_tokens,
            actual: tokens,
        });
    }
    Ok(())
}

/// Checks depth, aliases and root fields of every operation in the document.
pub fn check_document(
    document: &ExecutableDocument,
    limits: &RequestLimits,
) -> Result<(), LimitExceeded> {
    let mut measure = Measure::new(document);
    let aliases = document
        .operations
        .iter()
        .map(|(_, op)| count_aliases(&op.node.selection_set.node))
        .sum::<usize>()
        + document
            .fragments
            .values()
            .map(|f| count_aliases(&f.node.selection_set.node))
            .sum::<usize>();
    if aliases > limits.max_aliases {
        return Err(LimitExceeded {
            limit: "max-aliases",
            max: limits.max_aliases,
            actual: aliases,
        });
    }
    for (_, operation) in document.operations.iter() {
        let selection_set = &operation.node.selection_set.node;
        let root_fields = measure.measure(Metric::RootFields, selection_set);
        if root_fields > limits.max_root_fields {
            return Err(LimitExceeded {
                limit: "max-root-fields",
                max: limits.max_root_fields,
                actual: root_fields,
            });
        }
        let depth = measure.measure(Metric::Depth, selection_set);
        if depth > limits.max_depth {
            return Err(LimitExceeded {
                limit: "max-depth",
                max: limits.max_depth,
                actual: depth,
            });
        }
    }
    Ok(())
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
}

/// Documents (by their text) that passed the limits, most recently used kept.
/// The limits are fixed for the life of the router, so a verdict never goes
/// stale; refused documents are not kept (they are checked again, and cost
/// the sender the work).
pub struct CheckedDocuments {
    passed: Mutex<LruCache<String, Arc<OperationTypes>>>,
}

impl CheckedDocuments {
    /// Remembers up to `capacity` documents (at least one).
    pub fn new(capacity: usize) -> CheckedDocuments {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        CheckedDocuments {
            passed: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// Checks `source` against `limits` (tokens, syntax, then the document's
    /// shape) unless it passed before, and answers its operations' types.
    pub fn check(
        &self,
        source: &str,
        limits: &RequestLimits,
    ) -> Result<Arc<OperationTypes>, Refusal> {
        if let Some(types) = self.lock().get(source) {
            return Ok(types.clone());
        }
        check_tokens(source, limits).map_err(Refusal::Limit)?;
        let document = async_graphql_parser::parse_query(source).map_err(Refusal::Syntax)?;
        check_document(&document, limits).map_err(Refusal::Limit)?;
        let types = Arc::new(OperationTypes::of(&document));
        self.lock().put(source.to_owned(), types.clone());
        Ok(types)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<OperationTypes>>> {
        // The cache holds no invariant a panicking holder could break.
        self.passed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn count_aliases(selection_set: &SelectionSet) -> usize {
    selection_set
        .items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some())
                    + count_aliases(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count_aliases(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .fold(0, usize::saturating_add)
}

/// What [`Measure`] computes over a selection set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Metric {
    Depth,
    RootFields,
}

/// Measures selection sets with fragments expanded. Results per fragment are
/// remembered, so fragments spread many times cost nothing extra; a fragment
/// spread inside itself (invalid, refused later by validation) counts as empty.
struct Measure<'a> {
    document: &'a ExecutableDocument,
    remembered: HashMap<(Metric, &'a str), usize>,
    visiting: HashSet<&'a str>,
}

impl<'a> Measure<'a> {
    fn new(document: &'a ExecutableDocument) -> Self {
        Self {
            document,
            remembered: HashMap::new(),
            visiting: HashSet::new(),
        }
    }

    fn measure(&mut self, metric: Metric, selection_set: &'a SelectionSet) -> usize {
        let mut result = 0usize;
        for selection in &selection_set.items {
            let value = match &selection.node {
                Selection::Field(field) => match metric {
                    Metric::Depth => 1 + self.measure(metric, &field.node.selection_set.node),
                    Metric::RootFields => 1,
                },
                Selection::InlineFragment(fragment) => {
                    self.measure(metric, &fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    self.spread(metric, spread.node.fragment_name.node.as_str())
                }
            };
            result = match metric {
                Metric::Depth => result.max(value),
                Metric::RootFields => result.saturating_add(value),
            };
        }
        result
    }

    fn spread(&mut self, metric: Metric, name: &str) -> usize {
        let document = self.document;
        let Some((key, definition)) = document.fragments.get_key_value(name) else {
            return 0;
        };
        let key = key.as_str();
        if let Some(value) = self.remembered.get(&(metric, key)) {
            return *value;
        }
        if !self.visiting.insert(key) {
            return 0;
        }
        let value = self.measure(metric, &definition.node.selection_set.node);
        self.visiting.remove(key);
        self.remembered.insert((metric, key), value);
        value
    }
}

/// Counts GraphQL lexical tokens (punctuators, names, numbers, strings),
/// skipping whitespace, commas and comments; stops counting at `stop_at`.
pub fn count_tokens(source: &str, stop_at: usize) -> usize {
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut count = 0;
    while i < bytes.len() && count < stop_at {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => {
                i += 3;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || c == b'-' => {
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RequestLimits {
        RequestLimits {
            max_body_bytes: 1 << 20,
            max_depth: 3,
            max_aliases: 2,
            max_root_fields: 2,
            max_tokens: 40,
        }
    }

    fn check(query: &str) -> Result<(), LimitExceeded> {
        check_tokens(query, &limits())?;
        let document = async_graphql_parser::parse_query(query).expect("test queries parse");
        check_document(&document, &limits())
    }

    #[test]
    fn tokens_are_counted_like_the_graphql_lexer() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(
            count_tokens("query Q($id: ID!) { a(id: $id, n: -1.5e3) { ...F } }", 100),
            25
        );
        assert_eq!(
            count_tokens("# comment { { {\n{ a(s: \"x { } \\\" y\") }", 100),
            8
        );
        assert_eq!(count_tokens("{ a(s: \"\"\" { \\\"\"\" } \"\"\") }", 100), 8);
        assert_eq!(count_tokens("{ a }{ a }{ a }", 4), 4);
    }

    #[test]
    fn documents_within_the_limits_pass() {
        check("{ a { b { c } } d: e }").expect("within limits");
        check("query { ...F } fragment F on Query { a { b } }").expect("within limits");
    }

    #[test]
    fn each_limit_names_itself_and_its_value() {
        let error = check("{ a { b { c { d } } } }").expect_err("too deep");
        assert_eq!((error.limit, error.max, error.actual), ("max-depth", 3, 4));
        assert_eq!(
            error.to_string(),
            "The operation has too many levels of nesting: the limit (max-depth) is 3, it has 4"
        );

        let error = check("{ a: x b: x c: x }").expect_err("too many aliases");
        assert_eq!((error.limit, error.actual), ("max-aliases", 3));

        let error = check("{ x y z }").expect_err("too many root fields");
        assert_eq!((error.limit, error.actual), ("max-root-fields", 3));

        let error = check(&format!("{{ {} }}", "x ".repeat(50))).expect_err("too many tokens");
        assert_eq!(error.limit, "max-tokens");
        assert!(
            error.to_string().contains("the limit (max-tokens) is 40"),
            "{error}"
        );
    }

    #[test]
    fn fragments_are_expanded_and_cycles_do_not_hang() {
        let error =
            check("{ ...A } fragment A on Q { a { ...B } } fragment B on Q { b { c { d } } }")
                .expect_err("deep");
        assert_eq!((error.limit, error.actual), ("max-depth", 4));
        let error = check("{ ...R } fragment R on Q { x y ... on Q { z } }").expect_err("wide");
        assert_eq!((error.limit, error.actual), ("max-root-fields", 3));
        check("{ ...A } fragment A on Q { a { ...A } }").expect("a cycle is left to validation");
    }

    #[test]
    fn checked_documents_are_remembered_and_refusals_are_not() {
        let checked = CheckedDocuments::new(2);
        let first = checked
            .check("query A { a } mutation B { b }", &limits())
            .expect("within limits");
        let again = checked
            .check("query A { a } mutation B { b }", &limits())
            .expect("still within limits");
        assert!(Arc::ptr_eq(&first, &again), "the verdict is remembered");
        assert_eq!(again.selected(Some("B")), Some(OperationType::Mutation));

        for _ in 0..2 {
            let refusal = checked
                .check("{ a { b { c { d } } } }", &limits())
                .expect_err("too deep, every time");
            assert!(
                matches!(&refusal, Refusal::Limit(error) if error.limit == "max-depth"),
                "{refusal:?}"
            );
            let refusal = checked
                .check(&format!("{{ {} }}", "x ".repeat(50)), &limits())
                .expect_err("too many tokens, every time");
            assert!(
                matches!(&refusal, Refusal::Limit(error) if error.limit == "max-tokens"),
                "{refusal:?}"
            );
            let refusal = checked.check("{ a ", &limits()).expect_err("bad syntax");
            assert!(matches!(refusal, Refusal::Syntax(_)), "{refusal:?}");
        }
    }

    #[test]
    fn checked_documents_forget_the_least_recently_used() {
        let checked = CheckedDocuments::new(1);
        let first = checked.check("{ a }", &limits()).expect("within limits");
        checked.check("{ b }", &limits()).expect("within limits");
        let again = checked.check("{ a }", &limits()).expect("within limits");
        assert!(!Arc::ptr_eq(&first, &again), "checked again after eviction");
        assert_eq!(*first, *again);
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
