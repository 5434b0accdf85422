//! The registration rules of the original API (pydantic's `UserCreate`),
//! checked before anything is hashed or written.

use common::rules::{CharRange, FULL_NAME, PASSWORD, USERNAME};
use subgraph_kit::errors::bad_input;

/// Registration input as the client sent it.
pub struct Registration<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    pub full_name: Option<&'a str>,
}

/// The first rule the input breaks, as BAD_USER_INPUT naming the field; else
/// the address to store, normalised by the one e-mail rule (`common::email`).
pub fn check(input: &Registration<'_>) -> async_graphql::Result<String> {
    subgraph_kit::storable::check("email", input.email)?;
    subgraph_kit::storable::check("username", input.username)?;
    subgraph_kit::storable::check("password", input.password)?;
    if let Some(full_name) = input.full_name {
        subgraph_kit::storable::check("fullName", full_name)?;
    }
    let email = common::email::normalize(input.email)
        .map_err(|reason| bad_input("email", common::email::refusal(&reason)))?;
    length("username", input.username, USERNAME)?;
    length("password", input.password, PASSWORD)?;
    if let Some(full_name) = input.full_name {
        length("fullName", full_name, FULL_NAME)?;
    }
    Ok(email)
}

/// `Ok` when `value` is within `range` (`common::rules`), else BAD_USER_INPUT naming `field`.
fn length(field: &str, value: &str, range: CharRange) -> async_graphql::Result<()> {
    if range.admits(value) {
        Ok(())
    } else {
        Err(bad_input(field, range.message(field)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration<'a>(email: &'a str, username: &'a str, password: &'a str) -> Registration<'a> {
        Registration {
            email,
            username,
            password,
            full_name: None,
        }
    }

    #[test]
    fn emails_are_normalised_or_refused_with_the_reason() {
        assert_eq!(
            check(&registration("Eve <e@EXAMPLE.com>", "eve", "secret")).ok(),
            Some("e@example.com".to_owned())
        );
        let refused = check(&registration("\"q.x\"@example.com", "eve", "secret"))
            .expect_err("quoted local part");
        assert_eq!(
            refused.message,
            "value is not a valid email address: Quoting the part before the @-sign is not allowed here."
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let over = |range: CharRange| "x".repeat(range.max + 1);
        assert!(check(&registration("a@example.com", "äöü", "secret")).is_ok());
        assert!(check(&registration("a@example.com", "ab", "secret")).is_err());
        assert!(check(&registration("a@example.com", &over(USERNAME), "secret")).is_err());
        assert!(check(&registration("a@example.com", "abc", "12345")).is_err());
        let longest_password = "é".repeat(PASSWORD.max);
        assert!(check(&registration("a@example.com", "abc", &longest_password)).is_ok());
        let refused =
            check(&registration("a@example.com", "abc", &over(PASSWORD))).expect_err("too long");
        assert_eq!(refused.message, "password must be 6 to 100 characters long");
    }
}
