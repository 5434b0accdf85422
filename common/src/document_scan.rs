//! Linear, non-recursive checks of untrusted GraphQL documents and JSON, run
//! before any recursive parser sees them. async-graphql's parser recurses once
//! per nesting level and aborted the process (`stack overflow`) at ~1,560
//! levels; its validation expands fragments and compares fields pairwise. So a
//! document is first scanned byte by byte (tokens and bracket nesting, strings,
//! block strings and comments skipped), and only a document within bounds is
//! parsed, after which the fields it selects are counted with every fragment
//! counted once (fragment doubling stays linear).

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use clap::Args;

/// What a document may hold, checked before it is parsed and validated.
#[derive(Debug, Clone, Args)]
pub struct GraphqlLimits {
    /// Deepest nesting of `{`, `[` and `(` in a GraphQL document, and of arrays and
    /// objects in a request's JSON (body, variables).
    #[arg(
        long = "max-nesting",
        env = "GRAPHQL_MAX_NESTING",
        default_value_t = GraphqlLimits::DEFAULT.max_nesting
    )]
    pub max_nesting: usize,

    /// Most lexical tokens in a GraphQL document.
    #[arg(
        long = "max-document-tokens",
        env = "GRAPHQL_MAX_DOCUMENT_TOKENS",
        default_value_t = GraphqlLimits::DEFAULT.max_tokens
    )]
    pub max_tokens: usize,

    /// Most fields an operation selects with its fragments expanded (counted without
    /// expanding them).
    #[arg(
        long = "max-selected-fields",
        env = "GRAPHQL_MAX_SELECTED_FIELDS",
        default_value_t = GraphqlLimits::DEFAULT.max_fields
    )]
    pub max_fields: usize,

    /// Most directives on one field (async-graphql's own check, after the scan).
    #[arg(
        long = "max-directives",
        env = "GRAPHQL_MAX_DIRECTIVES",
        default_value_t = GraphqlLimits::DEFAULT.max_directives
    )]
    pub max_directives: usize,

    /// Most errors in one response; the rest are summed up in a last error.
    #[arg(
        long = "max-errors",
        env = "GRAPHQL_MAX_ERRORS",
        default_value_t = GraphqlLimits::DEFAULT.max_errors,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_errors: usize,

    /// Longest error message, in bytes: messages that quote the client's input are cut there.
    #[arg(
        long = "max-error-message-bytes",
        env = "GRAPHQL_MAX_ERROR_MESSAGE_BYTES",
        default_value_t = GraphqlLimits::DEFAULT.max_error_message_bytes
    )]
    pub max_error_message_bytes: usize,
}

impl GraphqlLimits {
    /// Far above any operation our router or clients send (GraphiQL's
    /// introspection query nests 17 deep, has ~1,300 tokens and selects ~550
    /// fields once expanded) and far below what hurts.
    pub const DEFAULT: GraphqlLimits = GraphqlLimits {
        max_nesting: 64,
        max_tokens: 15_000,
        max_fields: 5_000,
        max_directives: 16,
        max_errors: 100,
        max_error_message_bytes: 1_024,
    };

    /// Depth limit given to async-graphql's validation (a second line behind
    /// the scan: selection depth is at most the bracket nesting).
    pub fn selection_depth(&self) -> usize {
        self.max_nesting
    }

    /// async-graphql's own limits, set on a subgraph schema: selection depth,
    /// complexity (one per field, so the field limit), the depth its validation
    /// recurses to, and directives per field.
    pub fn apply<Q, M, S>(
        &self,
        builder: async_graphql::SchemaBuilder<Q, M, S>,
    ) -> async_graphql::SchemaBuilder<Q, M, S> {
        let builder = builder
            .limit_depth(self.selection_depth())
            .limit_complexity(self.max_fields)
            .limit_recursive_depth(self.max_nesting)
            .limit_directives(self.max_directives);
        // Spans of the operation and of each resolver that is not a scalar or enum field,
        // only when traces are exported (crate::telemetry): otherwise they would cost.
        if crate::telemetry::enabled() {
            builder.extension(async_graphql::extensions::Tracing)
        } else {
            builder
        }
    }
}

impl Default for GraphqlLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a document or JSON value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Nested deeper than `max` (the count stops right past it).
    TooDeep { max: usize },
    /// More than `max` tokens.
    TooManyTokens { max: usize },
    /// Selects more than `max` fields once fragments are expanded.
    TooManyFields { max: usize },
    /// A fragment spreads itself, directly or not: it has no finite size.
    FragmentCycle,
}

impl Refusal {
    /// The `extensions.code` of the refusal: the codes the router gives the
    /// same refusals, so a client reads one vocabulary from every service.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::TooDeep { .. } => "NESTING_TOO_DEEP",
            Refusal::TooManyFields { .. } => "TOO_MANY_FIELDS",
            Refusal::TooManyTokens { .. } | Refusal::FragmentCycle => "GRAPHQL_VALIDATION_FAILED",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooDeep { max } => write!(f, "The request is nested deeper than {max} levels"),
            Refusal::TooManyTokens { max } => {
                write!(f, "The document has more than {max} tokens")
            }
            Refusal::TooManyFields { max } => write!(
                f,
                "The operation selects more than {max} fields once its fragments are expanded"
            ),
            Refusal::FragmentCycle => write!(f, "A fragment spreads itself"),
        }
    }
}

/// Scans a GraphQL document's text: bracket nesting and token count, in one
/// pass, stopping as soon as a limit is passed.
pub fn scan_document(source: &str, limits: &GraphqlLimits) -> Result<(), Refusal> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut tokens = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        tokens += 1;
        if tokens > limits.max_tokens {
            return Err(Refusal::TooManyTokens {
                max: limits.max_tokens,
            });
        }
        match byte {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(Refusal::TooDeep {
                        max: limits.max_nesting,
                    });
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => i = skip_block_string(bytes, i + 3),
            b'"' => i = skip_string(bytes, i + 1),
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            _ if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' => {
                // A name or a number (with its sign, fraction and exponent) is one token.
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
            }
            // Punctuators and anything the parser will refuse anyway.
            _ => i += 1,
        }
    }
    Ok(())
}

/// The index just past the string whose content starts at `i`.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            // An unterminated string ends at the line; the parser reports it.
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    i
}

/// The index just past the block string whose content starts at `i`.
fn skip_block_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\\\"\"\"") {
            i += 4;
        } else if bytes[i..].starts_with(b"\"\"\"") {
            return i + 3;
        } else {
            i += 1;
        }
    }
    i
}

/// Scans JSON text for nesting deeper than `max_nesting`, strings skipped.
/// Other mistakes are left to the JSON parser.
pub fn scan_json(source: &[u8], max_nesting: usize) -> Result<(), Refusal> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < source.len() {
        match source[i] {
            b'[' | b'{' => {
                depth += 1;
                if depth > max_nesting {
                    return Err(Refusal::TooDeep { max: max_nesting });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                i += 1;
                while i < source.len() && source[i] != b'"' {
                    i += if source[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Counts the fields each operation of `document` selects with its fragments
/// expanded, computing each fragment's count once; refuses past `max_fields`.
/// Selection sets are walked with an explicit stack, fragments in dependency
/// order, so neither the document's depth nor its fragments recurse.
pub fn count_fields(document: &ExecutableDocument, max_fields: usize) -> Result<(), Refusal> {
    // Each fragment: its own fields and the fragments it spreads (with multiplicity).
    let mut own: HashMap<&str, (usize, Vec<&str>)> = HashMap::new();
    for (name, fragment) in &document.fragments {
        own.insert(
            name.as_str(),
            direct_counts(&fragment.node.selection_set.node),
        );
    }
    // Sizes, resolved in dependency order (Kahn-style, iterating until stable).
    let mut size: HashMap<&str, usize> = HashMap::new();
    let mut progress = true;
    while progress && size.len() < own.len() {
        progress = false;
        for (name, (fields, spreads)) in &own {
            if size.contains_key(name) {
                continue;
            }
            let mut total = *fields;
            let mut ready = true;
            for spread in spreads {
                match size.get(spread) {
                    Some(spread_size) => total = total.saturating_add(*spread_size),
                    // An unknown fragment is the validator's to report.
                    None if !own.contains_key(spread) => {}
                    None => {
                        ready = false;
                        break;
                    }
                }
            }
            if ready {
                size.insert(name, total);
                progress = true;
            }
        }
    }
    if size.len() < own.len() {
        return Err(Refusal::FragmentCycle);
    }
    for fragment_size in size.values() {
        if *fragment_size > max_fields {
            return Err(Refusal::TooManyFields { max: max_fields });
        }
    }
    for (_, operation) in document.operations.iter() {
        let (fields, spreads) = direct_counts(&operation.node.selection_set.node);
        let total = spreads.iter().fold(fields, |total, spread| {
            total.saturating_add(size.get(spread).copied().unwrap_or(0))
        });
        if total > max_fields {
            return Err(Refusal::TooManyFields { max: max_fields });
        }
    }
    Ok(())
}

/// The fields of a selection set (inline fragments included, at any depth)
/// and the named fragments it spreads, one entry per spread.
fn direct_counts(selection_set: &SelectionSet) -> (usize, Vec<&str>) {
    let mut fields = 0usize;
    let mut spreads = Vec::new();
    let mut stack = vec![selection_set];
    while let Some(set) = stack.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    fields += 1;
                    stack.push(&field.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    spreads.push(spread.node.fragment_name.node.as_str());
                }
                Selection::InlineFragment(inline) => {
                    stack.push(&inline.node.selection_set.node);
                }
            }
        }
    }
    (fields, spreads)
}

/// Runs every check on a document: the scan, then (only when it passed) the
/// parse and the field count. A document that does not parse is left to the
/// executor, which reports it properly.
pub fn check_document(source: &str, limits: &GraphqlLimits) -> Result<(), Refusal> {
    scan_document(source, limits)?;
    match async_graphql::parser::parse_query(source) {
        Ok(document) => count_fields(&document, limits.max_fields),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> GraphqlLimits {
        GraphqlLimits::default()
    }

    #[test]
    fn deep_lists_objects_and_selections_are_refused_without_parsing() {
        let deep_list = format!(
            "{{ task(id: {}1{}) {{ id }} }}",
            "[".repeat(16_000),
            "]".repeat(16_000)
        );
        assert_eq!(
            scan_document(&deep_list, &limits()),
            Err(Refusal::TooDeep { max: 64 })
        );
        let deep_object = format!("{{ a(x: {}) }}", "{a:".repeat(16_000));
        assert_eq!(
            scan_document(&deep_object, &limits()),
            Err(Refusal::TooDeep { max: 64 })
        );
        let deep_selection = format!("{}{}", "{ a ".repeat(100), "}".repeat(100));
        assert_eq!(
            scan_document(&deep_selection, &limits()),
            Err(Refusal::TooDeep { max: 64 })
        );
    }

    #[test]
    fn brackets_in_strings_block_strings_and_comments_do_not_count() {
        let hidden = "[".repeat(1_000);
        let source = format!(
            "# {hidden}\n{{ a(s: \"{hidden}\\\"{hidden}\", b: \"\"\"{hidden}\\\"\"\"{hidden}\"\"\") }}"
        );
        assert_eq!(scan_document(&source, &limits()), Ok(()));
    }

    #[test]
    fn tokens_are_counted() {
        let source = format!("{{ me {{ {} }} }}", "id ".repeat(20_000));
        assert_eq!(
            scan_document(&source, &limits()),
            Err(Refusal::TooManyTokens { max: 15_000 })
        );
        assert_eq!(
            scan_document("{ a(x: -1.5e3, y: \"s\") { ...F } }", &limits()),
            Ok(())
        );
    }

    #[test]
    fn deep_json_is_refused_and_strings_are_skipped() {
        let deep = format!("{{\"v\": {}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            scan_json(deep.as_bytes(), 64),
            Err(Refusal::TooDeep { max: 64 })
        );
        let quoted = format!(
            "{{\"v\": \"{}\\\"{}\"}}",
            "[".repeat(1_000),
            "{".repeat(1_000)
        );
        assert_eq!(scan_json(quoted.as_bytes(), 64), Ok(()));
    }

    #[test]
    fn fragment_doubling_is_counted_without_expanding() {
        let mut source = String::from("query { me { ...F200 } }\nfragment F0 on User { id }\n");
        for level in 1..=200 {
            source.push_str(&format!(
                "fragment F{level} on User {{ ...F{prev} ...F{prev} }}\n",
                prev = level - 1
            ));
        }
        let document = async_graphql::parser::parse_query(&source).expect("parses");
        assert_eq!(
            count_fields(&document, 5_000),
            Err(Refusal::TooManyFields { max: 5_000 })
        );
        let small = async_graphql::parser::parse_query(
            "{ me { ...A ... on User { x } } } fragment A on User { a ...B ...B } fragment B on User { b c }",
        )
        .expect("parses");
        // me, x, a, 2 × (b, c)
        assert_eq!(count_fields(&small, 7), Ok(()));
        assert_eq!(
            count_fields(&small, 6),
            Err(Refusal::TooManyFields { max: 6 })
        );
    }

    #[test]
    fn fragment_cycles_are_refused() {
        let document = async_graphql::parser::parse_query(
            "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }",
        )
        .expect("parses");
        assert_eq!(count_fields(&document, 5_000), Err(Refusal::FragmentCycle));
    }
}
