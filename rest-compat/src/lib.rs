//! The original `/api/v1` REST API of TaskTracker, kept for the existing web
//! frontend and scripts. A thin layer: each request is validated as the
//! original FastAPI app validated it, then answered by ONE GraphQL operation
//! sent to the federation router. It has no database and no business rules.

pub mod auth;
pub mod body;
pub mod config;
pub mod cors;
pub mod error;
pub mod graphql;
pub mod models;
pub mod openapi;
pub mod operations;
pub mod requests;
pub mod routes;
pub mod validation;

use common::server::{Assembled, Server, Service, ServiceName};

pub use config::{Cli, Config};
pub use error::Error;

use crate::graphql::RouterClient;
use crate::routes::AppState;

/// The layer on the skeleton every service shares: `build` binds,
/// `run_until_stopped` announces and serves.
pub type Application = Server<RestCompat>;

/// What makes the REST layer itself (no store: nothing to drain).
#[derive(Debug, Clone, Copy)]
pub struct RestCompat;

impl Service for RestCompat {
    const NAME: ServiceName = ServiceName::RestCompat;
    type Config = Config;
    type Resources = ();

    /// Prepares the router client and CORS, and assembles the routes.
    async fn assemble(config: Config) -> anyhow::Result<Assembled<Self>> {
        let router = match config.router_in_process.clone() {
            Some(local) => {
                RouterClient::in_process(local, &config.router_url, config.router_timeout())
            }
            None => RouterClient::new(&config.router_url, config.router_timeout())?,
        };
        let cors = cors::Cors::new(&config.cors_origin_list()?)?;
        let app = routes::router(AppState {
            router,
            max_body_bytes: config.max_body_bytes,
        })
        .layer(axum::middleware::from_fn_with_state(
            cors,
            cors::Cors::handle,
        ));
        if config.router_in_process.is_some() {
            tracing::info!("forwarding REST requests to the router in this process");
        } else {
            tracing::info!(router_url = %config.router_url, "forwarding REST requests to the router");
        }
        Ok(Assembled {
            app: common::server::with_request_tracing(app),
            listen: config.listen,
            limits: config.http,
            resources: (),
        })
    }
}

/// Runs the layer with `cli`: what both `rest-compat` and `tasktracker rest-compat` do.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    common::server::run::<RestCompat>(cli.config).await
}
