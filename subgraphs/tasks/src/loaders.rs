//! Batch loading, so that resolving many tasks or many users' counts in one
//! request costs one statement rather than one per item. The loaders live for
//! one request (no cache shared between viewers).

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, Loader};
use tracing::Instrument;

use crate::error::Error;
use crate::model::{TaskCounts, TaskCriteria, TaskRow};
use crate::store::{Page, TaskStore};

/// A task as seen by one owner: another owner's id is simply not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OwnedTaskId {
    pub owner_id: i32,
    pub id: i32,
}

/// Answers every kind of key from the store, one statement per batch.
pub struct StoreLoader(TaskStore);

impl Loader<OwnedTaskId> for StoreLoader {
    type Value = TaskRow;
    type Error = Error;

    async fn load(&self, keys: &[OwnedTaskId]) -> Result<HashMap<OwnedTaskId, TaskRow>, Error> {
        // One owner per request in practice, so this is one statement.
        let mut found = HashMap::with_capacity(keys.len());
        for (owner_id, ids) in grouped(keys, |key| (key.owner_id, key.id)) {
            for row in self.0.find_many(owner_id, &ids).await? {
                found.insert(
                    OwnedTaskId {
                        owner_id,
                        id: row.id,
                    },
                    row,
                );
            }
        }
        Ok(found)
    }
}

/// Task counts keyed by owner id.
impl Loader<i32> for StoreLoader {
    type Value = TaskCounts;
    type Error = Error;

    async fn load(&self, owner_ids: &[i32]) -> Result<HashMap<i32, TaskCounts>, Error> {
        let mut counts: HashMap<i32, TaskCounts> = owner_ids
            .iter()
            .map(|owner_id| (*owner_id, TaskCounts::default()))
            .collect();
        counts.extend(self.0.counts(owner_ids).await?);
        Ok(counts)
    }
}

/// One owner's page of matching tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub owner_id: i32,
    pub criteria: TaskCriteria,
    pub skip: i64,
    pub limit: i64,
}

impl Loader<PageKey> for StoreLoader {
    type Value = Page;
    type Error = Error;

    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, Page>, Error> {
        // Owners asking for the same page of the same filter share a statement.
        let by_request = grouped(keys, |key| {
            ((key.criteria, key.skip, key.limit), key.owner_id)
        });
        let mut found = HashMap::with_capacity(keys.len());
        for ((criteria, skip, limit), owner_ids) in by_request {
            for (owner_id, page) in self.0.pages(&owner_ids, criteria, skip, limit).await? {
                found.insert(
                    PageKey {
                        owner_id,
                        criteria,
                        skip,
                        limit,
                    },
                    page,
                );
            }
        }
        Ok(found)
    }
}

/// Splits `keys` into the groups one statement answers: `split` gives a key's
/// group and the part of it that varies within the group.
fn grouped<K, G: Eq + Hash, V>(keys: &[K], split: impl Fn(&K) -> (G, V)) -> HashMap<G, Vec<V>> {
    let mut groups: HashMap<G, Vec<V>> = HashMap::new();
    for key in keys {
        let (group, value) = split(key);
        groups.entry(group).or_default().push(value);
    }
    groups
}

/// The loader of one request: each kind of key (a task, an owner's counts, a
/// page) is batched on its own.
pub struct Loaders(DataLoader<StoreLoader>);

impl Loaders {
    pub fn new(store: &TaskStore) -> Self {
        Self(DataLoader::new(
            StoreLoader(store.clone()),
            spawn_in_request_span,
        ))
    }

    /// What `key` names, loaded with the other keys of its kind in this request.
    pub async fn load<K>(&self, key: K) -> Result<Option<<StoreLoader as Loader<K>>::Value>, Error>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        StoreLoader: Loader<K, Error = Error>,
    {
        self.0.load_one(key).await
    }
}

/// Batches run on tasks of their own; keep them in the request's span so their
/// log lines (and statements) carry its request id.
fn spawn_in_request_span(
    batch: futures::future::BoxFuture<'static, ()>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(batch.in_current_span())
}
