//! What one operation may cost, checked before the engine sees it: lexical
//! tokens (counted before parsing, so huge documents never reach the parser),
//! then selection depth, aliases and root fields on the parsed document.

use std::collections::{HashMap, HashSet};

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
    let mut operations = document.operations.iter();
    match operation_name {
        Some(wanted) => operations
            .find(|(name, _)| name.is_some_and(|name| name.as_str() == wanted))
            .map(|(_, op)| op.node.ty),
        None if operations.len() == 1 => operations.next().map(|(_, op)| op.node.ty),
        None => None,
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
