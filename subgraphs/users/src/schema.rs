//! The GraphQL schema of the users subgraph: the `User` entity, `me`,
//! `register` and `login`, with the federation additions (`_entities`, `_service`).

use async_graphql::{Context, EmptySubscription, ID, InputObject, Object, Schema, SimpleObject};
use subgraph_kit::ViewerExt;
use subgraph_kit::errors::CodedError;
use subgraph_kit::errors::{ErrorCode, bad_input, internal};
use subgraph_kit::scalars::DateTime;
use tokens::{JwtKeys, Viewer};

use crate::error::Error;
use crate::loader::Users;
use crate::passwords::Passwords;
use common::document_scan::GraphqlLimits;

use crate::store::{NewUser, Store, UserRow};
use crate::validation::{self, Registration};

pub type UsersSchema = Schema<Query, Mutation, EmptySubscription>;

/// What the resolvers work with, stored once in the schema's data.
pub struct Services {
    pub store: Store,
    pub passwords: Passwords,
    pub keys: JwtKeys,
    pub users: Users,
}

/// The schema served over HTTP, with async-graphql's own limits from `limits`.
pub fn build(services: Services, limits: &GraphqlLimits) -> UsersSchema {
    subgraph_kit::subgraph_schema(Query, Mutation, limits)
        .data(services)
        .finish()
}

/// The federation SDL, identical to what `_service { sdl }` answers (the schema's
/// shape, without any services).
pub fn federation_sdl() -> String {
    let schema = subgraph_kit::subgraph_schema(Query, Mutation, &GraphqlLimits::default());
    subgraph_kit::cli::federation_sdl(&schema.finish())
}

/// An account. Only its owner ever sees it.
#[derive(Debug, Clone, SimpleObject)]
pub struct User {
    pub id: ID,
    pub email: String,
    pub username: String,
    pub full_name: Option<String>,
    pub is_active: bool,
    pub is_superuser: bool,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: ID(row.id.to_string()),
            email: row.email,
            username: row.username,
            full_name: row.full_name,
            is_active: row.is_active,
            is_superuser: row.is_superuser,
            created_at: DateTime(row.created_at),
            updated_at: DateTime(row.updated_at),
        }
    }
}

/// A successful login.
#[derive(Debug, SimpleObject)]
pub struct AuthPayload {
    /// A JWT to send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    pub user: User,
}

#[derive(Debug, InputObject)]
pub struct RegisterInput {
    pub email: String,
    pub username: String,
    pub password: String,
    pub full_name: Option<String>,
}

fn services<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Services> {
    ctx.data::<Services>().map_err(|err| internal(err.message))
}

fn not_authenticated() -> async_graphql::Error {
    ErrorCode::Unauthenticated.error("Could not validate credentials")
}

/// The stored user `id` (viewer ids beyond the store's integer range cannot exist).
async fn load_user(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<UserRow>> {
    let Ok(id) = i32::try_from(id) else {
        return Ok(None);
    };
    services(ctx)?
        .users
        .load_one(id)
        .await
        .map_err(|err| crate::error::from_shared(&err, format_args!("loading user {id}")))
}

pub struct Query;

#[Object]
impl Query {
    /// The signed-in user; null without a token.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let id = match Viewer::of(ctx) {
            Viewer::Anonymous => return Ok(None),
            Viewer::InvalidToken => return Err(not_authenticated()),
            Viewer::User(id) => id,
        };
        let user = load_user(ctx, id).await?.ok_or_else(not_authenticated)?;
        if !user.is_active {
            return Err(ErrorCode::Forbidden.error("Inactive user"));
        }
        Ok(Some(user.into()))
    }

    /// Resolves `User` representations for the router. Only the viewer's own id
    /// resolves; any other id is null, exactly as if it did not exist.
    #[graphql(entity)]
    async fn find_user_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<User>> {
        let id: i64 = id
            .parse()
            .map_err(|_| bad_input("id", format!("{:?} is not a user id", id.as_str())))?;
        match Viewer::of(ctx) {
            Viewer::User(viewer_id) if viewer_id == id => {
                Ok(load_user(ctx, id).await?.map(User::from))
            }
            // A token that does not verify is refused outright, as on every other path.
            Viewer::InvalidToken => Viewer::InvalidToken.require_user().map(|_| None),
            _ => Ok(None),
        }
    }
}

pub struct Mutation;

/// The demand-control weight of an operation that runs bcrypt (milliseconds of
/// CPU, where a field read costs next to nothing): ten times a plain mutation's 10.
const PASSWORD_HASH_COST: i32 = 100;

#[Object]
impl Mutation {
    /// Creates an account. Log in afterwards to get a token.
    #[graphql(directive = subgraph_kit::cost::cost::apply(PASSWORD_HASH_COST))]
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<User> {
        let email = validation::check(&Registration {
            email: &input.email,
            username: &input.username,
            password: &input.password,
            full_name: input.full_name.as_deref(),
        })?;
        let services = services(ctx)?;
        let hashed_password = services.passwords.hash(input.password).await?;
        let row = services
            .store
            .insert(NewUser {
                email,
                username: input.username,
                hashed_password,
                full_name: input.full_name,
            })
            .await?;
        tracing::info!(user_id = row.id, "account registered");
        Ok(row.into())
    }

    /// Exchanges a username and password for an access token.
    #[graphql(directive = subgraph_kit::cost::cost::apply(PASSWORD_HASH_COST))]
    async fn login(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> async_graphql::Result<AuthPayload> {
        subgraph_kit::storable::check("username", &username)?;
        subgraph_kit::storable::check("password", &password)?;
        let services = services(ctx)?;
        let (user, stored_hash) = match services.store.find_credentials(&username).await? {
            Some(found) => (Some(found.user), Some(found.hashed_password)),
            None => (None, None),
        };
        // Always one bcrypt verification, so unknown names answer as slowly as wrong passwords.
        let password_matches = services.passwords.verify(password, stored_hash).await?;
        let user = match user {
            Some(user) if password_matches && user.is_active => user,
            _ => return Err(ErrorCode::Unauthenticated.error("Incorrect username or password")),
        };
        let access_token = services
            .keys
            .issue(i64::from(user.id))
            .map_err(|err| Error::Token(err.to_string()))?;
        tracing::info!(user_id = user.id, "logged in");
        Ok(AuthPayload {
            access_token,
            token_type: "bearer".to_owned(),
            user: user.into(),
        })
    }
}
