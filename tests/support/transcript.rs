//! What a client sent and got back, exchange by exchange, so that one test run
//! in each deployment mode can be compared byte for byte: the same requests must
//! get the same statuses, content types and bodies. Only what differs between
//! any two runs by nature is masked: access tokens (signed with each run's own
//! key at its own second) and timestamps.

use std::sync::Mutex;

/// The exchanges of one run, in order.
#[derive(Debug, Default)]
pub struct Transcript(Mutex<Vec<String>>);

impl Transcript {
    /// One exchange: the request (method, path, body) and the answer.
    pub fn record(&self, request: &str, status: u16, content_type: &str, body: &str) {
        let entry = format!(
            "{} -> {status} {content_type} {}",
            mask(request),
            mask(body)
        );
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(entry);
    }

    /// The exchanges so far.
    pub fn entries(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// Fails at the first exchange where the two runs answered differently.
#[track_caller]
pub fn assert_same(processes: &[String], one_process: &[String]) {
    for (index, (expected, found)) in processes.iter().zip(one_process).enumerate() {
        assert_eq!(
            expected, found,
            "exchange {index} differs between five processes (left) and one process (right)"
        );
    }
    assert_eq!(
        processes.len(),
        one_process.len(),
        "both runs made the same exchanges"
    );
    assert!(!processes.is_empty(), "the runs recorded their exchanges");
}

/// The text with tokens (`eyJ…`) and timestamps (`2025-01-02T03:04:05[.ffffff][Z|±hh:mm]`) masked.
pub fn mask(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index..].starts_with(b"eyJ") {
            let end = index
                + bytes[index..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                    .count();
            out.push_str("<token>");
            index = end;
        } else if let Some(length) = timestamp_length(&bytes[index..]) {
            out.push_str("<time>");
            index += length;
        } else {
            let character = text[index..].chars().next().expect("inside the text");
            out.push(character);
            index += character.len_utf8();
        }
    }
    out
}

/// The length of the timestamp `bytes` start with, if they do.
fn timestamp_length(bytes: &[u8]) -> Option<usize> {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    if bytes.len() < SHAPE.len()
        || !SHAPE.iter().zip(bytes).all(|(shape, byte)| match shape {
            b'd' => byte.is_ascii_digit(),
            other => other == byte,
        })
    {
        return None;
    }
    let mut length = SHAPE.len();
    if bytes.get(length) == Some(&b'.') {
        length += 1 + bytes[length + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    }
    match bytes.get(length) {
        Some(b'Z') => length += 1,
        Some(b'+' | b'-') if bytes.len() >= length + 6 => length += 6,
        _ => {}
    }
    Some(length)
}

#[test]
fn tokens_and_timestamps_are_masked_and_nothing_else() {
    assert_eq!(
        mask(
            r#"{"access_token":"eyJhbGc.eyJzdWI.sig-_x","at":"2025-01-02T03:04:05.123456Z","id":12}"#
        ),
        r#"{"access_token":"<token>","at":"<time>","id":12}"#
    );
    assert_eq!(mask("2030-01-15T09:30:00+02:00 é"), "<time> é");
    assert_eq!(mask("2030-01-15 is a date"), "2030-01-15 is a date");
}
