//! One piece of work shared by identical requests in flight at the same time.
//! The router deduplicates at two levels with it: subgraph fetches
//! (`engine::transport`) and whole client operations (inbound deduplication,
//! `graphql_http`). What makes two requests "identical" is each caller's key;
//! how the sharing lives and ends is defined here, once.
//!
//! The table holds each piece of work weakly and nobody spawns it: its waiters
//! poll it, so it lives exactly as long as one of them still waits. When the
//! last goes (its client disconnected, its deadline passed) the work is dropped
//! — its subgraph connections closed — instead of running on for nobody, and a
//! later identical request starts afresh.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared, WeakShared};
use parking_lot::Mutex;
use rustc_hash::FxBuildHasher;

/// The work in flight under each key.
pub(crate) struct InFlight<K, V: Clone> {
    entries: Arc<Mutex<Table<K, V>>>,
    next_id: AtomicU64,
}

type Table<K, V> = HashMap<K, Entry<V>, FxBuildHasher>;

struct Entry<V: Clone> {
    /// Tells this piece of work from a later one under the same key.
    id: u64,
    work: WeakShared<BoxFuture<'static, V>>,
}

/// A caller's handle on shared work.
pub(crate) struct Joined<V: Clone> {
    pub work: Shared<BoxFuture<'static, V>>,
    /// The work was already in flight for another request.
    pub shared: bool,
}

impl<K, V> InFlight<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new() -> Self {
        InFlight {
            entries: Arc::new(Mutex::new(HashMap::default())),
            next_id: AtomicU64::new(0),
        }
    }

    /// Joins the work in flight under `key`, or makes `start()` that work.
    pub(crate) fn join<F>(&self, key: K, start: impl FnOnce() -> F) -> Joined<V>
    where
        F: Future<Output = V> + Send + 'static,
    {
        let mut entries = self.entries.lock();
        if let Some(work) = entries.get(&key).and_then(|entry| entry.work.upgrade()) {
            return Joined { work, shared: true };
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let leave = LeaveOnDrop {
            entries: self.entries.clone(),
            key: key.clone(),
            id,
        };
        let started = start();
        let work = async move {
            let _leave = leave;
            started.await
        }
        .boxed()
        .shared();
        if let Some(weak) = work.downgrade() {
            entries.insert(key, Entry { id, work: weak });
        }
        Joined {
            work,
            shared: false,
        }
    }

    /// How many distinct pieces of work are in flight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().len()
    }
}

/// Removes a piece of work's entry when it ends, by completing or by being
/// dropped with its last waiter.
struct LeaveOnDrop<K: Eq + Hash, V: Clone> {
    entries: Arc<Mutex<Table<K, V>>>,
    key: K,
    id: u64,
}

impl<K: Eq + Hash, V: Clone> Drop for LeaveOnDrop<K, V> {
    fn drop(&mut self) {
        let mut entries = self.entries.lock();
        if entries
            .get(&self.key)
            .is_some_and(|entry| entry.id == self.id)
        {
            entries.remove(&self.key);
        }
    }
}
