//! The threads a server's connections are served on: a few single-threaded tokio
//! runtimes, one per core by default, each connection pinned to one of them.
//!
//! Why not the process's work-stealing runtime: there a request's work hops
//! between cores at every await, and its data — the parsed request, the
//! subgraph answers, the response tree the router merges them into — follows in
//! and out of each core's caches. Pinned, a request runs where its data already
//! is, as in thread-per-core servers (nginx, actix, Hive Router's ntex). On the
//! federation benchmark the router spent a third more CPU per request on the
//! stealing runtime (issue 16). Balance comes from handing connections out in
//! turn; the stealing runtime keeps everything else (accept loop, background work).

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Handle;
use tokio::sync::watch;

/// Running connection threads; they end when this is dropped (after the server
/// has finished its connections).
pub struct ConnectionThreads {
    handles: Vec<Handle>,
    next: AtomicUsize,
    stop: watch::Sender<bool>,
}

impl ConnectionThreads {
    /// Starts `count` threads (at least one), named after `name`.
    pub fn start(count: usize, name: &str) -> std::io::Result<ConnectionThreads> {
        let (stop, stopped) = watch::channel(false);
        let mut handles = Vec::new();
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(runtime.handle().clone());
            let mut stopped = stopped.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || {
                    // Tasks spawned on the handle run while this waits; what is left
                    // when the runtime is dropped is cancelled.
                    runtime.block_on(async move {
                        let _ = stopped.wait_for(|stopped| *stopped).await;
                    });
                })?;
        }
        Ok(ConnectionThreads {
            handles,
            next: AtomicUsize::new(0),
            stop,
        })
    }

    /// The runtime the next connection goes to, in turn.
    pub fn next(&self) -> &Handle {
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        &self.handles[turn % self.handles.len()]
    }
}

impl Drop for ConnectionThreads {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The number of threads `configured` asks for: 0 means one per core.
pub fn thread_count(configured: u64) -> usize {
    match usize::try_from(configured) {
        Ok(0) | Err(_) => std::thread::available_parallelism().map_or(1, usize::from),
        Ok(count) => count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_are_handed_out_in_turn_and_run_off_the_callers_runtime() {
        let threads = ConnectionThreads::start(2, "test-connections").expect("threads start");
        let caller = std::thread::current().id();
        let mut names = Vec::new();
        for _ in 0..4 {
            let task = threads.next().spawn(async move {
                let here = std::thread::current();
                assert_ne!(here.id(), caller, "not on the caller's thread");
                here.name().map(str::to_owned)
            });
            names.push(task.await.expect("the task ran"));
        }
        let names: Vec<&str> = names
            .iter()
            .map(|name| name.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(
            names,
            [
                "test-connections-0",
                "test-connections-1",
                "test-connections-0",
                "test-connections-1"
            ]
        );
    }

    #[test]
    fn zero_threads_means_one_per_core() {
        assert!(thread_count(0) >= 1);
        assert_eq!(thread_count(3), 3);
    }
}
