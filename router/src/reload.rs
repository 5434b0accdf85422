//! The engine in use and its hot reload: the supergraph file is polled, and a
//! changed file that loads replaces the engine atomically. Requests in flight
//! keep the engine they started with; a file that does not load is logged and
//! the running engine stays.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use tokio::task::JoinHandle;

use crate::engine::{Engine, EngineOptions};
use crate::metrics::Metrics;

/// The engine currently serving, shared by every request.
#[derive(Clone)]
pub struct SharedEngine {
    current: Arc<ArcSwap<Engine>>,
}

impl SharedEngine {
    pub fn new(engine: Engine) -> Self {
        Self {
            current: Arc::new(ArcSwap::from_pointee(engine)),
        }
    }

    /// The engine to run one request on, kept by the request until it is done.
    pub fn current(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    fn replace(&self, engine: Engine) {
        self.current.store(Arc::new(engine));
    }
}

/// Reads and loads a supergraph file (the planner's set-up runs off the async runtime).
pub async fn load_engine(path: &Path, options: &EngineOptions) -> anyhow::Result<(Engine, String)> {
    let sdl = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("reading the supergraph {}", path.display()))?;
    let engine = build_engine(sdl.clone(), options.clone())
        .await
        .with_context(|| format!("loading the supergraph {}", path.display()))?;
    Ok((engine, sdl))
}

async fn build_engine(sdl: String, options: EngineOptions) -> anyhow::Result<Engine> {
    let engine = tokio::task::spawn_blocking(move || Engine::new(&sdl, options)).await??;
    Ok(engine)
}

/// Told the text of a newly loaded supergraph.
pub type OnReload = Box<dyn Fn(&str) + Send + Sync>;

/// Watches the supergraph file: what was last seen (loaded or refused) and where to put a new engine.
pub struct SupergraphWatcher {
    pub path: PathBuf,
    pub interval: Duration,
    pub options: EngineOptions,
    pub engine: SharedEngine,
    pub metrics: Metrics,
    /// The text the running engine was built from.
    pub loaded_sdl: String,
    /// Told the text of each supergraph loaded after the first (demand control reads its costs).
    pub on_reload: Option<OnReload>,
}

impl SupergraphWatcher {
    /// Polls the file until the task is aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(self.run())
    }

    async fn run(self) {
        let mut last_seen = self.loaded_sdl.clone();
        let mut unreadable_logged = false;
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let sdl = match tokio::fs::read_to_string(&self.path).await {
                Ok(sdl) => {
                    unreadable_logged = false;
                    sdl
                }
                Err(error) => {
                    if !unreadable_logged {
                        tracing::warn!(path = %self.path.display(), %error, "cannot read the supergraph file; keeping the running one");
                        unreadable_logged = true;
                    }
                    continue;
                }
            };
            if sdl == last_seen {
                continue;
            }
            last_seen = sdl.clone();
            match build_engine(sdl, self.options.clone()).await {
                Ok(engine) => {
                    let subgraphs = describe_subgraphs(&engine);
                    if let Some(on_reload) = &self.on_reload {
                        on_reload(&last_seen);
                    }
                    self.engine.replace(engine);
                    self.metrics.record_supergraph_reload(true);
                    tracing::info!(path = %self.path.display(), subgraphs, "supergraph reloaded");
                }
                Err(error) => {
                    self.metrics.record_supergraph_reload(false);
                    tracing::error!(path = %self.path.display(), error = format!("{error:#}"), "the changed supergraph does not load; keeping the running one");
                }
            }
        }
    }
}

/// `name=url, …`, for logs.
pub fn describe_subgraphs(engine: &Engine) -> String {
    engine
        .subgraphs()
        .iter()
        .map(|(name, url)| format!("{name}={url}"))
        .collect::<Vec<_>>()
        .join(", ")
}
