//! How the public contract writes a timestamp: RFC 3339 in UTC with a `Z` and
//! microseconds (`2025-11-15T18:20:31.123456Z`), as the original API did. The
//! subgraphs' `DateTime` scalar and the REST layer both write it from here.

use chrono::{SecondsFormat, Utc};

/// `moment` as the contract writes it.
pub fn rfc3339(moment: &chrono::DateTime<Utc>) -> String {
    moment.to_rfc3339_opts(SecondsFormat::Micros, true)
}
