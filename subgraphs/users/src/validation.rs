//! The registration rules of the original API (pydantic's `UserCreate`),
//! checked before anything is hashed or written.

use common::errors::bad_input;
use email_address::{EmailAddress, Options};

/// Length bounds, in characters (not bytes), as pydantic counted them.
const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=100;
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 6..=100;
const FULL_NAME_MAX_CHARS: usize = 255;

/// A plain address with a dotted domain, as `EmailStr` demanded: no display
/// name (`Bob <bob@example.com>`) and no IP-literal domain.
fn is_valid_email(email: &str) -> bool {
    let options = Options::default()
        .with_required_tld()
        .without_display_text()
        .without_domain_literal();
    EmailAddress::parse_with_options(email, options).is_ok()
}

/// Registration input as the client sent it.
pub struct Registration<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    pub full_name: Option<&'a str>,
}

/// The first rule the input breaks, as BAD_USER_INPUT naming the field.
pub fn check(input: &Registration<'_>) -> async_graphql::Result<()> {
    common::storable::check("email", input.email)?;
    common::storable::check("username", input.username)?;
    common::storable::check("password", input.password)?;
    if let Some(full_name) = input.full_name {
        common::storable::check("fullName", full_name)?;
    }
    if !is_valid_email(input.email) {
        return Err(bad_input("email", "value is not a valid email address"));
    }
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
    Ok(())
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
    fn emails() {
        assert!(is_valid_email("alice@example.com"));
        assert!(is_valid_email("alice+tag@mail.example.org"));
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "Alice <alice@example.com>",
            "a b@example.com",
        ] {
            assert!(!is_valid_email(bad), "{bad:?} should be refused");
        }
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
