//! Non-recursive pre-scans of untrusted text, run before any parser sees it.
//!
//! Both GraphQL parsers the router uses (async-graphql-parser for the limits,
//! graphql-tools for validation and planning) and every walker after them
//! recurse once per level of nesting. A 3 KB document such as
//! `{ task(id: [[[…1,600 levels…]]]) { id } }` used to overflow a worker's
//! stack and abort the whole process. These scans are flat loops over the
//! bytes: they count lexical tokens and the nesting of `{ [ (` in a GraphQL
//! document (outside strings, block strings and comments), and the nesting of
//! `{ [` in JSON (outside strings), and stop at the first limit passed. Only
//! text that passed them reaches recursive code, whose depth is then bounded
//! by these limits.

use crate::limits::{Limit, LimitExceeded};

/// What the pre-scan of a document may find.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
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

/// Checks the token count, bracket nesting and field selections of a GraphQL document.
pub fn scan_document(source: &str, limits: &DocumentLimits) -> Result<(), LimitExceeded> {
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
        if tokens > limits.max_tokens {
            return Err(LimitExceeded::at_least(
                Limit::Tokens,
                limits.max_tokens,
                tokens,
            ));
        }
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
                if open.len() > limits.max_nesting {
                    return Err(LimitExceeded::at_least(
                        Limit::Nesting,
                        limits.max_nesting,
                        open.len(),
                    ));
                }
            }
            // An unbalanced closing bracket is the parser's to report.
            b'}' | b']' | b')' => {
                open.pop();
            }
            b'@' => {
                directives += 1;
                if directives > limits.max_directives {
                    return Err(LimitExceeded::at_least(
                        Limit::Directives,
                        limits.max_directives,
                        directives,
                    ));
                }
            }
            // `alias: field`: the name before was an alias, not a field of its own.
            b':' if in_selections => fields = fields.saturating_sub(1),
            c if in_selections && (c.is_ascii_alphabetic() || c == b'_') => {
                let after_spread = before[0].0 == b'.';
                let type_condition = before[0].1 && before[1].0 == b'.';
                let directive = before[0].0 == b'@';
                if !(after_spread || type_condition || directive) {
                    fields += 1;
                    if fields > limits.max_fields {
                        return Err(LimitExceeded::at_least(
                            Limit::Fields,
                            limits.max_fields,
                            fields,
                        ));
                    }
                }
            }
            _ => {}
        }
        let is_on = &source.as_bytes()[start..lexer.i] == b"on";
        before = [(first, is_on), before[0]];
    }
    Ok(())
}

/// Counts GraphQL lexical tokens (punctuators, names, numbers, strings),
/// skipping whitespace, commas and comments; stops counting at `stop_at`.
pub fn count_tokens(source: &str, stop_at: usize) -> usize {
    let mut lexer = Lexer::new(source);
    let mut count = 0;
    while count < stop_at && lexer.next_token().is_some() {
        count += 1;
    }
    count
}

/// Checks how deeply objects and arrays nest in a JSON text (a request body or
/// a GET `variables`/`extensions` parameter) before serde_json builds it.
/// Malformed JSON is not reported here: the JSON parser says what is wrong.
pub fn check_json_nesting(text: &[u8], max_nesting: usize) -> Result<(), LimitExceeded> {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn limits(max_tokens: usize, max_nesting: usize) -> DocumentLimits {
        DocumentLimits {
            max_tokens,
            max_nesting,
            max_fields: 1_000,
            max_directives: 50,
        }
    }

    #[test]
    fn field_selections_are_counted_in_the_text() {
        let scan = |query: &str, max_fields| {
            scan_document(
                query,
                &DocumentLimits {
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
        let error = scan_document(
            &format!("{{ me {{ {} }} }}", "id ".repeat(10_000)),
            &limits(100_000, 100),
        )
        .expect_err("ten thousand");
        assert_eq!(error.limit, Limit::Fields);
    }

    #[test]
    fn directives_are_counted_outside_strings() {
        scan_document("{ a @skip(if: false) b(s: \"@@@@\") }", &limits(100, 10))
            .expect("one directive");
        let many: String = (0..51).map(|i| format!("@d{i} ")).collect();
        let error = scan_document(&format!("{{ a {many} }}"), &limits(1_000, 10))
            .expect_err("51 directives");
        assert_eq!((error.limit, error.max), (Limit::Directives, 50));
    }

    #[test]
    fn nesting_counts_every_bracket_outside_strings_and_comments() {
        scan_document("{ a(x: [[1]]) { b } }", &limits(100, 4)).expect("four levels");
        let error =
            scan_document("{ a(x: [[[1]]]) { b } }", &limits(100, 4)).expect_err("five levels");
        assert_eq!(
            (error.limit, error.max, error.actual),
            (Limit::Nesting, 4, 5)
        );
        scan_document(
            "# {{{{{{\n{ a(s: \"{{{{{{\", t: \"\"\"[[[[[[\"\"\") }",
            &limits(100, 2),
        )
        .expect("brackets in strings and comments do not nest");
        let error = scan_document("{ a b c d }", &limits(3, 100)).expect_err("tokens");
        assert_eq!(error.limit, Limit::Tokens);
    }

    #[test]
    fn a_deep_document_is_refused_without_reading_it_all() {
        let deep = format!(
            "{{ task(id: {}1{}) {{ id }} }}",
            "[".repeat(16_000),
            "]".repeat(16_000)
        );
        let error = scan_document(&deep, &limits(1_000_000, 40)).expect_err("too deep");
        assert_eq!((error.limit, error.actual), (Limit::Nesting, 41));
    }

    #[test]
    fn json_nesting_skips_strings() {
        check_json_nesting(br#"{"a": [{"b": "[[[[{{{{\"[["}]}"#, 3).expect("three levels");
        let error = check_json_nesting(br#"{"a": [{"b": [1]}]}"#, 3).expect_err("four levels");
        assert_eq!((error.limit, error.actual), (Limit::JsonNesting, 4));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(check_json_nesting(deep.as_bytes(), 64).is_err());
    }
}
