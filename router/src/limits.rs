//! What one operation may cost, checked before the engine sees it, with the
//! router's settings ([`RequestLimits`]): lexical tokens, bracket nesting,
//! fields and directives of the text (a flat pre-scan, so huge or deep
//! documents never reach a parser), then on the parsed document nesting
//! through fragment spreads, selection depth, aliases, root fields and the
//! number of fields selected once fragments are expanded. The checks
//! themselves are the ones every subgraph runs too, in
//! [`common::document_scan`]; documents that passed are remembered by their
//! text ([`CheckedDocuments`]), so a repeated operation is neither scanned nor
//! parsed again.

use std::sync::Arc;

use moka::sync::Cache;

use async_graphql_parser::types::{ExecutableDocument, OperationType};
use common::document_scan::{self, ShapeLimits, TextLimits};

pub use common::document_scan::{Limit, LimitExceeded, Work};

use crate::config::RequestLimits;

/// Checks the token count, bracket nesting, field selections and directives of the raw document text.
pub fn check_text(source: &str, limits: &RequestLimits) -> Result<(), LimitExceeded> {
    document_scan::scan_text(
        source,
        &TextLimits {
            max_tokens: limits.max_tokens,
            max_nesting: limits.max_nesting,
            max_fields: limits.max_fields,
            max_directives: limits.max_directives,
        },
    )
}

/// Checks nesting through fragments, depth, aliases, root fields and field
/// count of every operation in the document, in time linear in its size.
pub fn check_document(
    document: &ExecutableDocument,
    limits: &RequestLimits,
    work: &mut Work,
) -> Result<(), Refusal> {
    let limits = ShapeLimits {
        max_nesting: limits.max_nesting,
        max_depth: limits.max_depth,
        max_aliases: limits.max_aliases,
        max_root_fields: limits.max_root_fields,
        max_fields: limits.max_fields,
    };
    document_scan::check_shape(document, &limits, work).map_err(|refusal| match refusal {
        document_scan::Refusal::Limit(error) => Refusal::Limit(error),
        document_scan::Refusal::FragmentCycle(name) => Refusal::FragmentCycle(name),
    })
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

    /// The type of the operation a request will run: the one named, or the only one.
    /// `None` when that is ambiguous or the name is unknown (the engine reports those).
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

/// Documents (by their text) that passed the limits, least recently used dropped first.
/// The limits are fixed for the life of the router, so a verdict never goes
/// stale; refused documents are not kept (they are checked again, and cost
/// the sender the work).
pub struct CheckedDocuments {
    passed: Cache<String, Arc<CheckedDocument>>,
}

impl CheckedDocuments {
    /// Remembers up to `capacity` documents (at least one).
    pub fn new(capacity: usize) -> CheckedDocuments {
        let capacity = u64::try_from(capacity.max(1)).unwrap_or(u64::MAX);
        CheckedDocuments {
            passed: Cache::builder()
                .max_capacity(capacity)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
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
        if let Some(checked) = self.passed.get(source) {
            return Ok(checked);
        }
        check_text(source, limits).map_err(Refusal::Limit)?;
        let document = async_graphql_parser::parse_query(source).map_err(Refusal::Syntax)?;
        check_document(&document, limits, work)?;
        let checked = Arc::new(CheckedDocument {
            operation_types: OperationTypes::of(&document),
            document,
        });
        self.passed.insert(source.to_owned(), checked.clone());
        Ok(checked)
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
        // The cache applies its capacity in batches; this test wants it applied now.
        checked.passed.run_pending_tasks();
        let again = checked.check("{ a }", &limits(), &mut work).expect("ok");
        assert!(!Arc::ptr_eq(&first, &again), "checked again after eviction");
        assert_eq!(first.operation_types, again.operation_types);
    }

    #[test]
    fn the_selected_operation_type_is_found() {
        let types = |query: &str| {
            OperationTypes::of(&async_graphql_parser::parse_query(query).expect("parses"))
        };
        let document = types("query A { a } mutation B { b }");
        assert_eq!(document.selected(Some("B")), Some(OperationType::Mutation));
        assert_eq!(document.selected(Some("A")), Some(OperationType::Query));
        assert_eq!(document.selected(None), None);
        assert_eq!(document.selected(Some("C")), None);
        assert_eq!(
            types("mutation { b }").selected(None),
            Some(OperationType::Mutation)
        );
    }
}
