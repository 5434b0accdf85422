//! Batches user look-ups: every `User` wanted while one request (or several
//! concurrent ones) resolves is fetched with a single statement.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};

use crate::error::Error;
use crate::store::{Store, UserRow};

/// Loads users by id through [`Store::find_by_ids`].
pub struct UserLoader {
    store: Store,
}

/// The loader shared by all requests (it caches nothing, so it never serves stale rows).
pub type Users = DataLoader<UserLoader>;

pub fn users(store: Store) -> Users {
    DataLoader::new(UserLoader { store }, spawn_batch)
}

/// Runs a batch as its own task; with tracing on, in the span of the request that
/// started it, so that its statement is part of that request's trace.
fn spawn_batch<F>(batch: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    if common::telemetry::enabled() {
        tokio::spawn(tracing::Instrument::in_current_span(batch))
    } else {
        tokio::spawn(batch)
    }
}

impl Loader<i32> for UserLoader {
    type Value = UserRow;
    type Error = Arc<Error>;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, UserRow>, Self::Error> {
        let rows = self.store.find_by_ids(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}
