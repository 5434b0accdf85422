//! Persisted documents: which document a request runs when it names one
//! instead of (or besides) sending it.
//!
//! Automatic persisted queries follow Apollo's protocol, which Apollo Client's
//! persisted-queries link speaks: a client sends `extensions.persistedQuery
//! {version: 1, sha256Hash}` without the query; the router answers
//! `PERSISTED_QUERY_NOT_FOUND` when it does not know the hash, the client sends
//! the query with the hash once, and the router keeps it (after checking the hash
//! and the request limits) in a cache bounded in bytes. Later requests carry only
//! the hash, which saves upload bandwidth and lets GET requests stay small enough
//! for CDNs. Trusted documents (see `trusted_documents`) are looked up first.
//!
//! A document found here goes through the same limits, validation and cost
//! checks as one sent in full: only where its text comes from differs.

use std::sync::Arc;

use clap::Args;
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::Switch;
use crate::engine::{GraphQLRequest, RequestErrorKind};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::trusted_documents::{Mode, TrustedDocuments};

/// Why a persisted document is refused, each with Apollo's code for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// The client should send the query with its hash (the router does not know the hash).
    NotFound,
    /// Automatic persisted queries are off: the client should send queries in full.
    NotSupported,
    /// The query sent does not have the SHA-256 sent with it.
    HashMismatch,
    /// Trusted documents reject the operation: it (or its id) is not in the manifest.
    NotInList,
}

impl Refusal {
    fn code(self) -> &'static str {
        match self {
            Refusal::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            Refusal::NotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            Refusal::HashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Refusal::NotInList => "PERSISTED_QUERY_NOT_IN_LIST",
        }
    }
}

/// Command line of automatic persisted queries.
#[derive(Debug, Clone, Copy, Args)]
pub struct ApqArgs {
    /// Automatic persisted queries (Apollo's protocol): `off` answers hash-only requests
    /// with PERSISTED_QUERY_NOT_SUPPORTED, so clients send queries in full.
    #[arg(long = "apq", env = "ROUTER_APQ", value_enum, default_value_t = Switch::On)]
    pub apq: Switch,

    /// Most bytes of registered queries (and their hashes) kept; the least recently used go first.
    #[arg(id = "apq_cache_bytes", long = "apq-cache-bytes", env = "ROUTER_APQ_CACHE_BYTES", default_value_t = ApqArgs::DEFAULT_CACHE_BYTES)]
    pub cache_bytes: usize,
}

impl ApqArgs {
    pub const DEFAULT_CACHE_BYTES: usize = 16 * 1024 * 1024;
}

/// The lowercase hex SHA-256 of a document, as the protocol names documents.
pub fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Registered queries by hash, bounded by their total size in bytes (hash and
/// query), the least recently used dropped first.
pub struct ApqCache {
    max_bytes: usize,
    entries: Cache<Arc<str>, Arc<str>>,
}

impl ApqCache {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            entries: Cache::builder()
                .max_capacity(u64::try_from(max_bytes).unwrap_or(u64::MAX))
                .weigher(|hash: &Arc<str>, query: &Arc<str>| {
                    u32::try_from(hash.len() + query.len()).unwrap_or(u32::MAX)
                })
                .eviction_policy(EvictionPolicy::lru())
                .build(),
        }
    }

    pub fn get(&self, hash: &str) -> Option<Arc<str>> {
        self.entries.get(hash)
    }

    /// Keeps `query` under `hash`; the bound is applied as the cache maintains
    /// itself (within a few operations). A query larger than the whole bound is not kept.
    pub fn insert(&self, hash: &str, query: &str) {
        if hash.len() + query.len() > self.max_bytes {
            return;
        }
        self.entries.insert(hash.into(), query.into());
    }
}

/// What a request says about its document, before the document is known.
#[derive(Debug, Default)]
pub struct DocumentSource {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<Map<String, Value>>,
    pub extensions: Option<Map<String, Value>>,
    /// `documentId`: a trusted document's id (the GraphQL-over-HTTP persisted documents proposal).
    pub document_id: Option<String>,
}

/// A request whose document is known; `register` is the hash to keep the query
/// under once it has passed the limits.
pub struct Resolved {
    pub request: GraphQLRequest,
    pub register: Option<String>,
}

/// Automatic persisted queries and trusted documents, as the HTTP layer uses them.
pub struct PersistedQueries {
    /// `None` when automatic persisted queries are off.
    pub apq: Option<ApqCache>,
    pub trusted: TrustedDocuments,
    pub metrics: Metrics,
}

impl PersistedQueries {
    pub fn new(args: &ApqArgs, trusted: TrustedDocuments, metrics: Metrics) -> Self {
        Self {
            apq: (args.apq == Switch::On).then(|| ApqCache::new(args.cache_bytes)),
            trusted,
            metrics,
        }
    }

    /// The document `source` runs, or why there is none.
    pub fn resolve(&self, mut source: DocumentSource) -> Result<Resolved, Error> {
        let hash = persisted_query_hash(source.extensions.as_ref())?;
        let request = |query: String, source: DocumentSource| GraphQLRequest {
            query,
            operation_name: source.operation_name,
            variables: source.variables,
            extensions: source.extensions,
        };
        match (source.query.take(), hash, source.document_id.take()) {
            (None, None, None) => Err(Error::BadRequest(
                "The query parameter is missing".to_owned(),
            )),
            (Some(query), None, None) => {
                self.check_listed(&query, source.operation_name.as_deref())?;
                Ok(Resolved {
                    request: request(query, source),
                    register: None,
                })
            }
            (None, Some(hash), _) => {
                let query = self.by_hash(&hash)?;
                Ok(Resolved {
                    request: request(query.to_string(), source),
                    register: None,
                })
            }
            (None, None, Some(id)) => {
                let query = self.by_id(&id)?;
                Ok(Resolved {
                    request: request(query.to_string(), source),
                    register: None,
                })
            }
            (Some(query), Some(hash), _) => {
                if sha256_hex(&query) != hash {
                    return Err(refused(
                        "The query does not have the SHA-256 hash sent with it",
                        Refusal::HashMismatch,
                    ));
                }
                self.check_listed(&query, source.operation_name.as_deref())?;
                let register = self
                    .apq
                    .as_ref()
                    .is_some_and(|cache| cache.get(&hash).is_none())
                    .then_some(hash);
                Ok(Resolved {
                    request: request(query, source),
                    register,
                })
            }
            (Some(query), None, Some(id)) => {
                if self.trusted.body(&id).is_some_and(|body| *body != *query) {
                    return Err(refused(
                        "The query is not the document the documentId names",
                        Refusal::HashMismatch,
                    ));
                }
                self.check_listed(&query, source.operation_name.as_deref())?;
                Ok(Resolved {
                    request: request(query, source),
                    register: None,
                })
            }
        }
    }

    /// Keeps a query that passed the limits under its hash.
    pub fn register(&self, hash: &str, query: &str) {
        if let Some(cache) = &self.apq {
            cache.insert(hash, query);
            self.metrics.record_persisted_query("apq_registered");
        }
    }

    /// A hash-only request: a trusted document, else a registered query.
    fn by_hash(&self, hash: &str) -> Result<Arc<str>, Error> {
        if let Some(body) = self.trusted_body(hash)? {
            return Ok(body);
        }
        let Some(cache) = &self.apq else {
            return Err(refused(
                "Automatic persisted queries are not supported: send the query",
                Refusal::NotSupported,
            ));
        };
        match cache.get(hash) {
            Some(query) => {
                self.metrics.record_persisted_query("apq_hit");
                Ok(query)
            }
            None => {
                self.metrics.record_persisted_query("apq_miss");
                Err(refused("PersistedQueryNotFound", Refusal::NotFound))
            }
        }
    }

    /// A `documentId` request: only trusted documents have ids.
    fn by_id(&self, id: &str) -> Result<Arc<str>, Error> {
        match self.trusted_body(id)? {
            Some(body) => Ok(body),
            None if self.trusted.mode == Mode::Off => Err(refused(
                "Persisted documents are not supported: send the query",
                Refusal::NotSupported,
            )),
            None => Err(self.not_in_list(id)),
        }
    }

    /// The listed body for `id`; in reject mode an unknown id ends the request.
    fn trusted_body(&self, id: &str) -> Result<Option<Arc<str>>, Error> {
        if self.trusted.mode == Mode::Off {
            return Ok(None);
        }
        if let Some(body) = self.trusted.body(id) {
            self.metrics.record_persisted_query("trusted_document");
            return Ok(Some(body));
        }
        if self.trusted.mode == Mode::Reject {
            return Err(self.not_in_list(id));
        }
        Ok(None)
    }

    /// Log mode lets an unlisted operation run and logs it; reject mode refuses it.
    fn check_listed(&self, query: &str, operation_name: Option<&str>) -> Result<(), Error> {
        if self.trusted.mode == Mode::Off || self.trusted.is_listed(query) {
            return Ok(());
        }
        let hash = sha256_hex(query);
        if self.trusted.mode == Mode::Reject {
            return Err(self.not_in_list(&hash));
        }
        self.metrics.record_persisted_query("unlisted_logged");
        tracing::warn!(
            operation_name = operation_name.unwrap_or_default(),
            sha256 = %hash,
            "an operation that is not in the trusted documents manifest ran"
        );
        Ok(())
    }

    fn not_in_list(&self, id: &str) -> Error {
        self.metrics.record_persisted_query("unlisted_refused");
        tracing::info!(
            id,
            "an operation that is not in the trusted documents manifest was refused"
        );
        refused(
            "The operation is not in the list of trusted documents",
            Refusal::NotInList,
        )
    }
}

/// The hash of `extensions.persistedQuery`, if the request has one.
fn persisted_query_hash(extensions: Option<&Map<String, Value>>) -> Result<Option<String>, Error> {
    let Some(persisted) = extensions.and_then(|extensions| extensions.get("persistedQuery")) else {
        return Ok(None);
    };
    let bad = |reason: &str| Error::BadRequest(format!("extensions.persistedQuery {reason}"));
    let Value::Object(persisted) = persisted else {
        return Err(bad("must be an object"));
    };
    if persisted.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(bad(
            "has an unsupported version: only version 1 is supported",
        ));
    }
    match persisted.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.bytes().all(|byte| byte.is_ascii_hexdigit()) =>
        {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(bad("needs sha256Hash, 64 hexadecimal digits")),
    }
}

/// A request error with the refusal's code: 200 with `application/json`, 400
/// with `application/graphql-response+json`, like other errors before execution.
fn refused(message: &str, refusal: Refusal) -> Error {
    Error::refused(
        RequestErrorKind::Validation,
        message.to_owned(),
        refusal.code(),
        None,
        Map::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_bounded_in_bytes_and_drops_the_least_recently_used() {
        let cache = ApqCache::new(100);
        // The cache applies its bound in batches; this test wants it applied at each step.
        let settle = || cache.entries.run_pending_tasks();
        cache.insert("a", &"x".repeat(40));
        cache.insert("b", &"y".repeat(40));
        settle();
        assert!(cache.get("a").is_some(), "a is now the most recently used");
        settle();
        cache.insert("c", &"z".repeat(40));
        settle();
        assert!(cache.get("b").is_none(), "b was the least recently used");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        cache.insert("huge", &"h".repeat(200));
        settle();
        assert!(cache.get("huge").is_none(), "larger than the whole bound");
        assert_eq!(cache.entries.entry_count(), 2);
    }

    #[test]
    fn hashes_are_checked_for_shape_and_version() {
        let hash = sha256_hex("{ hello }");
        assert_eq!(hash.len(), 64);
        let extensions = |value: Value| {
            let Value::Object(map) = serde_json::json!({ "persistedQuery": value }) else {
                unreachable!()
            };
            map
        };
        let ok = extensions(serde_json::json!({ "version": 1, "sha256Hash": hash.to_uppercase() }));
        assert_eq!(
            persisted_query_hash(Some(&ok)).ok().flatten(),
            Some(hash.clone())
        );
        for bad in [
            serde_json::json!({ "version": 2, "sha256Hash": hash }),
            serde_json::json!({ "version": 1, "sha256Hash": "abc" }),
            serde_json::json!({ "version": 1 }),
            serde_json::json!("x"),
        ] {
            assert!(
                persisted_query_hash(Some(&extensions(bad.clone()))).is_err(),
                "{bad}"
            );
        }
        assert!(matches!(persisted_query_hash(None), Ok(None)));
    }
}
