//! Content negotiation of GraphQL-over-HTTP responses: which of the two
//! GraphQL media types the client's `Accept` header allows, and whether a GET
//! comes from a browser that wants the GraphiQL page instead.

/// The media type of a GraphQL response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseMediaType {
    /// `application/graphql-response+json`: request errors get 4xx statuses.
    GraphQLResponseJson,
    /// `application/json`: the legacy type; well-formed requests always get 200.
    Json,
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

impl ResponseMediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphQLResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }

    /// The type to answer with, or `None` when the client accepts neither (406).
    /// A missing header means `application/json`, as does a bare wildcard; the
    /// newer type wins ties only when the client names it.
    pub fn negotiate(accept: Option<&str>) -> Option<Self> {
        let ranges = match accept.map(str::trim) {
            None | Some("") => return Some(Self::Json),
            Some(header) => parse_accept(header),
        };
        let graphql = preference(&ranges, GRAPHQL_RESPONSE_JSON);
        let json = preference(&ranges, JSON);
        match (graphql, json) {
            (None, None) => None,
            (Some(_), None) => Some(Self::GraphQLResponseJson),
            (None, Some(_)) => Some(Self::Json),
            (Some(graphql), Some(json)) => {
                let graphql_wins = graphql.q > json.q || (graphql.q == json.q && graphql.named);
                Some(if graphql_wins {
                    Self::GraphQLResponseJson
                } else {
                    Self::Json
                })
            }
        }
    }
}

/// Whether the client names `text/html` itself (a browser), rather than reaching it through `*/*`.
pub fn wants_html(accept: Option<&str>) -> bool {
    accept.map(parse_accept).is_some_and(|ranges| {
        ranges
            .iter()
            .any(|range| range.media_type == "text/html" && range.q > 0.0)
    })
}

struct MediaRange {
    media_type: String,
    q: f32,
}

fn parse_accept(header: &str) -> Vec<MediaRange> {
    header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let media_type = parts.next()?.trim().to_ascii_lowercase();
            if media_type.is_empty() {
                return None;
            }
            let q = parts
                .filter_map(|param| param.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, value)| value.trim().parse::<f32>().unwrap_or(0.0));
            Some(MediaRange { media_type, q })
        })
        .collect()
}

/// How much the client wants `media_type`: the quality of the most specific
/// range matching it, and whether that range names it exactly.
#[derive(Clone, Copy)]
struct Preference {
    q: f32,
    named: bool,
}

fn preference(ranges: &[MediaRange], media_type: &str) -> Option<Preference> {
    let main_type = media_type.split('/').next().unwrap_or(media_type);
    let specificity = |range: &MediaRange| -> Option<u8> {
        if range.media_type == media_type {
            Some(2)
        } else if range.media_type.strip_suffix("/*") == Some(main_type) {
            Some(1)
        } else if range.media_type == "*/*" {
            Some(0)
        } else {
            None
        }
    };
    ranges
        .iter()
        .filter_map(|range| specificity(range).map(|s| (s, range)))
        .max_by_key(|(s, _)| *s)
        .map(|(s, range)| Preference {
            q: range.q,
            named: s == 2,
        })
        .filter(|preference| preference.q > 0.0)
}

#[cfg(test)]
mod tests {
    use super::ResponseMediaType::{GraphQLResponseJson, Json};
    use super::*;

    #[test]
    fn negotiation_follows_the_graphql_over_http_spec() {
        let cases: &[(Option<&str>, Option<ResponseMediaType>)] = &[
            (None, Some(Json)),
            (Some(""), Some(Json)),
            (Some("*/*"), Some(Json)),
            (Some("application/*"), Some(Json)),
            (Some("application/json"), Some(Json)),
            (
                Some("application/graphql-response+json"),
                Some(GraphQLResponseJson),
            ),
            (
                Some("application/graphql-response+json, application/json"),
                Some(GraphQLResponseJson),
            ),
            (
                Some("application/json, application/graphql-response+json"),
                Some(GraphQLResponseJson),
            ),
            (
                Some("application/graphql-response+json;q=0.5, application/json"),
                Some(Json),
            ),
            (
                Some("application/graphql-response+json, */*;q=0.1"),
                Some(GraphQLResponseJson),
            ),
            (Some("application/json; charset=utf-8"), Some(Json)),
            (
                Some("text/html,application/xhtml+xml,*/*;q=0.8"),
                Some(Json),
            ),
            (Some("text/html"), None),
            (Some("application/xml"), None),
            (Some("application/json;q=0"), None),
            (Some("*/*, application/json;q=0"), Some(GraphQLResponseJson)),
        ];
        for (accept, expected) in cases {
            assert_eq!(
                ResponseMediaType::negotiate(*accept),
                *expected,
                "Accept: {accept:?}"
            );
        }
    }

    #[test]
    fn browsers_are_recognised_by_naming_html() {
        assert!(wants_html(Some(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!wants_html(Some("*/*")));
        assert!(!wants_html(Some("application/json")));
        assert!(!wants_html(None));
    }
}
