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

/// Checks the token count and bracket nesting of a GraphQL document.
pub fn scan_document(
    source: &str,
    max_tokens: usize,
    max_nesting: usize,
) -> Result<(), LimitExceeded> {
    let mut lexer = Lexer::new(source);
    let (mut tokens, mut nesting) = (0usize, 0usize);
    while let Some(token) = lexer.next_token() {
        tokens += 1;
        if tokens > max_tokens {
            return Err(LimitExceeded::at_least(Limit::Tokens, max_tokens, tokens));
        }
        match token {
            b'{' | b'[' | b'(' => {
                nesting += 1;
                if nesting > max_nesting {
                    return Err(LimitExceeded::at_least(
                        Limit::Nesting,
                        max_nesting,
                        nesting,
                    ));
                }
            }
            // An unbalanced closing bracket is the parser's to report.
            b'}' | b']' | b')' => nesting = nesting.saturating_sub(1),
            _ => {}
        }
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

    /// The first byte of the next token, `None` at the end.
    fn next_token(&mut self) -> Option<u8> {
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
        Some(first)
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

    #[test]
    fn nesting_counts_every_bracket_outside_strings_and_comments() {
        scan_document("{ a(x: [[1]]) { b } }", 100, 4).expect("four levels");
        let error = scan_document("{ a(x: [[[1]]]) { b } }", 100, 4).expect_err("five levels");
        assert_eq!(
            (error.limit, error.max, error.actual),
            (Limit::Nesting, 4, 5)
        );
        scan_document(
            "# {{{{{{\n{ a(s: \"{{{{{{\", t: \"\"\"[[[[[[\"\"\") }",
            100,
            2,
        )
        .expect("brackets in strings and comments do not nest");
        let error = scan_document("{ a b c d }", 3, 100).expect_err("tokens");
        assert_eq!(error.limit, Limit::Tokens);
    }

    #[test]
    fn a_deep_document_is_refused_without_reading_it_all() {
        let deep = format!(
            "{{ task(id: {}1{}) {{ id }} }}",
            "[".repeat(16_000),
            "]".repeat(16_000)
        );
        let error = scan_document(&deep, 1_000_000, 40).expect_err("too deep");
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
