//! The error codes of the public GraphQL contract (`extensions.code`), shared so
//! that every subgraph spells them the same way and every reader of an answer
//! (the REST layer, the tasks subgraph asking the users subgraph) matches them
//! as [`ErrorCode`] values rather than string literals.

use std::str::FromStr;

/// Declares [`ErrorCode`] from one table of variants and their spelling, so
/// that the enum, [`ErrorCode::as_str`] and parsing cannot drift apart: a new
/// code is one more row.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $code:literal,)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)+
        }

        impl ErrorCode {
            /// Every code of the contract.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }
        }

        impl FromStr for ErrorCode {
            type Err = UnknownErrorCode;

            fn from_str(code: &str) -> Result<Self, Self::Err> {
                match code {
                    $($code => Ok(ErrorCode::$variant),)+
                    _ => Err(UnknownErrorCode),
                }
            }
        }
    };
}

error_codes! {
    Unauthenticated => "UNAUTHENTICATED",
    Forbidden => "FORBIDDEN",
    BadUserInput => "BAD_USER_INPUT",
    NotFound => "NOT_FOUND",
    Conflict => "CONFLICT",
    InternalServerError => "INTERNAL_SERVER_ERROR",
    SubgraphUnavailable => "SUBGRAPH_UNAVAILABLE",
    /// The router did not fetch a field because another fetch it depends on
    /// answered with errors: those errors, not this one, say what went wrong.
    SubgraphError => "SUBGRAPH_ERROR",
    /// A subgraph's own store (or another dependency) cannot be reached right now.
    ServiceUnavailable => "SERVICE_UNAVAILABLE",
}

/// The router's subgraph failure codes all start with this (`SUBGRAPH_UNAVAILABLE`,
/// and one per kind of failure: timeout, refused connection, HTTP error, …).
pub const SUBGRAPH_FAILURE_PREFIX: &str = "SUBGRAPH_";

impl ErrorCode {
    /// Whether `code` (as read from an answer, known here or not) says a part
    /// of the system could not serve, rather than that the request was wrong:
    /// a subgraph's own `SERVICE_UNAVAILABLE` (its store cannot be reached) and
    /// every router subgraph failure code (`SUBGRAPH_*`, including kinds added
    /// after this was written), except `SUBGRAPH_ERROR`, which follows other
    /// errors that decide.
    pub fn is_unavailability(code: &str) -> bool {
        match code.parse::<ErrorCode>() {
            Ok(known) => matches!(
                known,
                ErrorCode::ServiceUnavailable | ErrorCode::SubgraphUnavailable
            ),
            Err(UnknownErrorCode) => code.starts_with(SUBGRAPH_FAILURE_PREFIX),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code this contract does not define (another router's, or a newer one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownErrorCode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_as_written() {
        for &code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        }
        assert_eq!(
            "SUBGRAPH_TIMEOUT".parse::<ErrorCode>(),
            Err(UnknownErrorCode)
        );
    }

    #[test]
    fn unavailability_covers_every_subgraph_failure_kind() {
        for code in [
            "SERVICE_UNAVAILABLE",
            "SUBGRAPH_UNAVAILABLE",
            "SUBGRAPH_TIMEOUT",
            "SUBGRAPH_CIRCUIT_OPEN",
        ] {
            assert!(ErrorCode::is_unavailability(code), "{code}");
        }
        for code in [
            "SUBGRAPH_ERROR",
            "BAD_USER_INPUT",
            "NOT_FOUND",
            "SOMETHING_ELSE",
        ] {
            assert!(!ErrorCode::is_unavailability(code), "{code}");
        }
    }
}
