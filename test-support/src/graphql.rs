//! One GraphQL-over-HTTP client helper for every test kit: a POST of
//! `{query, variables}` with an optional bearer token, and the answer kept as
//! status, text (to search for what must never appear) and JSON.

use serde_json::{Value, json};

/// The POST request of one operation to `url` (a `/graphql` endpoint), not yet
/// sent, for kits that classify transport failures themselves.
pub fn request(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> reqwest::RequestBuilder {
    let request = client
        .post(url)
        .json(&json!({"query": query, "variables": variables}));
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// Sends one operation to `url` (a `/graphql` endpoint) and reads the answer,
/// which must be JSON.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> GraphqlReply {
    let response = request(client, url, token, query, variables)
        .send()
        .await
        .unwrap_or_else(|err| panic!("{url} answers: {err}"));
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("not JSON ({err}), status {status}: {text}"));
    GraphqlReply { status, text, json }
}

/// One GraphQL answer.
#[derive(Debug, Clone)]
pub struct GraphqlReply {
    pub status: u16,
    pub text: String,
    pub json: Value,
}

impl GraphqlReply {
    /// The `extensions.code` of every error, in order.
    pub fn error_codes(&self) -> Vec<&str> {
        self.json["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|error| error["extensions"]["code"].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `data`, after asserting that there were no errors.
    #[track_caller]
    pub fn data(&self) -> &Value {
        assert_eq!(
            self.json["errors"],
            Value::Null,
            "unexpected errors: {}",
            self.text
        );
        &self.json["data"]
    }

    /// The JSON body, after asserting the status was 200 (GraphQL errors included).
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "GraphQL answers 200: {}", self.text);
        self.json
    }
}
