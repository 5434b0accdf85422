//! The HTTP surface: every `/api/v1` route (with and without a trailing
//! slash, answering directly), the service routes, and FastAPI's 404/405.

mod auth;
mod docs;
mod service;
mod stats;
mod tasks;

use axum::Router;
use axum::routing::{MethodRouter, get, patch, post};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::Caller;
use crate::error::{self, Error};
use crate::graphql::{Purpose, RouterClient};
use crate::operations::ACCOUNT_CHECK;
pub use service::SERVICE_NAME;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub router: RouterClient,
    /// Largest request body read; see `body::read_limited`.
    pub max_body_bytes: usize,
}

impl AppState {
    /// FastAPI authenticates before it validates: a request that fails
    /// validation still answers 401/403 when its token is bad or its account
    /// inactive. Only on that error path is the account asked about; when the
    /// answer is unclear (e.g. the router is down) the validation error stands.
    async fn authenticated_first<T>(
        &self,
        caller: &Caller,
        checked: Result<T, Error>,
    ) -> Result<T, Error> {
        match checked {
            Err(Error::Validation(issues)) => Err(self
                .account_problem(caller)
                .await
                .unwrap_or(Error::Validation(issues))),
            other => other,
        }
    }

    async fn account_problem(&self, caller: &Caller) -> Option<Error> {
        let account: Result<auth::MeData<Value>, Error> = self
            .send_as(
                caller,
                ACCOUNT_CHECK,
                Value::Object(Default::default()),
                &Value::Null,
            )
            .await;
        match account {
            Ok(data) => data.viewer().err(),
            Err(
                error @ (Error::NotAuthenticated | Error::InvalidCredentials | Error::InactiveUser),
            ) => Some(error),
            Err(_) => None,
        }
    }

    /// Sends an operation on behalf of an authenticated caller.
    async fn send_as<T: DeserializeOwned>(
        &self,
        caller: &Caller,
        query: &str,
        variables: Value,
        body: &Value,
    ) -> Result<T, Error> {
        let authorization = caller.require()?;
        self.router
            .execute(
                query,
                variables,
                Some(authorization),
                caller.request_id.as_ref(),
                Purpose::Other,
                body,
            )
            .await
    }

    /// Sends an operation that needs no account (register, login): the caller's
    /// token, if any, is not forwarded, as the original ignored it there.
    async fn send_anonymous<T: DeserializeOwned>(
        &self,
        caller: &Caller,
        query: &str,
        variables: Value,
        purpose: Purpose,
        body: &Value,
    ) -> Result<T, Error> {
        self.router
            .execute(
                query,
                variables,
                None,
                caller.request_id.as_ref(),
                purpose,
                body,
            )
            .await
    }
}

/// Every route this layer serves.
pub fn router(state: AppState) -> Router {
    let api = Router::new();
    let api = both(api, "/auth/register", post(auth::register));
    let api = both(api, "/auth/login", post(auth::login));
    let api = both(api, "/auth/me", get(auth::me));
    let api = both(api, "/tasks", get(tasks::list).post(tasks::create));
    // `/tasks/{task_id}` takes PUT and DELETE: on `stats` those reach it in the
    // original (a 422 for the id, after authentication), not a 405.
    let api = both(
        api,
        "/tasks/stats",
        get(stats::task_stats)
            .put(tasks::update_named_stats)
            .delete(tasks::delete_named_stats),
    );
    let api = both(
        api,
        "/tasks/{task_id}",
        get(tasks::read).put(tasks::update).delete(tasks::delete),
    );
    let api = both(api, "/tasks/{task_id}/complete", patch(tasks::complete));
    let api = both(api, "/tasks/{task_id}/incomplete", patch(tasks::incomplete));
    let api = both(api, "/stats", get(stats::user_stats));
    let router = state.router.clone();
    // The 405 fallback reaches only routes that exist when it is set: keep it last.
    Router::new()
        .nest("/api/v1", api.with_state(state))
        .merge(service::routes(router))
        .merge(docs::routes())
        .fallback(error::route_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
}

/// Registers `path` and `path/` with the same handlers.
fn both(api: Router<AppState>, path: &str, methods: MethodRouter<AppState>) -> Router<AppState> {
    api.route(path, methods.clone())
        .route(&format!("{path}/"), methods)
}
