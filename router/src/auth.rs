//! Bearer tokens checked at the edge (`--require-valid-token`), whoever issued them.
//!
//! The router is general: it sits in front of any supergraph, whose tokens may come
//! from any issuer and carry any claims. So it checks only what every JWT has —
//! the signature, the expiry (`exp`, and `nbf` when present) and, when configured,
//! the issuer and audience — and never the shape of other claims (`sub` may be
//! `"42"` or `"auth0|abc"`): what a claim means is for the subgraphs, which get the
//! `Authorization` header unchanged. Keys are a shared HMAC secret, or the issuer's
//! public keys as a JSON Web Key Set (what Auth0, Keycloak, Cognito… publish), read
//! from a file at start. Another way of checking tokens (a JWKS fetched and
//! refreshed, an introspection endpoint) is another [`TokenVerifier`].

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use axum::http::HeaderMap;
use clap::Args;
use common::server::bearer_token;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// Checks the token a request presents.
pub trait TokenVerifier: Send + Sync + 'static {
    /// `Ok(None)` when the request presents no bearer token (it may still be
    /// answered, as anonymous); `Err` when it presents one that does not verify.
    fn verify(&self, headers: &HeaderMap) -> Result<Option<VerifiedToken>, TokenRefusal>;
}

/// A token whose signature and validity period held.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// Its claims, as the issuer wrote them.
    pub claims: Map<String, Value>,
}

/// Why a presented token was refused (logged; the client gets one UNAUTHENTICATED error
/// whatever the reason, so as not to help anyone forge tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is signed with another key or algorithm")]
    BadSignature,
    #[error("the token has expired or is not valid yet")]
    Expired,
    #[error("the token's issuer or audience is not the configured one")]
    WrongParty,
    #[error("the token lacks a claim every token must carry: {0}")]
    MissingClaim(String),
}

/// How tokens are checked at the edge.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Check bearer tokens at the edge: a request whose `Authorization` token is present but
    /// does not verify (signature, expiry, issuer/audience when set) is refused with 401
    /// UNAUTHENTICATED before planning. Requests without a token still pass. Other claims
    /// are not looked at: they are the subgraphs' business.
    #[arg(long, env = "ROUTER_REQUIRE_VALID_TOKEN")]
    pub require_valid_token: bool,

    /// HMAC key of the tokens (HS256/384/512). When unset, `<data-dir>/secret_key`
    /// (created if missing, as the other TaskTracker services do). Not read with --token-jwks.
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Signature algorithm of the tokens: HS256, HS384 or HS512 with the shared secret; with
    /// --token-jwks, the algorithm of the keys that name none (RS256/384/512, PS256/384/512,
    /// ES256, ES384, EdDSA).
    #[arg(long, env = "ALGORITHM", default_value = "HS256")]
    pub algorithm: String,

    /// A JSON Web Key Set file (`{"keys": [...]}`) of the issuer's public keys, read at
    /// start: a token is verified with the key its header's `kid` names (or the only key),
    /// under that key's `alg`.
    #[arg(long, env = "ROUTER_TOKEN_JWKS", value_name = "JWKS_FILE")]
    pub token_jwks: Option<PathBuf>,

    /// Issuer (`iss`) tokens must name (repeatable, or comma-separated in the environment:
    /// any one of them). Unset, `iss` is not checked.
    #[arg(
        long = "token-issuer",
        env = "ROUTER_TOKEN_ISSUERS",
        value_delimiter = ','
    )]
    pub token_issuers: Vec<String>,

    /// Audience (`aud`) tokens must include (repeatable, or comma-separated in the
    /// environment: any one of them). Unset, `aud` is not checked.
    #[arg(
        long = "token-audience",
        env = "ROUTER_TOKEN_AUDIENCES",
        value_delimiter = ','
    )]
    pub token_audiences: Vec<String>,

    /// Where the generated secret key is found when SECRET_KEY is unset.
    #[arg(long, env = "TASKTRACKER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

impl TokenArgs {
    /// The verifier these settings ask for; `None` when tokens are left to the subgraphs.
    pub fn verifier(&self) -> anyhow::Result<Option<JwtVerifier>> {
        if !self.require_valid_token {
            return Ok(None);
        }
        let algorithm = Algorithm::from_str(self.algorithm.trim())
            .map_err(|_| anyhow::anyhow!("unknown JWT algorithm {:?}", self.algorithm))?;
        let keys = match &self.token_jwks {
            Some(path) => jwks_keys(path, algorithm)?,
            None => {
                anyhow::ensure!(
                    is_hmac(algorithm),
                    "{algorithm:?} tokens are verified with the issuer's public keys: set --token-jwks"
                );
                let secret = match &self.secret_key {
                    Some(key) if !key.is_empty() => key.clone(),
                    _ => common::config::secret_from_data_dir(&self.data_dir)?,
                };
                vec![VerifyingKey {
                    kid: None,
                    algorithm,
                    key: DecodingKey::from_secret(secret.as_bytes())?,
                }]
            }
        };
        Ok(Some(JwtVerifier::new(
            keys,
            &self.token_issuers,
            &self.token_audiences,
        )))
    }
}

fn is_hmac(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    )
}

/// The keys of a JWKS file; a key without `alg` takes `default_algorithm`. A key that
/// cannot verify anything (unknown type, an encryption algorithm, an algorithm of
/// another family than the key's) stops the router: it would refuse every token.
fn jwks_keys(path: &Path, default_algorithm: Algorithm) -> anyhow::Result<Vec<VerifyingKey>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the token key set {}", path.display()))?;
    let set: JwkSet = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON Web Key Set", path.display()))?;
    anyhow::ensure!(!set.keys.is_empty(), "{} holds no key", path.display());
    set.keys
        .iter()
        .enumerate()
        .map(|(index, jwk)| {
            let name = jwk
                .common
                .key_id
                .clone()
                .unwrap_or_else(|| format!("#{index}"));
            let algorithm = match jwk.common.key_algorithm {
                Some(algorithm) => Algorithm::try_from(algorithm).map_err(|_| {
                    anyhow::anyhow!("key {name}: {algorithm} is not a signature algorithm")
                })?,
                None => default_algorithm,
            };
            let key = DecodingKey::from_jwk(jwk)
                .map_err(|error| anyhow::anyhow!("key {name}: {error}"))?;
            anyhow::ensure!(
                key.family() == algorithm.family(),
                "key {name} cannot verify {algorithm:?} signatures (set its \"alg\", or ALGORITHM)"
            );
            Ok(VerifyingKey {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key,
            })
        })
        .collect()
}

/// One key a token may be signed with.
pub struct VerifyingKey {
    /// The `kid` tokens signed with it name in their header.
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

/// Verifies JWTs with a set of keys, each with its algorithm.
pub struct JwtVerifier {
    keys: Vec<(VerifyingKey, Validation)>,
}

impl JwtVerifier {
    /// `issuers`/`audiences` empty: that claim is not checked.
    pub fn new(keys: Vec<VerifyingKey>, issuers: &[String], audiences: &[String]) -> JwtVerifier {
        let keys = keys
            .into_iter()
            .map(|key| {
                let validation = validation(key.algorithm, issuers, audiences);
                (key, validation)
            })
            .collect();
        JwtVerifier { keys }
    }

    /// Verifies one token.
    pub fn verify_token(&self, token: &str) -> Result<VerifiedToken, TokenRefusal> {
        use jsonwebtoken::errors::ErrorKind;
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRefusal::Malformed)?;
        // The key the token names; a token naming none may use the only key there is.
        let (key, validation) = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|(key, _)| key.kid.as_deref() == Some(kid.as_str()))
                .or_else(|| self.only_key()),
            None => self.only_key(),
        }
        .ok_or(TokenRefusal::BadSignature)?;
        jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, validation)
            .map(|data| VerifiedToken {
                claims: data.claims,
            })
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::InvalidKeyFormat => TokenRefusal::BadSignature,
                ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => TokenRefusal::Expired,
                ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => TokenRefusal::WrongParty,
                ErrorKind::MissingRequiredClaim(claim) => TokenRefusal::MissingClaim(claim.clone()),
                _ => TokenRefusal::Malformed,
            })
    }

    fn only_key(&self) -> Option<&(VerifyingKey, Validation)> {
        match self.keys.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }
}

/// What a token signed with `algorithm` must satisfy besides its signature.
fn validation(algorithm: Algorithm, issuers: &[String], audiences: &[String]) -> Validation {
    let mut validation = Validation::new(algorithm);
    // Issuer and router clocks are in sync (NTP): a token is valid until its `exp`, not after.
    validation.leeway = 0;
    validation.validate_nbf = true;
    let mut required = vec!["exp"];
    if !issuers.is_empty() {
        validation.set_issuer(issuers);
        required.push("iss");
    }
    // Unset, `aud` is not looked at (jsonwebtoken would otherwise refuse every token carrying one).
    validation.validate_aud = !audiences.is_empty();
    if !audiences.is_empty() {
        validation.set_audience(audiences);
        required.push("aud");
    }
    validation.set_required_spec_claims(&required);
    validation
}

impl TokenVerifier for JwtVerifier {
    fn verify(&self, headers: &HeaderMap) -> Result<Option<VerifiedToken>, TokenRefusal> {
        bearer_token(headers)
            .map(|token| self.verify_token(token))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header::AUTHORIZATION;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"unit-test-secret";

    fn verifier(issuers: &[&str], audiences: &[&str]) -> JwtVerifier {
        let owned = |items: &[&str]| {
            items
                .iter()
                .map(|item| item.to_string())
                .collect::<Vec<_>>()
        };
        let key = VerifyingKey {
            kid: None,
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(SECRET).expect("key"),
        };
        JwtVerifier::new(vec![key], &owned(issuers), &owned(audiences))
    }

    fn sign(claims: Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET).expect("key"),
        )
        .expect("token")
    }

    fn in_an_hour() -> u64 {
        jsonwebtoken::get_current_timestamp() + 3600
    }

    #[test]
    fn any_subject_passes_and_the_claims_come_back() {
        let verifier = verifier(&[], &[]);
        for sub in [json!("auth0|abc"), json!("42"), json!(42), json!(null)] {
            let token = sign(json!({ "sub": sub, "exp": in_an_hour(), "aud": "anyone" }));
            let verified = verifier.verify_token(&token).expect("verifies");
            assert_eq!(verified.claims["sub"], sub);
        }
        // No `sub` at all is fine too: only `exp` is required.
        let token = sign(json!({ "exp": in_an_hour() }));
        assert!(verifier.verify_token(&token).is_ok());
    }

    #[test]
    fn expiry_signature_and_shape_are_checked() {
        let verifier = verifier(&[], &[]);
        let expired = sign(json!({ "sub": "a", "exp": 1_000_000_000 }));
        assert_eq!(verifier.verify_token(&expired), Err(TokenRefusal::Expired));
        let not_yet = sign(json!({ "exp": in_an_hour(), "nbf": in_an_hour() }));
        assert_eq!(verifier.verify_token(&not_yet), Err(TokenRefusal::Expired));
        let no_expiry = sign(json!({ "sub": "a" }));
        assert_eq!(
            verifier.verify_token(&no_expiry),
            Err(TokenRefusal::MissingClaim("exp".to_owned()))
        );
        let foreign = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!({ "exp": in_an_hour() }),
            &EncodingKey::from_secret(b"another-secret").expect("key"),
        )
        .expect("token");
        assert_eq!(
            verifier.verify_token(&foreign),
            Err(TokenRefusal::BadSignature)
        );
        let other_algorithm = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &json!({ "exp": in_an_hour() }),
            &EncodingKey::from_secret(SECRET).expect("key"),
        )
        .expect("token");
        assert_eq!(
            verifier.verify_token(&other_algorithm),
            Err(TokenRefusal::BadSignature)
        );
        for malformed in ["not-a-jwt", "a.b.c", ""] {
            assert_eq!(
                verifier.verify_token(malformed),
                Err(TokenRefusal::Malformed),
                "{malformed}"
            );
        }
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let verifier = verifier(&["https://issuer.example"], &["router"]);
        let good = sign(json!({
            "exp": in_an_hour(), "iss": "https://issuer.example", "aud": ["other", "router"]
        }));
        assert!(verifier.verify_token(&good).is_ok());
        for claims in [
            json!({ "exp": in_an_hour(), "iss": "https://evil.example", "aud": "router" }),
            json!({ "exp": in_an_hour(), "iss": "https://issuer.example", "aud": "other" }),
        ] {
            assert_eq!(
                verifier.verify_token(&sign(claims)),
                Err(TokenRefusal::WrongParty)
            );
        }
        let no_audience = sign(json!({ "exp": in_an_hour(), "iss": "https://issuer.example" }));
        assert_eq!(
            verifier.verify_token(&no_audience),
            Err(TokenRefusal::MissingClaim("aud".to_owned()))
        );
    }

    #[test]
    fn only_bearer_tokens_are_looked_at() {
        let verifier = verifier(&[], &[]);
        let mut headers = HeaderMap::new();
        assert_eq!(verifier.verify(&headers), Ok(None));
        headers.insert(AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert_eq!(verifier.verify(&headers), Ok(None));
        headers.insert(AUTHORIZATION, "bearer ".parse().expect("header"));
        assert_eq!(verifier.verify(&headers), Ok(None));
        headers.insert(AUTHORIZATION, "BEARER abc".parse().expect("header"));
        assert_eq!(verifier.verify(&headers), Err(TokenRefusal::Malformed));
    }
}
