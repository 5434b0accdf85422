//! `@defer`, streamed: the incremental delivery format Apollo Router and
//! GraphiQL speak (`multipart/mixed; deferSpec=20220824`). Clients mark slow
//! parts of a query with `@defer`; the router answers the rest at once and each
//! deferred fragment as soon as its own fetches finish.
//!
//! The query planner has no `@defer` support (it never emits a `DeferNode`), so
//! the router splits the operation itself, on the text of the checked document:
//! the *primary* operation is the original with every deferred fragment turned
//! off (`@defer` replaced by `@skip(if: true)`), and each deferred fragment gets
//! an operation of its own, the original with that fragment's `@defer` removed
//! and the others turned off. All of them are planned and executed at the same
//! time; the primary's answer is the initial payload, and each deferred
//! operation's answer, cut down to the fragment's fields at the fragment's
//! path(s), is one incremental payload. A deferred operation repeats the fetches
//! on the way to its fragment (in-flight deduplication shares the identical ones).
//!
//! Only queries are split (a mutation must run once). `@defer` nested in a
//! deferred fragment is delivered with its parent, which the format allows.
//! Clients that do not accept multipart get the whole response, with every
//! `@defer` removed. A document without the text `@defer` costs one substring search.

use async_graphql_parser::Positioned;
use async_graphql_parser::types::{
    ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql_value::Value as GqlValue;
use serde_json::{Map, Value};

/// The boundary of our multipart responses (Apollo Router's).
pub const BOUNDARY: &str = "-";
/// The response content type of a streamed answer.
pub const CONTENT_TYPE: &str = "multipart/mixed; boundary=\"-\"; deferSpec=20220824";

/// Whether the client takes incremental delivery: `multipart/mixed` in `Accept`
/// (with `deferSpec=20220824`, or no spec, as GraphiQL's fetcher sends it).
pub fn accepts_multipart(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media_type = parts.next().unwrap_or_default();
            let spec_ok = parts
                .filter_map(|param| param.split_once('='))
                .filter(|(name, _)| name.trim().eq_ignore_ascii_case("deferSpec"))
                .all(|(_, value)| value.trim().trim_matches('"') == "20220824");
            media_type.eq_ignore_ascii_case("multipart/mixed") && spec_ok
        })
    })
}

/// Whether the document may defer anything (a cheap test before any work).
pub fn mentions_defer(query: &str) -> bool {
    query.contains("@defer")
}

/// One step of a path in the response.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
}

/// One deferred fragment: where its directive is, where it applies, what it selects.
#[derive(Debug, Clone)]
pub struct Deferred {
    /// Byte range of the `@defer(...)` directive in the document's text.
    span: (usize, usize),
    pub label: Option<String>,
    /// Response paths (keys from the root) of the selection sets the fragment is in.
    paths: Vec<Vec<Step>>,
    /// Response keys the fragment selects (through nested fragments).
    keys: Vec<String>,
    /// The query that runs this fragment (and everything on its way).
    pub query: String,
}

/// A query split for incremental delivery.
#[derive(Debug, Clone)]
pub struct Split {
    /// The query without any deferred fragment.
    pub primary: String,
    pub deferred: Vec<Deferred>,
}

/// A `@defer` directive found in the operation, before the split.
struct Found {
    span: (usize, usize),
    label: Option<String>,
    /// False when `if:` turned it off, or it is nested in a deferred fragment.
    active: bool,
    path: Vec<Step>,
    keys: Vec<String>,
}

/// Splits `query` (whose parsed form is `document`) for incremental delivery.
/// `None` when there is nothing to defer (no active `@defer`), the operation is
/// not a query, or the document's text could not be mapped (then the caller
/// serves it whole: every `@defer` is only a hint).
pub fn split(
    query: &str,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: Option<&Map<String, Value>>,
) -> Option<Split> {
    let operation = crate::demand_control::select_operation(document, operation_name)?;
    let found = find_defers(query, document, operation, variables)?;
    if operation.ty != OperationType::Query || !found.iter().any(|found| found.active) {
        return None;
    }
    let top_level: Vec<&Found> = found.iter().filter(|found| found.active).collect();
    let turn_off = |except: Option<(usize, usize)>| {
        rewrite(
            query,
            found.iter().map(|other| {
                let off = other.active && Some(other.span) != except;
                (other.span, if off { "@skip(if: true)" } else { "" })
            }),
        )
    };
    let primary = turn_off(None);
    // One deferred entry per directive, with every path it was reached by.
    let mut deferred: Vec<Deferred> = Vec::new();
    for found in top_level {
        if let Some(existing) = deferred.iter_mut().find(|d| d.span == found.span) {
            if !existing.paths.contains(&found.path) {
                existing.paths.push(found.path.clone());
            }
            continue;
        }
        deferred.push(Deferred {
            span: found.span,
            label: found.label.clone(),
            paths: vec![found.path.clone()],
            keys: found.keys.clone(),
            query: turn_off(Some(found.span)),
        });
    }
    Some(Split { primary, deferred })
}

/// The document without `@defer` at all, for clients that take one response;
/// `None` when the document has none.
pub fn without_defer(query: &str, document: &ExecutableDocument) -> Option<String> {
    let spans = all_defer_spans(query, document)?;
    (!spans.is_empty()).then(|| rewrite(query, spans.into_iter().map(|span| (span, ""))))
}

fn rewrite<'a>(query: &str, edits: impl Iterator<Item = ((usize, usize), &'a str)>) -> String {
    let mut edits: Vec<((usize, usize), &str)> = edits.collect();
    edits.sort_by_key(|(span, _)| span.0);
    edits.dedup_by_key(|(span, _)| span.0);
    let mut out = String::with_capacity(query.len() + edits.len() * 16);
    let mut at = 0;
    for ((start, end), replacement) in edits {
        out.push_str(&query[at..start]);
        out.push_str(replacement);
        at = end;
    }
    out.push_str(&query[at..]);
    out
}

/// Every `@defer` of the document (operations and fragments), as text spans.
fn all_defer_spans(query: &str, document: &ExecutableDocument) -> Option<Vec<(usize, usize)>> {
    let lines = LineStarts::new(query);
    let mut spans = Vec::new();
    let mut stack: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| &fragment.node.selection_set.node),
        )
        .collect();
    while let Some(set) = stack.pop() {
        for item in &set.items {
            let (directives, inner) = match &item.node {
                Selection::Field(field) => {
                    (&field.node.directives, Some(&field.node.selection_set.node))
                }
                Selection::FragmentSpread(spread) => (&spread.node.directives, None),
                Selection::InlineFragment(fragment) => (
                    &fragment.node.directives,
                    Some(&fragment.node.selection_set.node),
                ),
            };
            for directive in directives {
                if directive.node.name.node.as_str() == "defer" {
                    spans.push(lines.directive_span(query, directive.pos)?);
                }
            }
            stack.extend(inner);
        }
    }
    Some(spans)
}

/// Walks the operation (fragment spreads expanded; the document passed the limits,
/// so the expansion is bounded) with an explicit stack, noting each `@defer`.
fn find_defers(
    query: &str,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: Option<&Map<String, Value>>,
) -> Option<Vec<Found>> {
    let lines = LineStarts::new(query);
    let mut found = Vec::new();
    // (selection set, response path, inside a deferred fragment)
    let mut stack: Vec<(&SelectionSet, Vec<Step>, bool)> =
        vec![(&operation.selection_set.node, Vec::new(), false)];
    // Bounds the walk whatever the document: the limits already bound it far below this.
    let mut budget: usize = 100_000;
    while let Some((set, path, deferred)) = stack.pop() {
        for item in &set.items {
            budget = budget.checked_sub(1)?;
            // A fragment (spread or inline) is where a `@defer` may stand.
            let (set, directives) = match &item.node {
                Selection::Field(field) => {
                    let mut inner = path.clone();
                    inner.push(Step::Key(field.node.response_key().node.to_string()));
                    stack.push((&field.node.selection_set.node, inner, deferred));
                    continue;
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = document.fragments.get(&spread.node.fragment_name.node)?;
                    (&fragment.node.selection_set.node, &spread.node.directives)
                }
                Selection::InlineFragment(fragment) => {
                    (&fragment.node.selection_set.node, &fragment.node.directives)
                }
            };
            let defer = defer_directive(directives, variables);
            let now_deferred = deferred || defer.as_ref().is_some_and(|(_, _, on)| *on);
            if let Some((pos, label, enabled)) = defer {
                found.push(Found {
                    span: lines.directive_span(query, pos)?,
                    label,
                    active: enabled && !deferred,
                    path: path.clone(),
                    keys: response_keys(document, set)?,
                });
            }
            stack.push((set, path.clone(), now_deferred));
        }
    }
    // Directives in fragments the operation does not use are removed too.
    for span in all_defer_spans(query, document)? {
        if !found.iter().any(|found| found.span == span) {
            found.push(Found {
                span,
                label: None,
                active: false,
                path: Vec::new(),
                keys: Vec::new(),
            });
        }
    }
    Some(found)
}

/// `@defer` among `directives`: its position, label, and whether `if:` leaves it on.
fn defer_directive(
    directives: &[Positioned<async_graphql_parser::types::Directive>],
    variables: Option<&Map<String, Value>>,
) -> Option<(async_graphql_parser::Pos, Option<String>, bool)> {
    let directive = directives
        .iter()
        .find(|directive| directive.node.name.node.as_str() == "defer")?;
    let label = match directive
        .node
        .get_argument("label")
        .map(|value| &value.node)
    {
        Some(GqlValue::String(label)) => Some(label.clone()),
        _ => None,
    };
    let enabled = match directive.node.get_argument("if").map(|value| &value.node) {
        None => true,
        Some(GqlValue::Boolean(on)) => *on,
        Some(GqlValue::Variable(name)) => variables
            .and_then(|variables| variables.get(name.as_str()))
            .is_none_or(|value| value.as_bool() != Some(false)),
        Some(_) => true,
    };
    Some((directive.pos, label, enabled))
}

/// The response keys a fragment's selection set selects, through nested fragments.
fn response_keys(document: &ExecutableDocument, set: &SelectionSet) -> Option<Vec<String>> {
    let mut keys: Vec<String> = Vec::new();
    let mut stack = vec![set];
    let mut budget: usize = 100_000;
    while let Some(set) = stack.pop() {
        for item in &set.items {
            budget = budget.checked_sub(1)?;
            match &item.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.to_string();
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = document.fragments.get(&spread.node.fragment_name.node)?;
                    stack.push(&fragment.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    stack.push(&fragment.node.selection_set.node);
                }
            }
        }
    }
    Some(keys)
}

/// Byte offsets of line starts, to turn the parser's line/column positions into offsets.
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let bytes = text.as_bytes();
        for (index, byte) in bytes.iter().enumerate() {
            match byte {
                b'\n' => starts.push(index + 1),
                b'\r' if bytes.get(index + 1) != Some(&b'\n') => starts.push(index + 1),
                _ => {}
            }
        }
        Self(starts)
    }

    /// The byte range of the directive at `pos` (`@defer` and its arguments),
    /// checked against the text; `None` when the text there is not `@defer`.
    fn directive_span(&self, text: &str, pos: async_graphql_parser::Pos) -> Option<(usize, usize)> {
        let line_start = *self.0.get(pos.line.checked_sub(1)?)?;
        let line = &text[line_start..];
        // The column counts characters from 1.
        let offset = line
            .char_indices()
            .nth(pos.column.checked_sub(1)?)
            .map(|(offset, _)| line_start + offset)?;
        let rest = &text[offset..];
        if !rest.starts_with("@defer") {
            return None;
        }
        let mut end = offset + "@defer".len();
        // Optional arguments, after ignored tokens.
        let after = skip_ignored(text, end);
        if text[after..].starts_with('(') {
            end = matching_paren(text, after)? + 1;
        }
        Some((offset, end))
    }
}

/// The offset of the next token after whitespace, commas and comments.
fn skip_ignored(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    while at < bytes.len() {
        match bytes[at] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => at += 1,
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
                    at += 1;
                }
            }
            _ => break,
        }
    }
    at
}

/// The offset of the `)` closing the `(` at `open`, skipping strings and comments.
fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = open;
    while at < bytes.len() {
        match bytes[at] {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at);
                }
            }
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
                    at += 1;
                }
                continue;
            }
            b'"' if text[at..].starts_with("\"\"\"") => {
                at += 3;
                loop {
                    if at >= bytes.len() {
                        return None;
                    }
                    if text[at..].starts_with("\\\"\"\"") {
                        at += 4;
                    } else if text[at..].starts_with("\"\"\"") {
                        at += 3;
                        break;
                    } else {
                        at += 1;
                    }
                }
                continue;
            }
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// The incremental items of one deferred fragment, from its operation's answer.
pub fn incremental_items(
    deferred: &Deferred,
    data: Option<&Value>,
    errors: &[crate::engine::GraphQLError],
) -> Vec<Value> {
    let mut items = Vec::new();
    if let Some(data) = data {
        for path in &deferred.paths {
            // (value, concrete path) pairs, lists expanded with their indices.
            let mut current: Vec<(&Value, Vec<Value>)> = vec![(data, Vec::new())];
            for Step::Key(key) in path {
                let mut next = Vec::new();
                for (value, at) in current {
                    let Some(child) = value.get(key) else {
                        continue;
                    };
                    let mut at = at.clone();
                    at.push(Value::from(key.as_str()));
                    expand_lists(child, at, &mut next);
                }
                current = next;
            }
            for (value, at) in current {
                let Value::Object(object) = value else {
                    continue;
                };
                let selected: Map<String, Value> = deferred
                    .keys
                    .iter()
                    .filter_map(|key| object.get(key).map(|value| (key.clone(), value.clone())))
                    .collect();
                if selected.is_empty() {
                    // Another type than the fragment's condition: nothing of it applies here.
                    continue;
                }
                let mut item = Map::new();
                item.insert("data".to_owned(), Value::Object(selected));
                item.insert("path".to_owned(), Value::Array(at.clone()));
                if let Some(label) = &deferred.label {
                    item.insert("label".to_owned(), Value::from(label.as_str()));
                }
                let mine: Vec<&crate::engine::GraphQLError> = errors
                    .iter()
                    .filter(|error| {
                        error
                            .path
                            .as_ref()
                            .is_some_and(|path| path.len() > at.len() && path.starts_with(&at))
                    })
                    .collect();
                if !mine.is_empty() {
                    item.insert(
                        "errors".to_owned(),
                        serde_json::to_value(mine).unwrap_or_default(),
                    );
                }
                items.push(Value::Object(item));
            }
        }
    }
    // Errors not under any item (a subgraph that failed whole, null bubbling past
    // the fragment) go with the first item, or one item of their own.
    let placed = |error: &crate::engine::GraphQLError| {
        items.iter().any(|item| {
            item["path"].as_array().is_some_and(|at| {
                error
                    .path
                    .as_ref()
                    .is_some_and(|path| path.len() > at.len() && path.starts_with(at))
            })
        })
    };
    let unplaced: Vec<Value> = errors
        .iter()
        .filter(|error| !placed(error))
        .filter_map(|error| serde_json::to_value(error).ok())
        .collect();
    if !unplaced.is_empty() {
        match items.first_mut() {
            Some(Value::Object(item)) => {
                let list = item
                    .entry("errors")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = list {
                    list.extend(unplaced);
                }
            }
            _ => {
                let path: Vec<Value> = deferred
                    .paths
                    .first()
                    .map(|path| {
                        path.iter()
                            .map(|Step::Key(key)| Value::from(key.as_str()))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut item =
                    serde_json::json!({ "data": null, "path": path, "errors": unplaced });
                if let Some(label) = &deferred.label {
                    item["label"] = Value::from(label.as_str());
                }
                items.push(item);
            }
        }
    }
    items
}

fn expand_lists<'a>(value: &'a Value, at: Vec<Value>, out: &mut Vec<(&'a Value, Vec<Value>)>) {
    // Lists of lists are expanded level by level with an explicit stack.
    let mut stack = vec![(value, at)];
    while let Some((value, at)) = stack.pop() {
        match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate().rev() {
                    let mut at = at.clone();
                    at.push(Value::from(index));
                    stack.push((item, at));
                }
            }
            other => out.push((other, at)),
        }
    }
}

/// One part of the multipart body: its headers and JSON, then the delimiter
/// that closes it, so that a parser can hand the part over at once (the close
/// delimiter after the last part). The first part is preceded by [`OPENING`].
pub fn part(json: &Value, has_next: bool) -> bytes::Bytes {
    let close = if has_next {
        format!("\r\n--{BOUNDARY}")
    } else {
        format!("\r\n--{BOUNDARY}--\r\n")
    };
    bytes::Bytes::from(format!(
        "\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{json}{close}"
    ))
}

/// The delimiter before the first part.
pub const OPENING: &str = "\r\n---";

#[cfg(test)]
mod tests {
    use super::*;

    fn split_of(query: &str) -> Option<Split> {
        let document = async_graphql_parser::parse_query(query).expect("parses");
        split(query, &document, None, None)
    }

    #[test]
    fn a_deferred_fragment_is_turned_off_in_the_primary_and_alone_in_its_own_query() {
        let query = "{ hello ... @defer(label: \"slow\") { gated } }";
        let split = split_of(query).expect("splits");
        assert_eq!(split.primary, "{ hello ... @skip(if: true) { gated } }");
        let document = async_graphql_parser::parse_query(query).expect("parses");
        // What clients without multipart get.
        assert_eq!(
            without_defer(query, &document).as_deref(),
            Some("{ hello ...  { gated } }")
        );
        assert_eq!(split.deferred.len(), 1);
        let deferred = &split.deferred[0];
        assert_eq!(deferred.query, "{ hello ...  { gated } }");
        assert_eq!(deferred.label.as_deref(), Some("slow"));
        let data = serde_json::json!({ "hello": "h", "gated": "g" });
        assert_eq!(
            incremental_items(deferred, Some(&data), &[]),
            vec![serde_json::json!({ "data": { "gated": "g" }, "path": [], "label": "slow" })]
        );
    }

    #[test]
    fn nested_lists_fragments_and_conditions() {
        let query = "query Q($later: Boolean!) {\n  me { tasks { items { id ...Slow @defer } } }\n  other: me { id ... @defer(if: $later) { name } }\n}\nfragment Slow on Task { title ... @defer { owner } }";
        let document = async_graphql_parser::parse_query(query).expect("parses");
        let off = serde_json::json!({ "later": false });
        let split = split(query, &document, None, off.as_object()).expect("splits");
        assert_eq!(
            split.deferred.len(),
            1,
            "if: false and nested defers are not split"
        );
        assert!(!split.primary.contains("@defer") && !split.deferred[0].query.contains("@defer"));
        assert!(split.primary.contains("...Slow @skip(if: true)"));
        let data = serde_json::json!({ "me": { "tasks": { "items": [
            { "id": 1, "title": "a", "owner": "x" }, { "id": 2, "title": "b", "owner": "y" }
        ] } } });
        let items = incremental_items(&split.deferred[0], Some(&data), &[]);
        assert_eq!(
            items,
            vec![
                serde_json::json!({ "data": { "title": "a", "owner": "x" }, "path": ["me", "tasks", "items", 0] }),
                serde_json::json!({ "data": { "title": "b", "owner": "y" }, "path": ["me", "tasks", "items", 1] }),
            ]
        );
    }

    #[test]
    fn mutations_and_documents_without_active_defer_are_not_split() {
        assert!(split_of("mutation { shout(text: \"x\") ... @defer { a } }").is_none());
        assert!(split_of("{ hello ... @defer(if: false) { a } }").is_none());
        let query = "{ a ... @defer(label: \"has ) paren\", if: true) { b } }";
        let split = split_of(query).expect("splits");
        assert_eq!(split.primary, "{ a ... @skip(if: true) { b } }");
    }

    #[test]
    fn multipart_is_recognised_in_accept() {
        assert!(accepts_multipart(Some(
            "multipart/mixed;deferSpec=20220824, application/json"
        )));
        assert!(accepts_multipart(Some("application/json, multipart/mixed")));
        assert!(!accepts_multipart(Some("multipart/mixed;deferSpec=1999")));
        assert!(!accepts_multipart(Some("application/json")));
        assert!(!accepts_multipart(None));
    }
}
