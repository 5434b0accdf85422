//! Requests the HTTP layer refuses before (or instead of) execution, and the
//! status and GraphQL error body each one is answered with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::engine::{GraphQLError, Location, RequestErrorKind};
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
    #[error("Mutations are only accepted with POST")]
    MutationViaGet,
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
            Error::MutationViaGet => "METHOD_NOT_ALLOWED",
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
            Error::Refused { kind, .. } => refusal_status(*kind, media),
        }
    }

    /// The response, with the body in the negotiated media type.
    pub fn into_response_as(self, media: ResponseMediaType) -> Response {
        let status = self.status(media);
        let method_not_allowed = status == StatusCode::METHOD_NOT_ALLOWED;
        let unauthenticated = status == StatusCode::UNAUTHORIZED;
        let errors = match self {
            Error::Refused { errors, .. } => errors,
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
        let mut response = graphql_body(status, media, &json!({ "errors": errors }));
        if method_not_allowed {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        if unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.into_response_as(ResponseMediaType::Json)
    }
}

/// The status of a request the engine (or the edge) refused before execution.
pub fn refusal_status(kind: RequestErrorKind, media: ResponseMediaType) -> StatusCode {
    match (kind, media) {
        (RequestErrorKind::MutationNotAllowed, _) => StatusCode::METHOD_NOT_ALLOWED,
        (_, ResponseMediaType::GraphQLResponseJson) => StatusCode::BAD_REQUEST,
        (_, ResponseMediaType::Json) => StatusCode::OK,
    }
}

/// A JSON body with the media type's content type.
pub fn graphql_body(status: StatusCode, media: ResponseMediaType, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    response
}
