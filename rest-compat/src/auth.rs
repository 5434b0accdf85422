//! The caller's bearer token, passed through to the router untouched: this
//! layer holds no keys and decides nothing about tokens beyond FastAPI's
//! `OAuth2PasswordBearer` rule (no `Bearer` header → 401 "Not authenticated").

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};

use crate::error::Error;

/// Who is calling: the request's `Authorization` header if it is a bearer one,
/// and the request id to carry on to the router. Never rejects, so that
/// handlers can check the body first, as FastAPI does.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    authorization: Option<HeaderValue>,
    /// A bearer header whose token cannot be one (`Bearer  abc` with two spaces,
    /// `Bearer` alone): FastAPI took everything after the first space as the
    /// token, which then failed to decode, so the answer is "Could not validate credentials".
    malformed: bool,
    pub request_id: Option<HeaderValue>,
}

impl Caller {
    /// The header to forward, or FastAPI's 401 when there is no usable bearer token.
    pub fn require(&self) -> Result<&HeaderValue, Error> {
        if self.malformed {
            return Err(Error::InvalidCredentials);
        }
        self.authorization.as_ref().ok_or(Error::NotAuthenticated)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Starlette's `get_authorization_scheme_param`: split at the first space.
        let bearer = parts.headers.get(header::AUTHORIZATION).filter(|value| {
            let bytes = value.as_bytes();
            let scheme = bytes.split(|b| *b == b' ').next().unwrap_or_default();
            scheme.eq_ignore_ascii_case(b"bearer")
        });
        let malformed = bearer.is_some_and(|value| {
            let token = value
                .as_bytes()
                .splitn(2, |b| *b == b' ')
                .nth(1)
                .unwrap_or_default();
            token.is_empty() || token.iter().any(u8::is_ascii_whitespace)
        });
        Ok(Caller {
            authorization: bearer.cloned(),
            malformed,
            request_id: parts
                .headers
                .get(common::server::REQUEST_ID_HEADER)
                .cloned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    async fn credentials(authorization: Option<&'static str>) -> Caller {
        let mut request = Request::builder();
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let (mut parts, ()) = request.body(()).expect("request").into_parts();
        match Caller::from_request_parts(&mut parts, &()).await {
            Ok(credentials) => credentials,
            Err(never) => match never {},
        }
    }

    #[tokio::test]
    async fn only_bearer_headers_count() {
        assert!(credentials(Some("Bearer abc")).await.require().is_ok());
        assert!(credentials(Some("bearer abc")).await.require().is_ok());
        assert!(matches!(
            credentials(Some("Basic abc")).await.require(),
            Err(Error::NotAuthenticated)
        ));
        assert!(matches!(
            credentials(None).await.require(),
            Err(Error::NotAuthenticated)
        ));
        for malformed in ["Bearer  abc", "Bearer", "Bearer abc def"] {
            assert!(
                matches!(
                    credentials(Some(malformed)).await.require(),
                    Err(Error::InvalidCredentials)
                ),
                "{malformed:?}"
            );
        }
    }
}
