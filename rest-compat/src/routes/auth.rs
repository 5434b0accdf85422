//! `/api/v1/auth`: register, login (JSON or OAuth2 form) and the current user.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use crate::auth::Caller;
use crate::body::Body;
use crate::error::Error;
use crate::graphql::Purpose;
use crate::models::{Token, User};
use crate::operations::{LOGIN, ME, REGISTER};
use crate::requests;

#[derive(Deserialize)]
struct RegisterData {
    register: User,
}

#[derive(Deserialize)]
struct LoginData {
    login: Token,
}

#[derive(Deserialize)]
pub(super) struct MeData<T> {
    pub me: Option<T>,
}

impl<T> MeData<T> {
    /// The viewer: a forwarded token that resolves to nobody was not a valid one.
    pub fn viewer(self) -> Result<T, Error> {
        self.me.ok_or(Error::InvalidCredentials)
    }
}

pub async fn register(
    State(app): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<(StatusCode, Json<User>), Error> {
    let body = body.as_json();
    let input = requests::register_input(&body)?;
    let data: RegisterData = app
        .send_anonymous(
            &caller,
            REGISTER,
            json!({"input": input}),
            Purpose::Other,
            &body,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(data.register)))
}

pub async fn login(
    State(app): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<Token>, Error> {
    let credentials = requests::login_input(&body)?;
    let variables = json!({"username": credentials.username, "password": credentials.password});
    let data: LoginData = app
        .send_anonymous(&caller, LOGIN, variables, Purpose::Login, &body.as_json())
        .await?;
    Ok(Json(data.login))
}

pub async fn me(State(app): State<AppState>, caller: Caller) -> Result<Json<User>, Error> {
    let data: MeData<User> = app
        .send_as(&caller, ME, json!({}), &serde_json::Value::Null)
        .await?;
    Ok(Json(data.viewer()?))
}
