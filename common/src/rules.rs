//! The input limits of the public contract, defined once. The subgraphs refuse
//! what breaks them (BAD_USER_INPUT), the REST layer refuses it first with
//! pydantic's 422 and publishes them in its OpenAPI document, and all three read
//! the numbers from here, so changing a limit is one edit (the whole-stack test
//! `tests/contract_rules.rs` shows every layer follows it). The numbers are the
//! original API's (pydantic's `UserCreate`/`TaskCreate` and the list endpoint's
//! `Query(ge=.., le=..)`).
//!
//! One copy cannot follow by itself: the tasks table's `title VARCHAR(255)`
//! column (`migrations/tasks`). Raising [`TITLE`] needs a migration too; the
//! tasks subgraph has a test that fails until the two agree.

/// A length bound on text, counted in characters (Unicode code points, as
/// Python's `len` counts them), both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharRange {
    pub min: usize,
    pub max: usize,
}

impl CharRange {
    /// Whether `text` is long enough and not too long.
    pub fn admits(self, text: &str) -> bool {
        (self.min..=self.max).contains(&text.chars().count())
    }

    /// The GraphQL refusal for `field`: "username must be 3 to 100 characters
    /// long", or "fullName must be at most 255 characters long" when any length
    /// up to the maximum is allowed.
    pub fn message(self, field: &str) -> String {
        let CharRange { min, max } = self;
        if min == 0 {
            format!("{field} must be at most {max} characters long")
        } else {
            format!("{field} must be {min} to {max} characters long")
        }
    }
}

/// An integer bound, both ends inclusive (`max: None`: no upper bound), and the
/// value taken when the client gives none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntRange {
    pub min: i64,
    pub max: Option<i64>,
    pub default: i64,
}

impl IntRange {
    pub fn admits(self, value: i64) -> bool {
        value >= self.min && self.max.is_none_or(|max| value <= max)
    }

    /// The GraphQL refusal for `field`: "limit must be an integer from 1 to
    /// 1000", or "skip must be an integer of at least 0" without an upper bound.
    pub fn message(self, field: &str) -> String {
        match self.max {
            Some(max) => format!("{field} must be an integer from {} to {max}", self.min),
            None => format!("{field} must be an integer of at least {}", self.min),
        }
    }
}

/// A user's login name.
pub const USERNAME: CharRange = CharRange { min: 3, max: 100 };
/// A password as the client sends it (before hashing).
pub const PASSWORD: CharRange = CharRange { min: 6, max: 100 };
/// A user's optional full name.
pub const FULL_NAME: CharRange = CharRange { min: 0, max: 255 };
/// A task's title (also the width of the `title` column, see the module doc).
pub const TITLE: CharRange = CharRange { min: 1, max: 255 };
/// How many tasks a page skips.
pub const PAGE_SKIP: IntRange = IntRange {
    min: 0,
    max: None,
    default: 0,
};
/// How many tasks a page holds at most.
pub const PAGE_LIMIT: IntRange = IntRange {
    min: 1,
    max: Some(1000),
    default: 100,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_characters_and_messages_name_the_bounds() {
        assert!(USERNAME.admits("äöü"));
        assert!(!USERNAME.admits("ab"));
        assert!(FULL_NAME.admits(""));
        assert_eq!(
            USERNAME.message("username"),
            "username must be 3 to 100 characters long"
        );
        assert_eq!(
            FULL_NAME.message("fullName"),
            "fullName must be at most 255 characters long"
        );
    }

    #[test]
    fn integer_bounds() {
        assert!(PAGE_LIMIT.admits(1000) && !PAGE_LIMIT.admits(1001) && !PAGE_LIMIT.admits(0));
        assert!(PAGE_SKIP.admits(i64::MAX) && !PAGE_SKIP.admits(-1));
        assert!(PAGE_LIMIT.admits(PAGE_LIMIT.default) && PAGE_SKIP.admits(PAGE_SKIP.default));
        assert_eq!(
            PAGE_LIMIT.message("limit"),
            "limit must be an integer from 1 to 1000"
        );
        assert_eq!(
            PAGE_SKIP.message("skip"),
            "skip must be an integer of at least 0"
        );
    }
}
