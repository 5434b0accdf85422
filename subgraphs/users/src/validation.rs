//! The registration rules of the original API (pydantic's `UserCreate`),
//! checked before anything is hashed or written.

use common::errors::bad_input;

/// Length bounds, in characters (not bytes), as pydantic counted them.
const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=100;
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 6..=100;
const FULL_NAME_MAX_CHARS: usize = 255;

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
    common::storable::check("email", input.email)?;
    common::storable::check("username", input.username)?;
    common::storable::check("password", input.password)?;
    if let Some(full_name) = input.full_name {
        common::storable::check("fullName", full_name)?;
    }
    let email = common::email::normalize(input.email).map_err(|reason| {
        bad_input(
            "email",
            format!("value is not a valid email address: {reason}"),
        )
    })?;
    if !USERNAME_CHARS.contains(&input.username.chars().count()) {
        return Err(bad_input(
            "username",
            "username must be 3 to 100 characters long",
        ));
    }
    if !PASSWORD_CHARS.contains(&input.password.chars().count()) {
        return Err(bad_input(
            "password",
            "password must be 6 to 100 characters long",
        ));
    }
    if input
        .full_name
        .is_some_and(|name| name.chars().count() > FULL_NAME_MAX_CHARS)
    {
        return Err(bad_input(
            "fullName",
            "fullName must be at most 255 characters long",
        ));
    }
    Ok(email)
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
        assert!(check(&registration("a@example.com", "äöü", "secret")).is_ok());
        assert!(check(&registration("a@example.com", "ab", "secret")).is_err());
        assert!(check(&registration("a@example.com", &"x".repeat(101), "secret")).is_err());
        assert!(check(&registration("a@example.com", "abc", "12345")).is_err());
        assert!(check(&registration("a@example.com", "abc", &"é".repeat(100))).is_ok());
    }
}
