//! The one set of checks every TaskTracker GraphQL endpoint (the router and
//! each subgraph) runs on untrusted documents and JSON before, and right after,
//! a parser sees them.
//!
//! Every GraphQL parser we use (async-graphql-parser, graphql-tools) and every
//! walker after it recurses once per level of nesting: a 3 KB document such as
//! `{ task(id: [[[…1,600 levels…]]]) { id } }` used to overflow a worker's
//! stack and abort the whole process, and validation expands fragments and
//! compares fields pairwise. So:
//!
//! * [`scan_text`] is a flat loop over a document's bytes: it counts lexical
//!   tokens, the nesting of `{ [ (` (outside strings, block strings and
//!   comments), the field selections and the directives written in the text,
//!   and stops at the first limit passed;
//! * [`scan_json`] does the same for the nesting of `{ [` in JSON (a body, a
//!   GET `variables` or `extensions` parameter);
//! * [`check_shape`] measures a parsed document (nesting through fragment
//!   spreads, field depth, aliases, root fields, fields selected once fragments
//!   are expanded) without expanding it: each fragment is measured once, in a
//!   topological order (a fragment after every fragment it spreads), so
//!   `fragment F20 { ...F19 ...F19 }` over twenty doublings costs twenty small
//!   steps, not a million fields, and a fragment cycle is found without
//!   following it.
//!
//! Only text that passed the scan reaches recursive code, whose depth is then
//! bounded by the scan's nesting limit. The router sets every limit
//! (`router::config::RequestLimits`); subgraphs set theirs with
//! [`GraphqlLimits`] and leave the others unbounded.

use std::collections::HashMap;

use async_graphql_parser::types::{ExecutableDocument, Selection, SelectionSet};
use clap::Args;

use crate::config::at_least_one;

/// What a document may hold, checked before it is parsed and validated.
#[derive(Debug, Clone, Args)]
pub struct GraphqlLimits {
    /// Deepest nesting of `{`, `[` and `(` in a GraphQL document, and of arrays and
    /// objects in a request's JSON (body, variables).
    #[arg(long = "max-nesting", alias = "max-json-nesting")]
    #[arg(env = "GRAPHQL_MAX_NESTING", default_value_t = Self::DEFAULT.max_nesting)]
    pub max_nesting: usize,

    /// Most lexical tokens in a GraphQL document.
    #[arg(long = "max-document-tokens", alias = "max-tokens")]
    #[arg(env = "GRAPHQL_MAX_DOCUMENT_TOKENS", default_value_t = Self::DEFAULT.max_tokens)]
    pub max_tokens: usize,

    /// Most fields an operation selects with its fragments expanded (counted without
    /// expanding them).
    #[arg(long = "max-selected-fields", alias = "max-fields")]
    #[arg(env = "GRAPHQL_MAX_SELECTED_FIELDS", default_value_t = Self::DEFAULT.max_fields)]
    pub max_fields: usize,

    /// Most directives on one field (async-graphql's own check, after the scan).
    #[arg(long = "max-directives")]
    #[arg(env = "GRAPHQL_MAX_DIRECTIVES", default_value_t = Self::DEFAULT.max_directives)]
    pub max_directives: usize,

    /// Most errors in one response; the rest are summed up in a last error.
    #[arg(long = "max-errors", value_parser = at_least_one::<usize>())]
    #[arg(env = "GRAPHQL_MAX_ERRORS", default_value_t = Self::DEFAULT.max_errors)]
    pub max_errors: usize,

    /// Longest error message, in bytes: messages that quote the client's input are cut there.
    #[arg(long = "max-error-message-bytes")]
    #[arg(env = "GRAPHQL_MAX_ERROR_MESSAGE_BYTES", default_value_t = Self::DEFAULT.max_error_message_bytes)]
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
}

impl Default for GraphqlLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl GraphqlLimits {
    /// What a subgraph scans in a document's text: tokens and nesting. Fields
    /// are counted on the parsed document ([`count_fields`]) and directives per
    /// field by async-graphql, so the text counts of those are not bounded.
    pub fn text_limits(&self) -> TextLimits {
        TextLimits {
            max_tokens: self.max_tokens,
            max_nesting: self.max_nesting,
            max_fields: usize::MAX,
            max_directives: usize::MAX,
        }
    }
}

/// Each limit a document, its text or a request's JSON can go over.
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
    /// The setting's name, as in `--max-depth` (subgraphs accept the same names
    /// for the limits they have).
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

    /// The `extensions.code` of the refusal, the same from every service. The
    /// limits that bound the work of merely reading a request have codes of
    /// their own; the others are validation failures, as they always were.
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
    /// `actual` was counted in full.
    pub fn new(limit: Limit, max: usize, actual: usize) -> Self {
        Self {
            limit,
            max,
            actual,
            counting_stopped: false,
        }
    }

    /// Counting stopped as soon as `actual` passed `max`.
    pub fn at_least(limit: Limit, max: usize, actual: usize) -> Self {
        Self {
            counting_stopped: true,
            ..Self::new(limit, max, actual)
        }
    }

    /// The `extensions.code` of the refusal.
    pub fn code(&self) -> &'static str {
        self.limit.code()
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

impl std::error::Error for LimitExceeded {}

/// Why a parsed document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Limit(LimitExceeded),
    /// The named fragment spreads itself, directly or through others: it has no finite size.
    FragmentCycle(String),
}

impl Refusal {
    /// The `extensions.code` of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Limit(error) => error.code(),
            Refusal::FragmentCycle(_) => "GRAPHQL_VALIDATION_FAILED",
        }
    }
}

impl From<LimitExceeded> for Refusal {
    fn from(error: LimitExceeded) -> Self {
        Refusal::Limit(error)
    }
}

/// The longest fragment name an error message quotes (names come from the client).
const MAX_QUOTED_NAME: usize = 64;

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Limit(error) => error.fmt(f),
            Refusal::FragmentCycle(name) => {
                let name: String = name.chars().take(MAX_QUOTED_NAME).collect();
                write!(f, "Cannot spread fragment \"{name}\" within itself.")
            }
        }
    }
}

/// What the scan of a document's text may find (`usize::MAX`: not bounded).
#[derive(Debug, Clone, Copy)]
pub struct TextLimits {
    pub max_tokens: usize,
    pub max_nesting: usize,
    /// Field selections written in the text (an operation selects at least
    /// those of its own text, fragments expanded): refusing here spares
    /// parsing a document such as `{ me { id id id … } }` at all.
    pub max_fields: usize,
    /// Directives written in the text: each unknown one is an error of its own,
    /// so 5,000 of them in 25 KB used to draw 657 KB of errors.
    pub max_directives: usize,
}

/// How a bracket was opened: a selection set's `{` holds fields, every other
/// bracket (arguments, variable definitions, list and object values) holds values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opened {
    Selections,
    Values,
}

/// Checks the token count, bracket nesting, field selections and directives of
/// a GraphQL document's text, in one pass, stopping at the first limit passed.
pub fn scan_text(source: &str, limits: &TextLimits) -> Result<(), LimitExceeded> {
    let mut lexer = Lexer::new(source);
    let mut tokens = 0usize;
    let mut fields = 0usize;
    let mut directives = 0usize;
    // Bounded by `max_nesting`: the scan stops before it grows past it.
    let mut open: Vec<Opened> = Vec::new();
    // The two tokens before this one (first byte, and whether it was the name `on`).
    let mut before: [(u8, bool); 2] = [(b' ', false); 2];
    while let Some(token) = lexer.next_token() {
        tokens += 1;
        count_within(Limit::Tokens, limits.max_tokens, tokens)?;
        let in_selections = open.last() == Some(&Opened::Selections);
        let (first, start) = token;
        match first {
            b'{' | b'[' | b'(' => {
                let opened =
                    if first == b'{' && open.last().is_none_or(|o| *o == Opened::Selections) {
                        Opened::Selections
                    } else {
                        Opened::Values
                    };
                open.push(opened);
                count_within(Limit::Nesting, limits.max_nesting, open.len())?;
            }
            // An unbalanced closing bracket is the parser's to report.
            b'}' | b']' | b')' => {
                open.pop();
            }
            b'@' => {
                directives += 1;
                count_within(Limit::Directives, limits.max_directives, directives)?;
            }
            // `alias: field`: the name before was an alias, not a field of its own.
            b':' if in_selections => fields = fields.saturating_sub(1),
            c if in_selections && (c.is_ascii_alphabetic() || c == b'_') => {
                let after_spread = before[0].0 == b'.';
                let type_condition = before[0].1 && before[1].0 == b'.';
                let directive = before[0].0 == b'@';
                if !(after_spread || type_condition || directive) {
                    fields += 1;
                    count_within(Limit::Fields, limits.max_fields, fields)?;
                }
            }
            _ => {}
        }
        let is_on = &source.as_bytes()[start..lexer.i] == b"on";
        before = [(first, is_on), before[0]];
    }
    Ok(())
}

/// A running count against its maximum: the scan stops as soon as the count
/// passes it, so the count reported is a lower bound.
fn count_within(limit: Limit, max: usize, count: usize) -> Result<(), LimitExceeded> {
    if count > max {
        Err(LimitExceeded::at_least(limit, max, count))
    } else {
        Ok(())
    }
}

/// Checks how deeply objects and arrays nest in a JSON text (a request body or
/// a GET `variables`/`extensions` parameter) before serde_json builds it.
/// Malformed JSON is not reported here: the JSON parser says what is wrong.
pub fn scan_json(text: &[u8], max_nesting: usize) -> Result<(), LimitExceeded> {
    let (mut nesting, mut i) = (0usize, 0usize);
    while i < text.len() {
        match text[i] {
            b'"' => {
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' => {
                nesting += 1;
                if nesting > max_nesting {
                    return Err(LimitExceeded::at_least(
                        Limit::JsonNesting,
                        max_nesting,
                        nesting,
                    ));
                }
            }
            b'}' | b']' => nesting = nesting.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The GraphQL lexer, reduced to what the scans need: where each token starts.
struct Lexer<'a> {
    bytes: &'a [u8],
    i: usize,
}

impl<'a> Lexer<'a> {
    fn new(source: &'a str) -> Self {
        Self {
            bytes: source.as_bytes(),
            i: 0,
        }
    }

    /// The first byte of the next token and where it starts, `None` at the end
    /// (the token ends where `self.i` is left).
    fn next_token(&mut self) -> Option<(u8, usize)> {
        let bytes = self.bytes;
        loop {
            let first = *bytes.get(self.i)?;
            match first {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => self.i += 1,
                0xEF if bytes[self.i..].starts_with(&[0xEF, 0xBB, 0xBF]) => self.i += 3,
                b'#' => {
                    while self.i < bytes.len() && bytes[self.i] != b'\n' && bytes[self.i] != b'\r' {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
        let first = bytes[self.i];
        let start = self.i;
        let i = &mut self.i;
        match first {
            b'"' if bytes[*i..].starts_with(b"\"\"\"") => {
                *i += 3;
                while *i < bytes.len() && !bytes[*i..].starts_with(b"\"\"\"") {
                    *i += if bytes[*i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                *i += 3;
            }
            b'"' => {
                *i += 1;
                while *i < bytes.len() && bytes[*i] != b'"' && bytes[*i] != b'\n' {
                    *i += if bytes[*i] == b'\\' { 2 } else { 1 };
                }
                *i += 1;
            }
            b'.' if bytes[*i..].starts_with(b"...") => *i += 3,
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while *i < bytes.len() && (bytes[*i].is_ascii_alphanumeric() || bytes[*i] == b'_') {
                    *i += 1;
                }
            }
            c if c.is_ascii_digit() || c == b'-' => {
                *i += 1;
                while *i < bytes.len()
                    && (bytes[*i].is_ascii_alphanumeric()
                        || matches!(bytes[*i], b'.' | b'+' | b'-'))
                {
                    *i += 1;
                }
            }
            _ => *i += 1,
        }
        // Unterminated strings run to the end, never past it.
        *i = (*i).min(bytes.len());
        Some((first, start))
    }
}

/// What a parsed document may select (`usize::MAX`: not bounded).
#[derive(Debug, Clone, Copy)]
pub struct ShapeLimits {
    /// Selection sets nested, a fragment spread counting as one more level.
    pub max_nesting: usize,
    /// Fields nested.
    pub max_depth: usize,
    /// Aliases written in the document.
    pub max_aliases: usize,
    /// Fields at an operation's root, fragments expanded.
    pub max_root_fields: usize,
    /// Fields an operation selects, fragments expanded.
    pub max_fields: usize,
}

impl ShapeLimits {
    /// No limit at all: set the ones wanted.
    pub const UNBOUNDED: ShapeLimits = ShapeLimits {
        max_nesting: usize::MAX,
        max_depth: usize::MAX,
        max_aliases: usize::MAX,
        max_root_fields: usize::MAX,
        max_fields: usize::MAX,
    };
}

/// What checking a document's shape took, besides its verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Selections (fields, spreads, inline fragments) looked at: each one of
    /// the document once, however often its fragment is spread.
    pub selections_visited: u64,
}

/// Checks nesting through fragments, depth, aliases, root fields and field
/// count of every operation in the document, in time linear in its size.
/// The document's text must have passed [`scan_text`]'s nesting limit: the
/// walk recurses once per selection set written inside another.
pub fn check_shape(
    document: &ExecutableDocument,
    limits: &ShapeLimits,
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
    /// Fields nested (what `max_depth` limits).
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
/// depth is bounded by the bracket nesting the text scan allowed.
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

/// A subgraph's scan of a document's text ([`GraphqlLimits::text_limits`]).
pub fn scan_document(source: &str, limits: &GraphqlLimits) -> Result<(), Refusal> {
    scan_text(source, &limits.text_limits()).map_err(Refusal::Limit)
}

/// A subgraph's check of a parsed document: the fields each operation selects
/// with its fragments expanded (each fragment counted once), and fragment
/// cycles. Its text must have passed [`scan_document`].
pub fn count_fields(document: &ExecutableDocument, max_fields: usize) -> Result<(), Refusal> {
    let limits = ShapeLimits {
        max_fields,
        ..ShapeLimits::UNBOUNDED
    };
    check_shape(document, &limits, &mut Work::default())
}

/// Runs every check of a subgraph on a document: the scan, then (only when it
/// passed) the parse and the field count. A document that does not parse is
/// left to the executor, which reports it properly.
pub fn check_document(source: &str, limits: &GraphqlLimits) -> Result<(), Refusal> {
    scan_document(source, limits)?;
    match async_graphql_parser::parse_query(source) {
        Ok(document) => count_fields(&document, limits.max_fields),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the lexer's tokens (punctuators, names, numbers, strings),
    /// skipping whitespace, commas and comments; stops counting at `stop_at`.
    fn count_tokens(source: &str, stop_at: usize) -> usize {
        let mut lexer = Lexer::new(source);
        let mut count = 0;
        while count < stop_at && lexer.next_token().is_some() {
            count += 1;
        }
        count
    }

    fn graphql_limits() -> GraphqlLimits {
        GraphqlLimits::default()
    }

    fn text_limits(max_tokens: usize, max_nesting: usize) -> TextLimits {
        TextLimits {
            max_tokens,
            max_nesting,
            max_fields: 1_000,
            max_directives: 50,
        }
    }

    /// The limit a refusal names, and its maximum.
    fn limit_of(refusal: Result<(), Refusal>) -> Option<(Limit, usize)> {
        match refusal {
            Err(Refusal::Limit(error)) => Some((error.limit, error.max)),
            _ => None,
        }
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
        assert_eq!(count_tokens("", 4), 0);
    }

    #[test]
    fn field_selections_are_counted_in_the_text() {
        let scan = |query: &str, max_fields| {
            scan_text(
                query,
                &TextLimits {
                    max_tokens: 1_000,
                    max_nesting: 100,
                    max_fields,
                    max_directives: 1,
                },
            )
        };
        // a, b, c: not the alias, the spread, the type condition, the directive,
        // argument names or object fields of values.
        let query = "query Q($v: In = {x: 1}) { x: a(k: {y: 1, z: [{w: 2}]}) @skip(if: false) { ...F ... on T { b } } c } fragment F on T { d }";
        scan(query, 4).expect("four fields");
        let error = scan(query, 3).expect_err("four fields");
        assert_eq!((error.limit, error.actual), (Limit::Fields, 4));
        let error = scan_text(
            &format!("{{ me {{ {} }} }}", "id ".repeat(10_000)),
            &text_limits(100_000, 100),
        )
        .expect_err("ten thousand");
        assert_eq!(error.limit, Limit::Fields);
    }

    #[test]
    fn directives_are_counted_outside_strings() {
        scan_text(
            "{ a @skip(if: false) b(s: \"@@@@\") }",
            &text_limits(100, 10),
        )
        .expect("one directive");
        let many: String = (0..51).map(|i| format!("@d{i} ")).collect();
        let error = scan_text(&format!("{{ a {many} }}"), &text_limits(1_000, 10))
            .expect_err("51 directives");
        assert_eq!((error.limit, error.max), (Limit::Directives, 50));
    }

    #[test]
    fn nesting_counts_every_bracket_outside_strings_and_comments() {
        scan_text("{ a(x: [[1]]) { b } }", &text_limits(100, 4)).expect("four levels");
        let error =
            scan_text("{ a(x: [[[1]]]) { b } }", &text_limits(100, 4)).expect_err("five levels");
        assert_eq!(
            (error.limit, error.max, error.actual),
            (Limit::Nesting, 4, 5)
        );
        scan_text(
            "# {{{{{{\n{ a(s: \"{{{{{{\", t: \"\"\"[[[[[[\"\"\") }",
            &text_limits(100, 2),
        )
        .expect("brackets in strings and comments do not nest");
        let error = scan_text("{ a b c d }", &text_limits(3, 100)).expect_err("tokens");
        assert_eq!(error.limit, Limit::Tokens);
    }

    #[test]
    fn a_deep_document_is_refused_without_reading_it_all() {
        let deep = format!(
            "{{ task(id: {}1{}) {{ id }} }}",
            "[".repeat(16_000),
            "]".repeat(16_000)
        );
        let error = scan_text(&deep, &text_limits(1_000_000, 40)).expect_err("too deep");
        assert_eq!((error.limit, error.actual), (Limit::Nesting, 41));
    }

    #[test]
    fn deep_lists_objects_and_selections_are_refused_by_a_subgraph_without_parsing() {
        let deep_list = format!(
            "{{ task(id: {}1{}) {{ id }} }}",
            "[".repeat(16_000),
            "]".repeat(16_000)
        );
        let deep_object = format!("{{ a(x: {}) }}", "{a:".repeat(16_000));
        let deep_selection = format!("{}{}", "{ a ".repeat(100), "}".repeat(100));
        for source in [deep_list, deep_object, deep_selection] {
            let refusal = scan_document(&source, &graphql_limits());
            assert_eq!(
                refusal.as_ref().map_err(Refusal::code),
                Err("NESTING_TOO_DEEP")
            );
            assert_eq!(limit_of(refusal), Some((Limit::Nesting, 64)));
        }
    }

    #[test]
    fn brackets_in_strings_block_strings_and_comments_do_not_count() {
        let hidden = "[".repeat(1_000);
        let source = format!(
            "# {hidden}\n{{ a(s: \"{hidden}\\\"{hidden}\", b: \"\"\"{hidden}\\\"\"\"{hidden}\"\"\") }}"
        );
        assert_eq!(scan_document(&source, &graphql_limits()), Ok(()));
    }

    #[test]
    fn a_subgraph_counts_tokens_and_leaves_fields_and_directives_to_later_checks() {
        let source = format!("{{ me {{ {} }} }}", "id ".repeat(20_000));
        let refusal = scan_document(&source, &graphql_limits());
        assert_eq!(
            refusal.as_ref().map_err(Refusal::code),
            Err("GRAPHQL_VALIDATION_FAILED")
        );
        assert_eq!(limit_of(refusal), Some((Limit::Tokens, 15_000)));
        assert_eq!(
            scan_document("{ a(x: -1.5e3, y: \"s\") { ...F } }", &graphql_limits()),
            Ok(())
        );
        let many: String = (0..100).map(|i| format!("@d{i} ")).collect();
        assert_eq!(
            scan_document(&format!("{{ a {many} }}"), &graphql_limits()),
            Ok(())
        );
    }

    #[test]
    fn json_nesting_skips_strings() {
        scan_json(br#"{"a": [{"b": "[[[[{{{{\"[["}]}"#, 3).expect("three levels");
        let error = scan_json(br#"{"a": [{"b": [1]}]}"#, 3).expect_err("four levels");
        assert_eq!((error.limit, error.actual), (Limit::JsonNesting, 4));
        assert_eq!(error.code(), "NESTING_TOO_DEEP");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(scan_json(deep.as_bytes(), 64).is_err());
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
        let document = async_graphql_parser::parse_query(&source).expect("parses");
        let refusal = count_fields(&document, 5_000);
        assert_eq!(
            refusal.as_ref().map_err(Refusal::code),
            Err("TOO_MANY_FIELDS")
        );
        assert_eq!(limit_of(refusal), Some((Limit::Fields, 5_000)));
        let small = async_graphql_parser::parse_query(
            "{ me { ...A ... on User { x } } } fragment A on User { a ...B ...B } fragment B on User { b c }",
        )
        .expect("parses");
        // me, x, a, 2 × (b, c)
        assert_eq!(count_fields(&small, 7), Ok(()));
        assert_eq!(limit_of(count_fields(&small, 6)), Some((Limit::Fields, 6)));
    }

    #[test]
    fn fragment_cycles_are_refused() {
        let document = async_graphql_parser::parse_query(
            "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }",
        )
        .expect("parses");
        let refusal = count_fields(&document, 5_000).expect_err("a cycle has no size");
        assert_eq!(refusal, Refusal::FragmentCycle("A".to_owned()));
        assert_eq!(refusal.code(), "GRAPHQL_VALIDATION_FAILED");
    }

    #[test]
    fn every_shape_limit_is_checked() {
        let document = async_graphql_parser_query("{ a: x { b: y { c } } d }");
        let cases = [
            (
                Limit::Nesting,
                ShapeLimits {
                    max_nesting: 2,
                    ..ShapeLimits::UNBOUNDED
                },
            ),
            (
                Limit::Depth,
                ShapeLimits {
                    max_depth: 2,
                    ..ShapeLimits::UNBOUNDED
                },
            ),
            (
                Limit::Aliases,
                ShapeLimits {
                    max_aliases: 1,
                    ..ShapeLimits::UNBOUNDED
                },
            ),
            (
                Limit::RootFields,
                ShapeLimits {
                    max_root_fields: 1,
                    ..ShapeLimits::UNBOUNDED
                },
            ),
            (
                Limit::Fields,
                ShapeLimits {
                    max_fields: 3,
                    ..ShapeLimits::UNBOUNDED
                },
            ),
        ];
        for (limit, limits) in cases {
            let refusal = check_shape(&document, &limits, &mut Work::default());
            assert_eq!(limit_of(refusal).map(|(found, _)| found), Some(limit));
        }
        check_shape(&document, &ShapeLimits::UNBOUNDED, &mut Work::default()).expect("unbounded");
    }

    fn async_graphql_parser_query(source: &str) -> ExecutableDocument {
        async_graphql_parser::parse_query(source).expect("parses")
    }
}
