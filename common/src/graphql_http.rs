//! GraphQL over HTTP as every endpoint of the system answers it, subgraphs and
//! router alike, without a GraphQL engine (the subgraphs' endpoint on
//! async-graphql is `subgraph_kit::graphql_http`, the router has its own).

/// A mutation sent with GET is refused (405, `Allow: POST`: a link must never change
/// data) with this message and code by every GraphQL endpoint, subgraphs and router alike.
pub const MUTATION_OVER_GET_MESSAGE: &str = "Mutations must be sent with POST";
/// See [`MUTATION_OVER_GET_MESSAGE`].
pub const MUTATION_OVER_GET_CODE: &str = "METHOD_NOT_ALLOWED";

/// Real operations, even a router's `_entities` batch, are a few kilobytes;
/// async-graphql buffers a body whole, so bound what one request can make us hold.
pub const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// Cuts an error `message` to at most `max_bytes` (on a character boundary),
/// saying how much was cut: the one rule for bounding error messages that may
/// quote a client's input, in the subgraphs and the router alike.
pub fn truncate_message(message: &mut String, max_bytes: usize) {
    if message.len() <= max_bytes {
        return;
    }
    let mut end = max_bytes;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let cut = message.len() - end;
    message.truncate(end);
    message.push_str(&format!("… ({cut} more bytes)"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_cut_on_a_character_boundary_saying_how_much() {
        let mut short = "fits".to_owned();
        truncate_message(&mut short, 4);
        assert_eq!(short, "fits");
        let mut long = "ab\u{e9}cd".to_owned(); // é is two bytes: 3 falls inside it
        truncate_message(&mut long, 3);
        assert_eq!(long, "ab… (4 more bytes)");
    }
}
