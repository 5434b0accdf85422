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

use std::net::SocketAddr;

use common::server::BoundApp;

pub use config::Cli;
pub use error::Error;

use crate::graphql::RouterClient;
use crate::routes::AppState;

/// The layer, bound to its port and ready to serve.
pub struct Application {
    server: BoundApp,
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and assembles the routes.
    pub async fn build(config: Cli) -> anyhow::Result<Self> {
        let router = RouterClient::new(&config.router_url, config.router_timeout())?;
        let cors = cors::Cors::new(&config.cors_origin_list()?)?;
        let app = routes::router(AppState {
            router,
            max_body_bytes: config.max_body_bytes,
        })
        .layer(axum::middleware::from_fn_with_state(
            cors,
            cors::Cors::handle,
        ));
        let app = common::server::with_request_tracing(app);
        let server = BoundApp::bind(&config.host, config.port, app)
            .await?
            .with_limits(config.http.clone());
        common::server::announce(routes::SERVICE_NAME, server.addr());
        tracing::info!(router_url = %config.router_url, "forwarding REST requests to the router");
        Ok(Self { server })
    }

    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Serves until SIGTERM or Ctrl-C, letting requests in flight finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server
            .serve_until(common::server::shutdown_signal())
            .await?;
        Ok(())
    }
}

/// Runs the layer with `cli`: what both `rest-compat` and `tasktracker rest-compat` do.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    common::telemetry::init(cli.log.log_format);
    Application::build(cli).await?.run_until_stopped().await
}
