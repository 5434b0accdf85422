//! The one rule for text a store can hold. PostgreSQL's `text` refuses the NUL
//! character (`invalid byte sequence for encoding "UTF8": 0x00`), which turned
//! `createTask(input: {title: "a\u0000b"})` into an INTERNAL_SERVER_ERROR; the
//! same text is refused on SQLite too, so both stores behave alike. Every
//! string argument that reaches a store is checked here first and refused as
//! BAD_USER_INPUT naming the field.

use crate::errors::bad_input;

/// Whether a store can hold `value` as text.
pub fn is_storable(value: &str) -> bool {
    !value.contains('\0')
}

/// `Ok` when a store can hold `value`, else BAD_USER_INPUT naming `field`.
pub fn check(field: &str, value: &str) -> async_graphql::Result<()> {
    if is_storable(value) {
        Ok(())
    } else {
        Err(bad_input(
            field,
            format!("{field} must not contain the NUL character (\\u0000)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_and_names_the_field() {
        assert!(check("title", "a b é 🙂").is_ok());
        let error = check("title", "a\0b").expect_err("NUL refused");
        assert!(error.message.contains("title"), "{}", error.message);
        let extensions = format!("{:?}", error.extensions);
        assert!(extensions.contains("BAD_USER_INPUT"), "{extensions}");
    }
}
