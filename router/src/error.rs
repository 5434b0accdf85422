//! Requests the HTTP layer refuses before (or instead of) execution, and the
//! status and GraphQL error body each one is answered with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use common::graphql_http::truncate_message;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::config::ResponseLimits;
use crate::engine::{GraphQLError, Location, OverCap, RequestErrorKind};
use crate::negotiation::ResponseMediaType;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "The Accept header allows neither application/graphql-response+json nor application/json"
    )]
    NotAcceptable,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("The request body is larger than the limit (max-body-bytes) of {max_bytes} bytes")]
    PayloadTooLarge { max_bytes: usize },
    /// Not a GraphQL-over-HTTP request: malformed JSON, no query, parameters of the wrong type.
    #[error("{0}")]
    BadRequest(String),
    #[error("Could not validate credentials")]
    Unauthenticated,
    /// A request a browser could have sent cross-site without a preflight (see `csrf`).
    #[error("{0}")]
    Csrf(crate::csrf::CsrfRefusal),
    #[error("{}", common::graphql_http::MUTATION_OVER_GET_MESSAGE)]
    MutationViaGet,
    /// A limit on what reading the request costs: 400 whatever the media type.
    #[error("{0}")]
    Limit(crate::limits::LimitExceeded),
    /// Refused by demand control before any subgraph was called: 400 whatever the media type.
    #[error("{0}")]
    Cost(crate::demand_control::CostError),
    /// A batch of operations refused whole (see `batching`): 400.
    #[error("{message}")]
    Batch { message: String, code: &'static str },
    /// The request's deadline (`--request-timeout-ms`) passed.
    #[error("The request took longer than the limit (request-timeout-ms) of {} ms", after.as_millis())]
    Timeout { after: std::time::Duration },
    /// The document does not parse, breaks a limit or does not validate: as for any
    /// GraphQL error response, the status depends on the media type.
    #[error("the operation was refused")]
    Refused {
        kind: RequestErrorKind,
        errors: Vec<GraphQLError>,
    },
}

impl Error {
    /// A refusal with one error carrying `code` (and more extensions, if any).
    pub fn refused(
        kind: RequestErrorKind,
        message: String,
        code: &str,
        locations: Option<Vec<Location>>,
        mut extensions: Map<String, Value>,
    ) -> Self {
        extensions.insert("code".to_owned(), Value::from(code));
        Self::Refused {
            kind,
            errors: vec![GraphQLError {
                message,
                locations,
                path: None,
                extensions: Some(extensions),
            }],
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::NotAcceptable => "NOT_ACCEPTABLE",
            Error::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Error::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Error::BadRequest(_) => "BAD_REQUEST",
            Error::Unauthenticated => common::errors::ErrorCode::Unauthenticated.as_str(),
            Error::MutationViaGet => common::graphql_http::MUTATION_OVER_GET_CODE,
            Error::Csrf(_) => "CSRF_ERROR",
            Error::Limit(error) => error.limit.code(),
            Error::Cost(error) => error.code(),
            Error::Timeout { .. } => "GATEWAY_TIMEOUT",
            Error::Batch { code, .. } => code,
            Error::Refused { .. } => "GRAPHQL_VALIDATION_FAILED",
        }
    }

    fn status(&self, media: ResponseMediaType) -> StatusCode {
        match self {
            Error::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthenticated => StatusCode::UNAUTHORIZED,
            Error::MutationViaGet => StatusCode::METHOD_NOT_ALLOWED,
            Error::Limit(_) | Error::Cost(_) | Error::Csrf(_) | Error::Batch { .. } => {
                StatusCode::BAD_REQUEST
            }
            Error::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Error::Refused { kind, .. } => refusal_status(*kind, media),
        }
    }

    /// The response, with the body in the negotiated media type.
    pub fn into_response_as(self, media: ResponseMediaType) -> Response {
        let (status, body) = self.into_parts(media);
        let mut response = graphql_body(status, media, &body);
        if status == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }

    /// The status and the GraphQL response body (`{"errors": [...]}`) of the refusal.
    pub fn into_parts(self, media: ResponseMediaType) -> (StatusCode, Value) {
        let status = self.status(media);
        let errors = match self {
            Error::Refused { errors, .. } => errors,
            Error::Cost(crate::demand_control::CostError::TooExpensive { estimated, max }) => {
                vec![GraphQLError {
                    message: self.to_string(),
                    locations: None,
                    path: None,
                    extensions: Some(Map::from_iter([
                        ("code".to_owned(), Value::from(self.code())),
                        ("estimatedCost".to_owned(), Value::from(estimated)),
                        ("maxCost".to_owned(), Value::from(max)),
                    ])),
                }]
            }
            Error::Limit(error) => vec![GraphQLError {
                message: error.to_string(),
                locations: None,
                path: None,
                extensions: Some(Map::from_iter([
                    ("code".to_owned(), Value::from(error.limit.code())),
                    ("limit".to_owned(), Value::from(error.limit.name())),
                    ("max".to_owned(), Value::from(error.max)),
                ])),
            }],
            other => vec![GraphQLError {
                message: other.to_string(),
                locations: None,
                path: None,
                extensions: Some(Map::from_iter([(
                    "code".to_owned(),
                    Value::from(other.code()),
                )])),
            }],
        };
        (status, json!({ "errors": errors }))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.into_response_as(ResponseMediaType::Json)
    }
}

/// The status of a request the engine (or the edge) refused before execution: the
/// media type decides, whatever the kind (a mutation over GET is `Error::MutationViaGet`).
pub fn refusal_status(_kind: RequestErrorKind, media: ResponseMediaType) -> StatusCode {
    match media {
        ResponseMediaType::GraphQLResponseJson => StatusCode::BAD_REQUEST,
        ResponseMediaType::Json => StatusCode::OK,
    }
}

/// A JSON body with the media type's content type.
pub fn graphql_body(status: StatusCode, media: ResponseMediaType, body: &Value) -> Response {
    serialised_body(status, media, Bytes::from(body.to_string()))
}

/// Like [`graphql_body`], but a body over `--max-response-bytes` is replaced by
/// one RESPONSE_TOO_LARGE error (see [`serialise_bounded`]).
pub fn bounded_body(
    status: StatusCode,
    media: ResponseMediaType,
    body: &impl Serialize,
    limits: &ResponseLimits,
) -> Response {
    serialised_body(status, media, serialise_bounded(body, limits))
}

/// `body` as JSON text, or, when that is over `--max-response-bytes`, one
/// RESPONSE_TOO_LARGE error. Serialising stops as soon as the limit is passed,
/// so the oversized text is never held whole.
pub fn serialise_bounded(body: &impl Serialize, limits: &ResponseLimits) -> Bytes {
    bounded_text(limits, |out, cap| {
        // The writer is the serialiser's own (not borrowed): each token's write is inlined.
        let mut serializer = serde_json::Serializer::new(CappedWriter { bytes: out, cap });
        body.serialize(&mut serializer).map_err(|_| OverCap)
    })
}

/// The JSON text `write` puts in a buffer (stopping with [`OverCap`] once past the
/// cap it is given), or, over `--max-response-bytes`, one RESPONSE_TOO_LARGE error.
pub fn bounded_text(
    limits: &ResponseLimits,
    write: impl FnOnce(&mut Vec<u8>, usize) -> Result<(), OverCap>,
) -> Bytes {
    let cap = limits.max_response_bytes;
    let mut text = Vec::with_capacity(4096);
    if write(&mut text, cap).is_ok() && text.len() <= cap {
        return Bytes::from(text);
    }
    let error = GraphQLError::new(format!(
        "The response is larger than the limit (max-response-bytes) of {cap} bytes"
    ))
    .with_code("RESPONSE_TOO_LARGE");
    Bytes::from(json!({ "data": null, "errors": [error] }).to_string())
}

/// A GraphQL response from its serialised body (JSON text).
pub fn serialised_body(status: StatusCode, media: ResponseMediaType, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    response
}

/// A `Vec` that refuses to grow past `cap` bytes.
struct CappedWriter<'b> {
    bytes: &'b mut Vec<u8>,
    cap: usize,
}

/// The serialiser writes one token at a time: each write is inlined into it.
impl std::io::Write for CappedWriter<'_> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.bytes.len().saturating_add(buf.len()) > self.cap {
            return Err(std::io::Error::other("over max-response-bytes"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// At most `--max-errors` errors, each message at most `--max-error-message-bytes`
/// long: messages may echo the request (a 1 MB string argument), and one
/// document may draw thousands of errors. What was left out is said in one last error.
pub fn bound_errors(mut errors: Vec<GraphQLError>, limits: &ResponseLimits) -> Vec<GraphQLError> {
    let left_out = errors.len().saturating_sub(limits.max_errors);
    errors.truncate(limits.max_errors);
    for error in &mut errors {
        truncate_message(&mut error.message, limits.max_error_message_bytes);
        if let Some(extensions) = &mut error.extensions {
            // Subgraphs' extensions may carry anything; only short strings are kept whole.
            for value in extensions.values_mut() {
                if let Value::String(text) = value {
                    truncate_message(text, limits.max_error_message_bytes);
                }
            }
        }
    }
    if left_out > 0 {
        errors.push(
            GraphQLError::new(format!(
                "{left_out} more errors were left out: the limit (max-errors) is {}",
                limits.max_errors
            ))
            .with_code("TOO_MANY_ERRORS"),
        );
    }
    errors
}

impl Error {
    /// The same refusal with its errors bounded as [`bound_errors`] does.
    pub fn bounded(self, limits: &ResponseLimits) -> Self {
        match self {
            Error::Refused { kind, errors } => Error::Refused {
                kind,
                errors: bound_errors(errors, limits),
            },
            // Every other message is the router's own, of bounded length.
            other => other,
        }
    }
}
