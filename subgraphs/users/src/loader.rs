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
    DataLoader::new(UserLoader { store }, tokio::spawn)
}

impl Loader<i32> for UserLoader {
    type Value = UserRow;
    type Error = Arc<Error>;

    async fn load(&self, ids: &[i32]) -> Result<HashMap<i32, UserRow>, Self::Error> {
        let rows = self.store.find_by_ids(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}
