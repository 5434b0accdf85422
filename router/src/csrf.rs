//! CSRF prevention, as Apollo Router does it by default.
//!
//! A browser sends some cross-site requests without asking the server first (a
//! CORS preflight): GET, and POST whose `Content-Type` is `text/plain`,
//! `application/x-www-form-urlencoded`, `multipart/form-data` or missing. Such a
//! request carries the victim's cookies, and a query or mutation it causes runs
//! even though the page that sent it cannot read the answer. So the router only
//! executes a request that a browser could not have sent without a preflight: one
//! with another content type (`application/json`), or with one of the configured
//! headers (`apollo-require-preflight`, `x-apollo-operation-name` by default),
//! which no simple request can carry. Everything else is refused with 400
//! `CSRF_ERROR` before the body is read.

use std::str::FromStr;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, header};
use clap::Args;

use crate::config::Switch;

/// The content types a browser sends without a preflight (the fetch spec's CORS-safelisted ones).
const SIMPLE_CONTENT_TYPES: &[&str] = &[
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

/// The headers that mark a request as preflighted unless configured otherwise
/// (Apollo Router's defaults).
const DEFAULT_REQUIRED_HEADERS: [&str; 2] = ["x-apollo-operation-name", "apollo-require-preflight"];

/// Command line of CSRF prevention.
#[derive(Debug, Clone, Args)]
pub struct CsrfArgs {
    /// `on` refuses GraphQL requests a browser could send cross-site without a CORS preflight
    /// (GET, or POST with a simple or no content type) unless they carry a required header.
    #[arg(long = "csrf", env = "ROUTER_CSRF", value_enum, default_value_t = Switch::On)]
    pub csrf: Switch,

    /// Headers any one of which marks a request as preflighted (repeatable; the environment
    /// variable takes a comma-separated list).
    #[arg(id = "csrf_required_headers", value_name = "NAME")]
    #[arg(long = "csrf-required-header", default_values = DEFAULT_REQUIRED_HEADERS)]
    #[arg(env = "ROUTER_CSRF_REQUIRED_HEADERS", value_delimiter = ',')]
    pub required_headers: Vec<RequiredHeader>,
}

/// A header name from `--csrf-required-header`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredHeader(pub HeaderName);

impl FromStr for RequiredHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        HeaderName::from_str(text.trim())
            .map(Self)
            .map_err(|_| format!("{text:?} is not a header name"))
    }
}

/// The CSRF check every GraphQL request passes first.
#[derive(Debug, Clone)]
pub struct Csrf {
    /// `None` when the check is off.
    required_headers: Option<Arc<[HeaderName]>>,
}

/// A request a browser could have sent cross-site without a preflight.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header (with a mime-type that is not one of application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide one of the following headers: {headers}"
)]
pub struct CsrfRefusal {
    headers: String,
}

impl Csrf {
    pub fn new(args: &CsrfArgs) -> Self {
        Self {
            required_headers: (args.csrf == Switch::On).then(|| {
                args.required_headers
                    .iter()
                    .map(|header| header.0.clone())
                    .collect()
            }),
        }
    }

    /// Passes requests that forced a preflight; only reads headers.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), CsrfRefusal> {
        let Some(required) = &self.required_headers else {
            return Ok(());
        };
        if content_type_forces_preflight(headers)
            || required.iter().any(|name| headers.contains_key(name))
        {
            return Ok(());
        }
        Err(CsrfRefusal {
            headers: required
                .iter()
                .map(HeaderName::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// True when a `Content-Type` is present and is not one a simple request may carry.
/// A value that is not valid text cannot be a safelisted one either.
fn content_type_forces_preflight(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONTENT_TYPE).iter().any(|value| {
        let Ok(text) = value.to_str() else {
            return true;
        };
        let essence = text.split(';').next().unwrap_or_default().trim();
        !SIMPLE_CONTENT_TYPES
            .iter()
            .any(|simple| essence.eq_ignore_ascii_case(simple))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        csrf: CsrfArgs,
    }

    fn csrf(args: &[&str]) -> Csrf {
        let cli = Cli::try_parse_from(std::iter::once("router").chain(args.iter().copied()))
            .expect("valid arguments");
        Csrf::new(&cli.csrf)
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn simple_requests_are_refused_unless_they_force_a_preflight() {
        let check = csrf(&[]);
        for refused in [
            headers(&[]),
            headers(&[("content-type", "text/plain")]),
            headers(&[("content-type", "Text/Plain; charset=utf-8")]),
            headers(&[("content-type", "application/x-www-form-urlencoded")]),
            headers(&[("content-type", "multipart/form-data; boundary=x")]),
            headers(&[("x-other", "1")]),
        ] {
            assert!(check.check(&refused).is_err(), "{refused:?}");
        }
        for passed in [
            headers(&[("content-type", "application/json")]),
            headers(&[("content-type", "application/graphql-response+json")]),
            headers(&[("apollo-require-preflight", "true")]),
            headers(&[("x-apollo-operation-name", "Q")]),
            headers(&[
                ("content-type", "text/plain"),
                ("apollo-require-preflight", ""),
            ]),
        ] {
            assert!(check.check(&passed).is_ok(), "{passed:?}");
        }
    }

    #[test]
    fn the_required_headers_and_the_switch_are_configurable() {
        let custom = csrf(&["--csrf-required-header", "x-my-app"]);
        assert!(custom.check(&headers(&[("x-my-app", "1")])).is_ok());
        let refusal = custom
            .check(&headers(&[("apollo-require-preflight", "true")]))
            .expect_err("only the configured header counts");
        assert!(
            refusal.to_string().ends_with("headers: x-my-app"),
            "{refusal}"
        );
        assert!(csrf(&["--csrf", "off"]).check(&headers(&[])).is_ok());
    }
}
