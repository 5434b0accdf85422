//! TaskTracker's access tokens: the claims the users service signs and every
//! subgraph verifies, their settings (`JwtArgs`), and the `Viewer` each request
//! resolves to. Kept apart from the service basics so that the router, which
//! runs in front of any issuer's tokens with its own verifier, never links
//! TaskTracker's claims; no async-graphql here (a resolver reads the viewer
//! with `subgraph_kit::ViewerExt`).

use std::str::FromStr;

use std::path::Path;

use chrono::Utc;
use clap::Args;
use common::server::bearer_token;
use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Settings of the access tokens the users service issues and every service checks.
#[derive(Debug, Clone, Args)]
pub struct JwtArgs {
    /// HMAC key for signing access tokens. When unset, a random key is generated
    /// once and stored in `<data-dir>/secret_key`, shared by every service using that directory.
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// JWT signing algorithm: HS256, HS384 or HS512 (HS256 interoperates with the original system).
    #[arg(long, env = "ALGORITHM", default_value = "HS256")]
    pub algorithm: String,

    /// Lifetime of an access token, in minutes.
    #[arg(long, env = "ACCESS_TOKEN_EXPIRE_MINUTES", default_value_t = 30)]
    pub access_token_expire_minutes: i64,
}

impl JwtArgs {
    /// The signing key: the configured one, or the one kept in the data directory.
    pub fn resolve_secret(&self, data_dir: &Path) -> anyhow::Result<String> {
        match &self.secret_key {
            Some(key) if !key.is_empty() => Ok(key.clone()),
            _ => common::config::secret_from_data_dir(data_dir),
        }
    }

    /// The keys to sign and verify tokens with, from these settings and the data directory's secret.
    pub fn keys(&self, data_dir: &Path) -> anyhow::Result<JwtKeys> {
        let secret = self.resolve_secret(data_dir)?;
        JwtKeys::new(&secret, &self.algorithm, self.access_token_expire_minutes)
    }
}

/// The claims of an access token, compatible with the original system's tokens:
/// `sub` is the user id as a string.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
}

/// Why a presented token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed, expired or not signed with our key")]
    Invalid,
    #[error("the token's subject is not a user id")]
    BadSubject,
}

/// Signs and verifies access tokens with one HMAC key.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    validation: Validation,
    lifetime: chrono::Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("algorithm", &self.header.alg)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(secret: &str, algorithm: &str, lifetime_minutes: i64) -> anyhow::Result<Self> {
        let algorithm = Algorithm::from_str(algorithm)
            .map_err(|_| anyhow::anyhow!("unknown JWT algorithm {algorithm:?}"))?;
        anyhow::ensure!(
            matches!(
                algorithm,
                Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
            ),
            "only HMAC algorithms (HS256, HS384, HS512) are supported, got {algorithm:?}"
        );
        anyhow::ensure!(lifetime_minutes > 0, "the token lifetime must be positive");
        let mut validation = Validation::new(algorithm);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes())?,
            decoding: DecodingKey::from_secret(secret.as_bytes())?,
            header: Header::new(algorithm),
            validation,
            lifetime: chrono::Duration::minutes(lifetime_minutes),
        })
    }

    /// A fresh access token for `user_id`.
    pub fn issue(&self, user_id: i64) -> anyhow::Result<String> {
        let now = Utc::now();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now.timestamp(),
            exp: (now + self.lifetime).timestamp(),
        };
        Ok(jsonwebtoken::encode(&self.header, &claims, &self.encoding)?)
    }

    /// The user id a token speaks for, if its signature and expiry hold.
    pub fn verify(&self, token: &str) -> Result<i64, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        data.claims
            .sub
            .parse::<i64>()
            .map_err(|_| TokenError::BadSubject)
    }

    /// Resolves the `Authorization` header of a request into a viewer.
    pub fn viewer(&self, headers: &HeaderMap) -> Viewer {
        match bearer_token(headers) {
            None => Viewer::Anonymous,
            Some(token) => match self.verify(token) {
                Ok(user_id) => Viewer::User(user_id),
                Err(_) => Viewer::InvalidToken,
            },
        }
    }
}

/// Who is asking: the outcome of checking a request's bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// No `Authorization` header.
    Anonymous,
    /// A token was presented but did not verify.
    InvalidToken,
    /// A verified token for this user id.
    User(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_tampered_ones_do_not() {
        let keys = JwtKeys::new("test-secret", "HS256", 30).expect("keys");
        let token = keys.issue(42).expect("token");
        assert_eq!(keys.verify(&token), Ok(42));
        let other = JwtKeys::new("other-secret", "HS256", 30).expect("keys");
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
        assert_eq!(keys.verify("not.a.jwt"), Err(TokenError::Invalid));
    }
}
