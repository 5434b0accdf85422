//! The e-mail address rule of the original system, defined once for every
//! service: pydantic 2.5's `EmailStr`, i.e. its "pretty address" unwrapping
//! (`Name <addr>`, surrounding spaces) followed by `email-validator` 2.1's
//! syntax checks without DNS. Accounts are unique on the address this returns,
//! so the users subgraph and the REST layer must agree on it exactly: that is
//! why it lives here rather than in either of them.
//!
//! Refusals carry email-validator's own reason text, which pydantic quotes in
//! its 422 (`value is not a valid email address: <reason>`). ASCII addresses
//! follow email-validator line by line. Internationalised domains are mapped
//! with the `idna` crate (UTS-46, like the Python `idna` package); the wording
//! of an IDNA failure there is ours, the decision is the same.

use std::collections::BTreeSet;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// pydantic's `MAX_EMAIL_LENGTH`: checked on the raw input, before anything else.
pub const MAX_INPUT_CHARS: usize = 2048;
/// RFC 5321 limits as email-validator applies them.
const LOCAL_PART_MAX_LENGTH: usize = 64;
const EMAIL_MAX_LENGTH: usize = 254;
const DOMAIN_MAX_LENGTH: usize = 253;
const DNS_LABEL_LENGTH_LIMIT: usize = 63;
/// email-validator's `SPECIAL_USE_DOMAIN_NAMES` (without DNS checks).
const SPECIAL_USE_DOMAIN_NAMES: [&str; 6] =
    ["arpa", "invalid", "local", "localhost", "onion", "test"];
/// RFC 2142 mailboxes whose local part email-validator lower-cases.
const CASE_INSENSITIVE_MAILBOX_NAMES: [&str; 15] = [
    "info",
    "marketing",
    "sales",
    "support",
    "abuse",
    "noc",
    "security",
    "postmaster",
    "hostmaster",
    "usenet",
    "news",
    "webmaster",
    "www",
    "uucp",
    "ftp",
];

/// Why an address was refused: email-validator's sentence, quoted by pydantic.
pub type Reason = String;

/// The normalised address (the bare `local@domain`, domain lower-cased) or the reason it is refused.
pub fn normalize(input: &str) -> Result<String, Reason> {
    if input.chars().count() > MAX_INPUT_CHARS {
        return Err(format!(
            "Length must not exceed {MAX_INPUT_CHARS} characters"
        ));
    }
    let address = unwrap_pretty(input).unwrap_or(input);
    validate(address.trim())
}

/// pydantic's wording of a refusal, which both the users subgraph (its
/// BAD_USER_INPUT message) and the REST layer (its 422 `msg`) answer.
pub fn refusal(reason: &str) -> String {
    format!("value is not a valid email address: {reason}")
}

/// pydantic's `pretty_email_regex`: `\s*(name|"quoted name")?\s*<(.+)>\s*` as a full
/// match, answering what is inside the angle brackets.
fn unwrap_pretty(input: &str) -> Option<&str> {
    let trimmed = input.trim();
    let body = trimmed.strip_suffix('>')?;
    let open = if trimmed.starts_with('"') {
        // `"((?:[^"]|")+)"`: the quoted name runs to the last quote before a `<`.
        body.rmatch_indices('<').map(|(at, _)| at).find(|at| {
            let name = body[..*at].trim_end();
            name.len() >= 3 && name.ends_with('"')
        })?
    } else {
        let at = body.find('<')?;
        let name = body[..at].trim_end();
        if !name
            .split_whitespace()
            .all(|word| word.chars().all(is_name_char))
        {
            return None;
        }
        at
    };
    let inner = &body[open + 1..];
    // `.+`: at least one character, and no line break.
    if inner.is_empty() || inner.contains('\n') {
        return None;
    }
    Some(inner)
}

/// `[\w.!#$%&'*+\-/=?^_`{|}~]` of pydantic's name group.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || "_.!#$%&'*+-/=?^`{|}~".contains(c)
}

fn syntax<T>(reason: impl Into<String>) -> Result<T, Reason> {
    Err(reason.into())
}

/// RFC 5322 `atext` (ASCII).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_!#$%&'*+-/=?^`{|}~".contains(c)
}

/// `atext` extended by RFC 6531 to every code point from U+0080.
fn is_atext_intl(c: char) -> bool {
    is_atext(c) || u32::from(c) >= 0x80
}

/// A dot-atom over `allowed`: runs of allowed characters separated by single dots.
fn is_dot_atom(text: &str, allowed: impl Fn(char) -> bool) -> bool {
    !text.is_empty()
        && text
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(&allowed))
}

/// `ATEXT_HOSTNAME_INTL`: letters, digits, hyphen, dot, or anything from U+0080.
fn is_hostname_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || u32::from(c) >= 0x80
}

/// `DOT_ATOM_TEXT_HOSTNAME`: ASCII labels of letters, digits and inner hyphens.
fn is_ascii_hostname(domain: &str) -> bool {
    domain.split('.').all(|label| {
        !label.is_empty()
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    })
}

/// `"(N characters too many)"`, counted in code points as Python counts.
fn length_reason(text: &str, limit: usize) -> String {
    let diff = text.chars().count().saturating_sub(limit);
    let suffix = if diff > 1 { "s" } else { "" };
    format!("({diff} character{suffix} too many)")
}

/// `"(at least N characters too many)"` when `text` has more than `limit` code points:
/// the length that is certainly over when the limit was exceeded in another encoding.
fn excess_reason(text: &str, limit: usize) -> Option<String> {
    let diff = text.chars().count().saturating_sub(limit);
    let suffix = if diff > 1 { "s" } else { "" };
    (diff > 0).then(|| format!("(at least {diff} character{suffix} too many)"))
}

/// email-validator's `safe_character_display`: printable characters quoted as
/// Python's `repr` quotes them, the others by Unicode name or code point.
fn display(c: char) -> String {
    if c == '\\' {
        return "\"\\\"".to_owned();
    }
    match c.general_category_group() {
        GeneralCategoryGroup::Letter
        | GeneralCategoryGroup::Number
        | GeneralCategoryGroup::Punctuation
        | GeneralCategoryGroup::Symbol => {
            if c == '\'' {
                "\"'\"".to_owned()
            } else {
                format!("'{c}'")
            }
        }
        _ => match unicode_name(c) {
            Some(name) => name.to_owned(),
            None if u32::from(c) < 0xFFFF => format!("U+{:04X}", u32::from(c)),
            None => format!("U+{:08X}", u32::from(c)),
        },
    }
}

/// The names Python's `unicodedata.name` gives the non-printable characters an
/// address is likely to carry (control characters have none: they show as U+XXXX).
fn unicode_name(c: char) -> Option<&'static str> {
    Some(match c {
        ' ' => "SPACE",
        '\u{a0}' => "NO-BREAK SPACE",
        '\u{ad}' => "SOFT HYPHEN",
        '\u{2002}' => "EN SPACE",
        '\u{2003}' => "EM SPACE",
        '\u{2009}' => "THIN SPACE",
        '\u{200b}' => "ZERO WIDTH SPACE",
        '\u{200c}' => "ZERO WIDTH NON-JOINER",
        '\u{200d}' => "ZERO WIDTH JOINER",
        '\u{200e}' => "LEFT-TO-RIGHT MARK",
        '\u{200f}' => "RIGHT-TO-LEFT MARK",
        '\u{2028}' => "LINE SEPARATOR",
        '\u{2029}' => "PARAGRAPH SEPARATOR",
        '\u{202f}' => "NARROW NO-BREAK SPACE",
        '\u{2060}' => "WORD JOINER",
        '\u{3000}' => "IDEOGRAPHIC SPACE",
        '\u{feff}' => "ZERO WIDTH NO-BREAK SPACE",
        '\u{301}' => "COMBINING ACUTE ACCENT",
        '\u{308}' => "COMBINING DIAERESIS",
        _ => return None,
    })
}

/// `", ".join(sorted({display(c) for c in bad}))`.
fn display_set(bad: impl Iterator<Item = char>) -> String {
    let shown: BTreeSet<String> = bad.map(display).collect();
    shown.into_iter().collect::<Vec<_>>().join(", ")
}

/// email-validator's `check_unsafe_chars`.
fn check_unsafe_chars(text: &str, allow_space: bool) -> Result<(), Reason> {
    let mut bad = BTreeSet::new();
    for (index, c) in text.chars().enumerate() {
        let unsafe_char = match c.general_category_group() {
            GeneralCategoryGroup::Letter
            | GeneralCategoryGroup::Number
            | GeneralCategoryGroup::Punctuation
            | GeneralCategoryGroup::Symbol => false,
            GeneralCategoryGroup::Mark => index == 0,
            GeneralCategoryGroup::Separator => {
                !(allow_space && c.general_category() == GeneralCategory::SpaceSeparator)
            }
            GeneralCategoryGroup::Other => true,
        };
        if unsafe_char {
            bad.insert(c);
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = bad.into_iter().map(display).collect();
    Err(format!(
        "The email address contains unsafe characters: {}.",
        shown.join(", ")
    ))
}

/// email-validator's `check_dot_atom`.
fn check_dot_atom(label: &str, start: &str, end: &str, hostname: bool) -> Result<(), Reason> {
    if label.ends_with('.') {
        return Err(end.replace("{}", "period"));
    }
    if label.starts_with('.') {
        return Err(start.replace("{}", "period"));
    }
    if label.contains("..") {
        return Err("An email address cannot have two periods in a row.".to_owned());
    }
    if hostname {
        if label.ends_with('-') {
            return Err(end.replace("{}", "hyphen"));
        }
        if label.starts_with('-') {
            return Err(start.replace("{}", "hyphen"));
        }
        if label.contains(".-") || label.contains("-.") {
            return Err(
                "An email address cannot have a period and a hyphen next to each other.".to_owned(),
            );
        }
    }
    Ok(())
}

/// The local part after validation, and whether it needs SMTPUTF8.
struct LocalPart {
    text: String,
    ascii: bool,
}

fn validate_local_part(local: &str, quoted: bool) -> Result<LocalPart, Reason> {
    if local.is_empty() {
        return Err("There must be something before the @-sign.".to_owned());
    }
    if local.chars().count() > LOCAL_PART_MAX_LENGTH {
        return Err(format!(
            "The email address is too long before the @-sign {}.",
            length_reason(local, LOCAL_PART_MAX_LENGTH)
        ));
    }
    if is_dot_atom(local, is_atext) {
        return Ok(LocalPart {
            text: local.to_owned(),
            ascii: true,
        });
    }
    let (valid_quoted, ascii) = if is_dot_atom(local, is_atext_intl) {
        (false, false)
    } else if quoted {
        let bad = local
            .chars()
            .filter(|c| !(matches!(u32::from(*c), 0x20..=0x7e) || u32::from(*c) >= 0x80));
        let shown = display_set(bad);
        if !shown.is_empty() {
            return Err(format!(
                "The email address contains invalid characters in quotes before the @-sign: {shown}."
            ));
        }
        (true, local.is_ascii())
    } else {
        let shown = display_set(local.chars().filter(|c| !(is_atext_intl(*c) || *c == '.')));
        if !shown.is_empty() {
            return Err(format!(
                "The email address contains invalid characters before the @-sign: {shown}."
            ));
        }
        check_dot_atom(
            local,
            "An email address cannot start with a {}.",
            "An email address cannot have a {} immediately before the @-sign.",
            false,
        )?;
        return Err("The email address contains invalid characters before the @-sign.".to_owned());
    };
    let normalized: String = local.nfc().collect();
    check_unsafe_chars(&normalized, valid_quoted)?;
    let text = if valid_quoted {
        let mut requoted = String::from("\"");
        for c in normalized.chars() {
            if c == '"' || c == '\\' {
                requoted.push('\\');
            }
            requoted.push(c);
        }
        requoted.push('"');
        requoted
    } else {
        normalized
    };
    Ok(LocalPart { text, ascii })
}

/// The domain: its ASCII (IDNA) form and the normalised form stored.
struct Domain {
    ascii: String,
    display: String,
}

fn validate_domain(domain: &str) -> Result<Domain, Reason> {
    let shown = display_set(domain.chars().filter(|c| !is_hostname_char(*c)));
    if !shown.is_empty() {
        return Err(format!(
            "The part after the @-sign contains invalid characters: {shown}."
        ));
    }
    check_unsafe_chars(domain, false)?;
    // UTS-46 mapping: for ASCII it is lower-casing; otherwise the idna crate maps,
    // normalises and encodes (Punycode) as Python's `idna` package does.
    let mapped = if domain.is_ascii() {
        domain.to_ascii_lowercase()
    } else {
        let (unicode, result) = idna::domain_to_unicode(domain);
        result.map_err(|err| {
            format!("The part after the @-sign contains invalid characters ({err:?}).")
        })?;
        unicode
    };
    check_dot_atom(
        &mapped,
        "An email address cannot have a {} immediately after the @-sign.",
        "An email address cannot end with a {}.",
        true,
    )?;
    for label in mapped.split('.') {
        // `(?!xn)..--`: any two characters but "xn", then two hyphens.
        let head: Vec<char> = label.chars().take(4).collect();
        if let [a, b, '-', '-'] = head[..]
            && !(a.eq_ignore_ascii_case(&'x') && b.eq_ignore_ascii_case(&'n'))
        {
            return Err("An email address cannot have two letters followed by two dashes immediately after the @-sign or after a period, except Punycode.".to_owned());
        }
    }
    let ascii = if is_ascii_hostname(&mapped) {
        mapped.clone()
    } else {
        let ascii = idna::domain_to_ascii_strict(&mapped).map_err(|err| {
            format!("The part after the @-sign contains invalid characters ({err:?}).")
        })?;
        if !is_ascii_hostname(&ascii) {
            return Err("The email address contains invalid characters after the @-sign after IDNA encoding.".to_owned());
        }
        ascii
    };
    if ascii.len() > DOMAIN_MAX_LENGTH {
        return Err(format!(
            "The email address is too long after the @-sign {}.",
            length_reason(&ascii, DOMAIN_MAX_LENGTH)
        ));
    }
    for label in ascii.split('.') {
        if label.len() > DNS_LABEL_LENGTH_LIMIT {
            return Err(format!(
                "After the @-sign, periods cannot be separated by so many characters {}.",
                length_reason(label, DNS_LABEL_LENGTH_LIMIT)
            ));
        }
    }
    if !ascii.contains('.') {
        return Err("The part after the @-sign is not valid. It should have a period.".to_owned());
    }
    if !ascii.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(
            "The part after the @-sign is not valid. It is not within a valid top-level domain."
                .to_owned(),
        );
    }
    if SPECIAL_USE_DOMAIN_NAMES
        .iter()
        .any(|special| ascii == *special || ascii.ends_with(&format!(".{special}")))
    {
        return Err("The part after the @-sign is a special-use or reserved name that cannot be used with email.".to_owned());
    }
    let display = if ascii.split('.').any(|label| label.starts_with("xn--")) {
        let (unicode, result) = idna::domain_to_unicode(&ascii);
        result.map_err(|err| format!("The part after the @-sign is not valid IDNA ({err:?})."))?;
        unicode
    } else {
        ascii.clone()
    };
    Ok(Domain { ascii, display })
}

/// email-validator's `validate_email` with pydantic's options (no DNS, no
/// quoted local parts, no IP-literal domains).
fn validate(email: &str) -> Result<String, Reason> {
    let (local, domain, quoted) = split(email)?;
    let mut local = validate_local_part(&local, quoted)?;
    if quoted {
        return syntax("Quoting the part before the @-sign is not allowed here.");
    }
    if local.ascii && CASE_INSENSITIVE_MAILBOX_NAMES.contains(&local.text.to_lowercase().as_str()) {
        local.text = local.text.to_lowercase();
    }
    if domain.is_empty() {
        return syntax("There must be something after the @-sign.");
    }
    if domain.starts_with('[') && domain.ends_with(']') {
        return Err(domain_literal_reason(&domain[1..domain.len() - 1]));
    }
    let domain = validate_domain(domain)?;
    let normalized = format!("{}@{}", local.text, domain.display);
    if local.ascii {
        let ascii_email = format!("{}@{}", local.text, domain.ascii);
        if ascii_email.len() > EMAIL_MAX_LENGTH {
            let reason = if ascii_email == normalized {
                length_reason(&ascii_email, EMAIL_MAX_LENGTH)
            } else {
                excess_reason(&normalized, EMAIL_MAX_LENGTH)
                    .unwrap_or_else(|| "(when converted to IDNA ASCII)".to_owned())
            };
            return Err(format!("The email address is too long {reason}."));
        }
    }
    if normalized.len() > EMAIL_MAX_LENGTH {
        let reason = excess_reason(&normalized, EMAIL_MAX_LENGTH)
            .unwrap_or_else(|| "(when encoded in bytes)".to_owned());
        return Err(format!("The email address is too long {reason}."));
    }
    Ok(normalized)
}

/// email-validator 2.1's `split_email`: a quoted local part (`"…"@domain`), or
/// exactly one `@`.
fn split(email: &str) -> Result<(String, &str, bool), Reason> {
    if let Some(rest) = email.strip_prefix('"') {
        let mut local = String::new();
        let mut chars = rest.char_indices();
        while let Some((index, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, '\n')) | None => break,
                    Some((_, escaped)) => local.push(escaped),
                },
                '"' => {
                    if let Some(domain) = rest[index + 1..].strip_prefix('@') {
                        // `(.*)` stops at a line break.
                        let domain = domain.split('\n').next().unwrap_or_default();
                        return Ok((local, domain, true));
                    }
                    break;
                }
                _ => local.push(c),
            }
        }
    }
    let mut parts = email.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => Ok((local.to_owned(), domain, false)),
        _ => syntax("The email address is not valid. It must have exactly one @-sign."),
    }
}

/// Domain literals are never allowed; email-validator still says what is wrong with one first.
fn domain_literal_reason(literal: &str) -> Reason {
    if !literal.is_empty() && literal.chars().all(|c| c.is_ascii_digit() || c == '.') {
        if literal.parse::<std::net::Ipv4Addr>().is_err() {
            return "The address in brackets after the @-sign is not valid: It is not an IPv4 address or is missing an address literal tag.".to_owned();
        }
    } else if let Some(v6) = literal.strip_prefix("IPv6:") {
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return "The IPv6 address in brackets after the @-sign is not valid.".to_owned();
        }
    } else if !literal.contains(':') {
        return "The part after the @-sign in brackets is not an IPv4 address and has no address literal tag.".to_owned();
    } else {
        let shown = display_set(
            literal
                .chars()
                .filter(|c| !matches!(u32::from(*c), 0x21..=0xFA)),
        );
        if !shown.is_empty() {
            return format!(
                "The part after the @-sign contains invalid characters in brackets: {shown}."
            );
        }
        return "The part after the @-sign contains an invalid address literal tag in brackets."
            .to_owned();
    }
    "A bracketed IP address after the @-sign is not allowed here.".to_owned()
}

/// The SQL both stores use to find an address stored before normalisation: the
/// local part as written, the domain (after the last `@`) lower-cased. Rows the
/// users migration could not normalise (they collide) are compared through it.
pub fn sql_domain_lowered(column: &str, postgres: bool) -> String {
    if postgres {
        format!(
            "(substring({column} from '^(.*@)') || lower(substring({column} from '@([^@]*)$')))"
        )
    } else {
        // rtrim(x, everything but '@') keeps x up to its last '@'.
        format!(
            "(rtrim({column}, replace({column}, '@', '')) || lower(substr({column}, length(rtrim({column}, replace({column}, '@', ''))) + 1)))"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers from pydantic 2.5.3 + email-validator 2.1.0.post1 (`EmailStr`).
    #[test]
    fn agrees_with_email_validator() {
        let accepted = [
            ("d@EXAMPLE.COM", "d@example.com"),
            ("Eve <e@example.com>", "e@example.com"),
            ("  f@example.com ", "f@example.com"),
            ("\"Eve X\" <Eve.X@Example.org>", "Eve.X@example.org"),
            ("Postmaster@Example.com", "postmaster@example.com"),
            ("a+tag@mail.example.co.uk", "a+tag@mail.example.co.uk"),
            ("用户@例子.广告", "用户@例子.广告"),
        ];
        for (input, normalized) in accepted {
            assert_eq!(normalize(input).as_deref(), Ok(normalized), "{input:?}");
        }
        let refused = [
            (
                "not-an-email",
                "The email address is not valid. It must have exactly one @-sign.",
            ),
            (
                "a..b@example.com",
                "An email address cannot have two periods in a row.",
            ),
            (
                "a b@example.com",
                "The email address contains invalid characters before the @-sign: SPACE.",
            ),
            (
                "\"q.x\"@example.com",
                "Quoting the part before the @-sign is not allowed here.",
            ),
            (
                "a@-example.com",
                "An email address cannot have a hyphen immediately after the @-sign.",
            ),
            (
                "a@example",
                "The part after the @-sign is not valid. It should have a period.",
            ),
            (
                "a@localhost",
                "The part after the @-sign is not valid. It should have a period.",
            ),
            (
                "a@example.test",
                "The part after the @-sign is a special-use or reserved name that cannot be used with email.",
            ),
            (
                ".a@example.com",
                "An email address cannot start with a period.",
            ),
            (
                "a.@example.com",
                "An email address cannot have a period immediately before the @-sign.",
            ),
            ("@example.com", "There must be something before the @-sign."),
            ("a@", "There must be something after the @-sign."),
            (
                "a@b@example.com",
                "The email address is not valid. It must have exactly one @-sign.",
            ),
            (
                "a@example.123",
                "The part after the @-sign is not valid. It is not within a valid top-level domain.",
            ),
            (
                "a@[127.0.0.1]",
                "A bracketed IP address after the @-sign is not allowed here.",
            ),
            (
                "a@ab--cd.com",
                "An email address cannot have two letters followed by two dashes immediately after the @-sign or after a period, except Punycode.",
            ),
        ];
        for (input, reason) in refused {
            assert_eq!(normalize(input), Err(reason.to_owned()), "{input:?}");
        }
        let long_local = format!("{}@example.com", "x".repeat(65));
        assert_eq!(
            normalize(&long_local),
            Err(
                "The email address is too long before the @-sign (1 character too many)."
                    .to_owned()
            )
        );
    }

    /// Over the whole address's limit in bytes: by how many characters at least, when that
    /// is known, else in which encoding (email-validator's wording).
    #[test]
    fn an_address_too_long_says_by_how_much() {
        let labels = format!("{}.{}", "b".repeat(63), "c".repeat(63));
        let too_many_characters = format!("{}@{labels}.{}.com", "é".repeat(64), "d".repeat(63));
        assert_eq!(
            normalize(&too_many_characters),
            Err("The email address is too long (at least 6 characters too many).".to_owned())
        );
        let too_many_bytes = format!("{}@{labels}.dddd.com", "é".repeat(60));
        assert_eq!(
            normalize(&too_many_bytes),
            Err("The email address is too long (when encoded in bytes).".to_owned())
        );
    }

    #[test]
    fn sql_expressions_name_the_column() {
        assert!(sql_domain_lowered("email", true).contains("lower(substring(email"));
        assert!(sql_domain_lowered("email", false).contains("rtrim(email"));
    }
}
