//! Account status checks against the users subgraph. A signed token only proves
//! who the user was when it was issued; users may since have been deleted or
//! deactivated, and only the users subgraph knows. For reads its answer is
//! remembered per token for a few seconds so that a burst of requests asks once;
//! a write (any mutation) always asks afresh, so a deleted or deactivated
//! account's next write is refused at once. The window that remains is a read
//! within `ACCOUNT_CACHE_SECONDS` of the last check, and a write racing the
//! change itself (checked just before the change commits).
//!
//! Users is asked over HTTP, or, when it runs in the same process
//! (`tasktracker --mode one-process`), through its app directly (the same
//! request, its same handler, no socket).

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subgraph_kit::errors::CodedError;

use async_graphql::ErrorExtensions;
use common::in_process::{LocalService, Upstream};
use common::server::REQUEST_ID_HEADER;
use serde::Deserialize;
use subgraph_kit::errors::ErrorCode;

/// Tokens remembered at most; the oldest answers are dropped first.
const CACHE_CAPACITY: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

/// Why an authenticated request may not proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRefusal {
    /// The user no longer exists (or users no longer accepts the token).
    Gone,
    Inactive,
    /// The users subgraph could not be asked or gave no usable answer.
    UsersUnavailable,
}

impl AccountRefusal {
    pub fn to_graphql(self) -> async_graphql::Error {
        match self {
            AccountRefusal::Gone => {
                ErrorCode::Unauthenticated.error("Could not validate credentials")
            }
            AccountRefusal::Inactive => ErrorCode::Forbidden.error("Inactive user"),
            AccountRefusal::UsersUnavailable => ErrorCode::SubgraphUnavailable
                .error("Service unavailable: users")
                .extend_with(|_, ext| ext.set("serviceName", "users")),
        }
    }
}

/// What users said about an account; all three are definite answers worth caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Active,
    Inactive,
    Gone,
}

/// How long one account check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Asks the users subgraph `{ me { id isActive } }` with the caller's own token.
pub struct AccountChecker {
    users: Upstream,
    cache_ttl: Duration,
    cache: Mutex<lru::LruCache<String, (Instant, Standing)>>,
}

impl std::fmt::Debug for AccountChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountChecker")
            .field("users", &self.users)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl AccountChecker {
    /// Users at `users_url` over HTTP.
    pub fn new(users_url: &str, cache_ttl: Duration) -> anyhow::Result<Self> {
        let client = common::http_client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(CHECK_TIMEOUT)
            .build()?;
        let users = Upstream::Http {
            client,
            url: users_url.to_owned(),
        };
        Ok(Self::asking(users, cache_ttl))
    }

    /// Users' app in this process.
    pub fn in_process(users: LocalService, cache_ttl: Duration) -> Self {
        Self::asking(Upstream::local(users, "/graphql"), cache_ttl)
    }

    fn asking(users: Upstream, cache_ttl: Duration) -> Self {
        Self {
            users,
            cache_ttl,
            cache: Mutex::new(lru::LruCache::new(CACHE_CAPACITY)),
        }
    }

    /// Whether the holder of `token` (verified to speak for `user_id`) may proceed.
    /// `fresh` (writes) skips the remembered answer and asks users now.
    pub async fn check(
        &self,
        token: &str,
        user_id: i64,
        request_id: Option<&str>,
        fresh: bool,
    ) -> Result<(), AccountRefusal> {
        let remembered = if fresh { None } else { self.cached(token) };
        let standing = match remembered {
            Some(standing) => standing,
            None => {
                let standing = self.ask_users(token, user_id, request_id).await?;
                self.remember(token, standing);
                standing
            }
        };
        match standing {
            Standing::Active => Ok(()),
            Standing::Inactive => Err(AccountRefusal::Inactive),
            Standing::Gone => Err(AccountRefusal::Gone),
        }
    }

    fn cached(&self, token: &str) -> Option<Standing> {
        if self.cache_ttl.is_zero() {
            return None;
        }
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match cache.get(token) {
            Some((at, standing)) if at.elapsed() < self.cache_ttl => Some(*standing),
            Some(_) => {
                cache.pop(token);
                None
            }
            None => None,
        }
    }

    fn remember(&self, token: &str, standing: Standing) {
        if self.cache_ttl.is_zero() {
            return;
        }
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.put(token.to_owned(), (Instant::now(), standing));
    }

    async fn ask_users(
        &self,
        token: &str,
        user_id: i64,
        request_id: Option<&str>,
    ) -> Result<Standing, AccountRefusal> {
        let unavailable = |why: &dyn std::fmt::Display| {
            tracing::warn!(error = %why, "account check with the users subgraph failed");
            AccountRefusal::UsersUnavailable
        };
        // The account check is part of the request's trace (tracing on).
        let mut headers = common::trace_context::current_headers();
        let bearer = axum::http::HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|err| unavailable(&err))?;
        headers.insert(axum::http::header::AUTHORIZATION, bearer);
        if let Some(request_id) =
            request_id.and_then(|id| axum::http::HeaderValue::try_from(id).ok())
        {
            headers.insert(REQUEST_ID_HEADER, request_id);
        }
        let body = br#"{"query":"{ me { id isActive } }"}"#;
        let (status, body) = self
            .users
            .post_json(
                headers,
                axum::body::Bytes::from_static(body),
                Some(CHECK_TIMEOUT),
            )
            .await
            .map_err(|err| unavailable(&err))?;
        if status.is_server_error() {
            return Err(unavailable(&format_args!("users answered {status}")));
        }
        let answer: UsersAnswer = serde_json::from_slice(&body).map_err(|err| unavailable(&err))?;
        answer
            .standing(user_id)
            .ok_or_else(|| unavailable(&"users gave no usable answer"))
    }
}

/// The parts of users' GraphQL response the check reads.
#[derive(Debug, Deserialize)]
struct UsersAnswer {
    data: Option<MeData>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(Debug, Deserialize)]
struct MeData {
    me: Option<Me>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Me {
    id: String,
    is_active: bool,
}

#[derive(Debug, Deserialize)]
struct GraphqlError {
    extensions: Option<ErrorExtensionsSeen>,
}

#[derive(Debug, Deserialize)]
struct ErrorExtensionsSeen {
    code: Option<String>,
}

impl UsersAnswer {
    /// The account's standing, or `None` when the answer says nothing definite.
    fn standing(&self, user_id: i64) -> Option<Standing> {
        let codes = self
            .errors
            .iter()
            .filter_map(|error| error.extensions.as_ref()?.code.as_deref()?.parse().ok());
        for code in codes {
            match code {
                ErrorCode::Unauthenticated => return Some(Standing::Gone),
                ErrorCode::Forbidden => return Some(Standing::Inactive),
                _ => {}
            }
        }
        match self.data.as_ref().map(|data| data.me.as_ref()) {
            Some(Some(me)) if me.id != user_id.to_string() => Some(Standing::Gone),
            Some(Some(me)) if me.is_active => Some(Standing::Active),
            Some(Some(_)) => Some(Standing::Inactive),
            Some(None) if self.errors.is_empty() => Some(Standing::Gone),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(body: serde_json::Value) -> Option<Standing> {
        serde_json::from_value::<UsersAnswer>(body)
            .expect("parses")
            .standing(7)
    }

    #[test]
    fn reads_every_kind_of_answer() {
        use serde_json::json;
        assert_eq!(
            standing(json!({"data": {"me": {"id": "7", "isActive": true}}})),
            Some(Standing::Active)
        );
        assert_eq!(
            standing(json!({"data": {"me": {"id": "7", "isActive": false}}})),
            Some(Standing::Inactive)
        );
        assert_eq!(
            standing(json!({"data": {"me": {"id": "8", "isActive": true}}})),
            Some(Standing::Gone)
        );
        assert_eq!(
            standing(json!({"data": {"me": null}})),
            Some(Standing::Gone)
        );
        let unauthenticated = json!({"data": {"me": null}, "errors": [{"message": "x", "extensions": {"code": "UNAUTHENTICATED"}}]});
        assert_eq!(standing(unauthenticated), Some(Standing::Gone));
        let forbidden = json!({"data": null, "errors": [{"message": "x", "extensions": {"code": "FORBIDDEN"}}]});
        assert_eq!(standing(forbidden), Some(Standing::Inactive));
        let internal = json!({"data": null, "errors": [{"message": "x", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]});
        assert_eq!(standing(internal), None);
    }
}
