//! The users table: every query the service runs, written once for both stores.

use std::sync::LazyLock;

use chrono::Utc;
use db::on_pool;
use db::{Migrations, Pool};
use sqlx::migrate::Migrator;

use crate::error::Error;

/// Each service keeps its own migration history table, so users and tasks can
/// share one database (as the original system did) without mixing up versions.
const MIGRATIONS_TABLE: &str = "_users_migrations";

static POSTGRES_MIGRATIONS: LazyLock<Migrator> = LazyLock::new(|| {
    let mut migrator = sqlx::migrate!("../../migrations/users/postgres");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
});

static SQLITE_MIGRATIONS: LazyLock<Migrator> = LazyLock::new(|| {
    let mut migrator = sqlx::migrate!("../../migrations/users/sqlite");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
});

/// The migrations of the users store, applied at start.
pub fn migrations() -> Migrations {
    Migrations {
        postgres: &POSTGRES_MIGRATIONS,
        sqlite: &SQLITE_MIGRATIONS,
    }
}

/// The public columns of a user. Rows written by the original system may have
/// NULL flags or `updated_at` (those were ORM defaults, not column defaults).
macro_rules! user_columns {
    () => {
        "id, email, username, full_name, \
         COALESCE(is_active, TRUE) AS is_active, \
         COALESCE(is_superuser, FALSE) AS is_superuser, \
         created_at, COALESCE(updated_at, created_at) AS updated_at"
    };
}

/// A user as stored, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: i32,
    pub email: String,
    pub username: String,
    pub full_name: Option<String>,
    pub is_active: bool,
    pub is_superuser: bool,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

/// A user together with the hash their password must match.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub hashed_password: String,
}

/// A validated account about to be created.
#[derive(Debug)]
pub struct NewUser {
    pub email: String,
    pub username: String,
    pub hashed_password: String,
    pub full_name: Option<String>,
}

/// The users store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// Creates an active, non-superuser account. `user.email` must be
    /// normalised (`common::email::normalize`). A taken username or address is
    /// [`Error::Conflict`]: decided by the unique indexes (so two racing
    /// registrations cannot both win), and, for rows stored before addresses
    /// were normalised that the migration had to leave as written because they
    /// collide, by the normalised-address lookup in the same statement.
    pub async fn insert(&self, user: NewUser) -> Result<UserRow, Error> {
        let now = subgraph_kit::scalars::DateTime::now().0;
        let postgres = matches!(self.pool, Pool::Postgres(_));
        let taken = on_pool!(&self.pool, |p| {
            let sql = sqlx::AssertSqlSafe(legacy_address_query(postgres));
            sqlx::query_scalar::<_, i32>(sql)
                .bind(&user.email)
                .fetch_optional(p)
                .await
        })?;
        if taken.is_some() {
            return Err(Error::Conflict);
        }
        const INSERT: &str = concat!(
            "INSERT INTO users (email, username, hashed_password, full_name, \
             is_active, is_superuser, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, TRUE, FALSE, $5, $5) RETURNING ",
            user_columns!()
        );
        on_pool!(&self.pool, |p| sqlx::query_as::<_, UserRow>(INSERT)
            .bind(user.email)
            .bind(user.username)
            .bind(user.hashed_password)
            .bind(user.full_name)
            .bind(now)
            .fetch_one(p)
            .await)
        .map_err(Error::from_insert)
    }

    /// Accounts whose addresses are the same mailbox once normalised (rows the
    /// original system wrote, which the e-mail migration left untouched rather
    /// than merge): each group's address and the ids sharing it. Logged at start.
    pub async fn email_collisions(&self) -> Result<Vec<(String, Vec<i32>)>, Error> {
        let postgres = matches!(self.pool, Pool::Postgres(_));
        let normalised = common::email::sql_domain_lowered("email", postgres);
        let rows: Vec<(String, i32)> = on_pool!(&self.pool, |p| {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {normalised} AS address, id FROM users WHERE {normalised} IN \
                 (SELECT {normalised} FROM users GROUP BY {normalised} HAVING COUNT(*) > 1) \
                 ORDER BY address, id"
            ));
            sqlx::query_as::<_, (String, i32)>(sql).fetch_all(p).await
        })?;
        let mut groups: Vec<(String, Vec<i32>)> = Vec::new();
        for (address, id) in rows {
            match groups.last_mut() {
                Some((last, ids)) if *last == address => ids.push(id),
                _ => groups.push((address, vec![id])),
            }
        }
        Ok(groups)
    }

    /// Logs every group of [`Store::email_collisions`] as a warning; never fails the start.
    pub async fn report_email_collisions(&self) {
        match self.email_collisions().await {
            Ok(groups) => {
                for (address, ids) in groups {
                    tracing::warn!(
                        %address,
                        user_ids = ?ids,
                        "several accounts own the same mailbox once its domain is normalised; \
                         left unmerged: resolve by hand (a new registration of it is refused)"
                    );
                }
            }
            Err(err) => tracing::warn!(error = ?err, "could not check e-mail address collisions"),
        }
    }

    /// The account a login names, by username only, as the original did: an
    /// e-mail address is not a login name (a username may equal someone else's
    /// address, so accepting both could pick the wrong account).
    pub async fn find_credentials(&self, login: &str) -> Result<Option<Credentials>, Error> {
        const BY_LOGIN: &str = concat!(
            "SELECT ",
            user_columns!(),
            ", hashed_password FROM users WHERE username = $1"
        );
        let found = on_pool!(&self.pool, |p| sqlx::query_as::<_, Credentials>(BY_LOGIN)
            .bind(login)
            .fetch_optional(p)
            .await)?;
        Ok(found)
    }

    /// The users with these ids, in one statement (`WHERE id IN (...)`).
    pub async fn find_by_ids(&self, ids: &[i32]) -> Result<Vec<UserRow>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = on_pool!(&self.pool, |p| {
            let mut query = sqlx::QueryBuilder::new(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE id IN ("
            ));
            let mut list = query.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            query.push(")");
            query.build_query_as::<UserRow>().fetch_all(p).await
        })?;
        Ok(rows)
    }
}

/// A stored row that is `$1` once its domain is lower-cased (the migration's
/// expression, served by its index `ix_users_email_normalised`).
fn legacy_address_query(postgres: bool) -> String {
    format!(
        "SELECT id FROM users WHERE {} = $1 LIMIT 1",
        common::email::sql_domain_lowered("email", postgres)
    )
}
