//! Batch loading, so that resolving many tasks or many users' counts in one
//! request costs one statement rather than one per item. The loaders live for
//! one request (no cache shared between viewers).

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use tracing::Instrument;

use crate::error::Error;
use crate::model::{CountsRow, TaskCriteria, TaskRow};
use crate::store::{Page, TaskStore};

/// A task as seen by one owner: another owner's id is simply not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OwnedTaskId {
    pub owner_id: i32,
    pub id: i32,
}

pub struct TaskLoader(TaskStore);

impl Loader<OwnedTaskId> for TaskLoader {
    type Value = TaskRow;
    type Error = Error;

    async fn load(&self, keys: &[OwnedTaskId]) -> Result<HashMap<OwnedTaskId, TaskRow>, Error> {
        let mut ids_by_owner: HashMap<i32, Vec<i32>> = HashMap::new();
        for key in keys {
            ids_by_owner.entry(key.owner_id).or_default().push(key.id);
        }
        // One owner per request in practice, so this is one statement.
        let mut found = HashMap::with_capacity(keys.len());
        for (owner_id, ids) in ids_by_owner {
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
pub struct CountsLoader(TaskStore);

impl Loader<i32> for CountsLoader {
    type Value = CountsRow;
    type Error = Error;

    async fn load(&self, owner_ids: &[i32]) -> Result<HashMap<i32, CountsRow>, Error> {
        let mut counts: HashMap<i32, CountsRow> = owner_ids
            .iter()
            .map(|owner_id| (*owner_id, CountsRow::default()))
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

pub struct PageLoader(TaskStore);

impl Loader<PageKey> for PageLoader {
    type Value = Page;
    type Error = Error;

    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, Page>, Error> {
        // Owners asking for the same page of the same filter share a statement.
        let mut owners_by_request: HashMap<(TaskCriteria, i64, i64), Vec<i32>> = HashMap::new();
        for key in keys {
            owners_by_request
                .entry((key.criteria, key.skip, key.limit))
                .or_default()
                .push(key.owner_id);
        }
        let mut found = HashMap::with_capacity(keys.len());
        for ((criteria, skip, limit), owner_ids) in owners_by_request {
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

/// The loaders of one request.
pub struct Loaders {
    pub tasks: DataLoader<TaskLoader>,
    pub pages: DataLoader<PageLoader>,
    pub counts: DataLoader<CountsLoader>,
}

impl Loaders {
    pub fn new(store: &TaskStore) -> Self {
        Self {
            tasks: DataLoader::new(TaskLoader(store.clone()), spawn_in_request_span),
            pages: DataLoader::new(PageLoader(store.clone()), spawn_in_request_span),
            counts: DataLoader::new(CountsLoader(store.clone()), spawn_in_request_span),
        }
    }
}

/// Batches run on tasks of their own; keep them in the request's span so their
/// log lines (and statements) carry its request id.
fn spawn_in_request_span(
    batch: futures::future::BoxFuture<'static, ()>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(batch.in_current_span())
}
