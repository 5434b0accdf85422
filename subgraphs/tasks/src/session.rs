//! Who a GraphQL request acts for. Built per request from its headers; the
//! first resolver that needs the user checks the account (once per request).

use std::sync::Arc;
use subgraph_kit::ViewerExt;
use subgraph_kit::errors::CodedError;

use subgraph_kit::errors::ErrorCode;
use tokens::Viewer;
use tokio::sync::OnceCell;

use crate::account::{AccountChecker, AccountRefusal};

pub struct Session {
    viewer: Viewer,
    token: Option<String>,
    request_id: Option<String>,
    accounts: Option<Arc<AccountChecker>>,
    /// A mutation: the account is checked afresh, never from the short cache.
    writes: bool,
    account_check: OnceCell<Result<(), AccountRefusal>>,
}

impl Session {
    pub fn new(
        viewer: Viewer,
        token: Option<String>,
        request_id: Option<String>,
        accounts: Option<Arc<AccountChecker>>,
    ) -> Self {
        Self {
            viewer,
            token,
            request_id,
            accounts,
            writes: false,
            account_check: OnceCell::new(),
        }
    }

    /// Marks the request as a write (a mutation): its account check skips the cache.
    pub fn for_writes(mut self, writes: bool) -> Self {
        self.writes = writes;
        self
    }

    /// The id of the user the request acts for, once the token and (when configured)
    /// the account have been checked; otherwise the error the contract prescribes.
    pub async fn user_id(&self) -> async_graphql::Result<i32> {
        let user_id = self.viewer.require_user()?;
        // Task owners are 32-bit in both stores: no such user can exist.
        let owner_id = i32::try_from(user_id)
            .map_err(|_| ErrorCode::Unauthenticated.error("Could not validate credentials"))?;
        if let (Some(accounts), Some(token)) = (&self.accounts, &self.token) {
            self.account_check
                .get_or_init(|| {
                    accounts.check(token, user_id, self.request_id.as_deref(), self.writes)
                })
                .await
                .map_err(|refusal| refusal.to_graphql())?;
        }
        Ok(owner_id)
    }
}
