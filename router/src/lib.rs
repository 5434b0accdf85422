//! A general Apollo Federation v2 router: loads a composed supergraph, plans
//! operations with `hive-router-query-planner`, executes the plans against the
//! subgraphs and serves GraphQL over HTTP with GraphiQL.
//!
//! The engine (planning and execution) lives in [`engine`]; the rest of the
//! crate is the HTTP edge: transport, limits, header forwarding, metrics,
//! GraphiQL and hot reload of the supergraph.

pub mod apq;
pub mod auth;
pub mod batching;
pub mod config;
pub mod csrf;
pub mod defer;
mod defer_stream;
pub mod demand_control;
pub mod engine;
mod error;
mod graphiql;
mod graphql_http;
mod http;
mod in_flight;
pub mod limits;
pub mod metrics;
pub mod negotiation;
mod readiness;
mod reload;
pub mod trusted_documents;

use std::sync::Arc;

use common::server::{Assembled, Drain, Server, Service, ServiceName};
use tokio::task::JoinHandle;

use crate::config::Switch;
pub use crate::config::{Cli, Config};
use crate::engine::EngineOptions;
pub use crate::metrics::Metrics;
use crate::reload::{SharedEngine, SupergraphWatcher};

/// The service name used in logs, `/health` and the announce line.
pub const SERVICE: &str = ServiceName::Router.as_str();

/// The router on the skeleton every service shares: `build` loads the
/// supergraph and binds, `run_until_stopped` announces, serves and stops hot reload.
pub type Application = Server<Router>;

/// What makes the router service itself.
#[derive(Debug, Clone, Copy)]
pub struct Router;

/// Hot reload of the supergraph: ready at build, running while the router serves.
pub struct HotReload {
    watcher: Option<SupergraphWatcher>,
    running: Option<JoinHandle<()>>,
}

/// Stopping the router stops watching the supergraph.
impl Drain for HotReload {
    async fn drain(self) {
        if let Some(running) = self.running {
            running.abort();
        }
    }
}

impl Service for Router {
    const NAME: ServiceName = ServiceName::Router;
    type Config = Config;
    type Resources = HotReload;

    /// Loads the supergraph (a router without one refuses to start) and assembles the routes.
    async fn assemble(config: Config) -> anyhow::Result<Assembled<Self>> {
        let metrics = Metrics::new();
        // A manifest or document that cannot be read stops the router before anything else starts.
        let graphiql = graphiql::Settings::load(&config.graphiql)?;
        if graphiql.dev {
            tracing::warn!("development mode: query plans are given to clients that ask");
        }
        let trusted = trusted_documents::TrustedDocuments::load(&config.trusted_documents)?;
        if trusted.mode != trusted_documents::Mode::Off {
            tracing::info!(
                operations = trusted.len(),
                mode = ?trusted.mode,
                "trusted documents loaded"
            );
        }
        let options = EngineOptions {
            subgraph_timeout: config.subgraph_timeout(),
            deduplicate_fetches: config.dedup == Switch::On,
            plan_cache_size: config.plan_cache_size,
            subgraph_url_overrides: config.subgraph_url_overrides(),
            metrics: metrics.clone(),
            resilience: config.resilience.options(),
            in_process: config.in_process_subgraphs.clone(),
        };
        let (engine, loaded_sdl) = reload::load_engine(&config.supergraph, &options).await?;
        tracing::info!(
            supergraph = %config.supergraph.display(),
            subgraphs = reload::describe_subgraphs(&engine),
            "supergraph loaded"
        );
        let engine = SharedEngine::new(engine);
        let demand_control = Arc::new(demand_control::DemandControl::new(
            config.demand_control.settings(),
            &loaded_sdl,
        ));
        let edge_auth = config
            .tokens
            .verifier()?
            .map(|verifier| Arc::new(verifier) as Arc<dyn auth::TokenVerifier>);
        let persisted = apq::PersistedQueries::new(&config.apq, trusted, metrics.clone());
        let state = http::AppState {
            engine: engine.clone(),
            limits: config.limits,
            checked_documents: Arc::new(limits::CheckedDocuments::new(config.plan_cache_size)),
            forward_headers: config
                .forward_headers
                .iter()
                .map(|header| header.0.clone())
                .collect(),
            edge_auth,
            metrics: metrics.clone(),
            responses: config.responses,
            demand_control: demand_control.clone(),
            request_timeout: config.request_timeout(),
            csrf: csrf::Csrf::new(&config.csrf),
            persisted: Arc::new(persisted),
            batching: *config.batching,
            graphiql: Arc::new(graphiql),
            inbound_dedup: (config.inbound_dedup == Switch::On)
                .then(|| Arc::new(crate::in_flight::InFlight::new())),
        };
        let watcher = config
            .supergraph_poll_interval()
            .map(|interval| SupergraphWatcher {
                path: config.supergraph.clone(),
                interval,
                options,
                engine,
                metrics,
                loaded_sdl,
                on_reload: Some(Box::new(move |sdl: &str| demand_control.load(sdl))),
            });
        Ok(Assembled {
            app: http::router(state),
            listen: config.listen,
            limits: config.http,
            resources: HotReload {
                watcher,
                running: None,
            },
        })
    }

    fn on_serve(reload: &mut HotReload) {
        reload.running = reload.watcher.take().map(SupergraphWatcher::spawn);
    }
}

/// Runs the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    common::server::run::<Router>(cli.config).await
}
