//! Password hashing with bcrypt, off the async runtime and with bounded
//! concurrency: a flood of logins queues here instead of occupying every core
//! and every runtime thread, so other requests keep being served.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::Error;

/// Hashes and verifies passwords; cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    cost: u32,
    permits: Arc<Semaphore>,
    /// Verified against when a login names no known user, so that answer takes
    /// as long as a wrong password does and does not reveal which names exist.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("cost", &self.cost)
            .field("available_permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// `max_concurrent` hashes run at once (at least one). Makes the dummy hash, at `cost`.
    pub async fn new(cost: u32, max_concurrent: usize) -> Result<Self, Error> {
        let permits = Arc::new(Semaphore::new(max_concurrent.max(1)));
        let dummy_hash = run_blocking(&permits, move || {
            bcrypt::hash("not anybody's password", cost)
        })
        .await?
        .map_err(|err| Error::Hashing(err.to_string()))?;
        Ok(Self {
            cost,
            permits,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// A new `$2b$` hash of `password`. Like passlib, bcrypt uses the first 72 bytes.
    pub async fn hash(&self, password: String) -> Result<String, Error> {
        let cost = self.cost;
        run_blocking(&self.permits, move || bcrypt::hash(password, cost))
            .await?
            .map_err(|err| Error::Hashing(err.to_string()))
    }

    /// Whether `password` matches `stored` (any bcrypt variant, e.g. passlib's `$2b$12$`).
    /// With no stored hash the dummy is checked instead and the answer is `false`.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Error> {
        let is_known_user = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = run_blocking(&self.permits, move || bcrypt::verify(password, &hash)).await?;
        match matches {
            Ok(matches) => Ok(matches && is_known_user),
            Err(err) => {
                // A stored value that is not a bcrypt hash can never match; say so in the logs.
                tracing::warn!(error = %err, "a stored password hash could not be read");
                Ok(false)
            }
        }
    }

    #[cfg(test)]
    fn dummy_hash(&self) -> &str {
        &self.dummy_hash
    }
}

/// Runs `work` on the blocking pool once a permit is free. The permit moves into
/// the blocking task, so it stays taken until the hash is done even if the
/// request that asked for it has gone away.
async fn run_blocking<T: Send + 'static>(
    permits: &Arc<Semaphore>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    let permit = Arc::clone(permits)
        .acquire_owned()
        .await
        .map_err(|err| Error::Hashing(err.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let result = work();
        drop(permit);
        result
    })
    .await
    .map_err(|err| Error::Hashing(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let passwords = Passwords::new(4, 2).await.expect("hasher");
        let hash = passwords.hash("secret123".to_owned()).await.expect("hash");
        assert!(
            hash.starts_with("$2b$04$"),
            "unexpected hash format: {hash}"
        );
        assert!(
            passwords
                .verify("secret123".to_owned(), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !passwords
                .verify("secret124".to_owned(), Some(hash))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn unknown_users_cost_a_full_hash_of_the_configured_cost() {
        let passwords = Passwords::new(5, 1).await.expect("hasher");
        assert!(passwords.dummy_hash().starts_with("$2b$05$"));
        // Even the dummy's own password does not let an unknown user in.
        let matched = passwords
            .verify("not anybody's password".to_owned(), None)
            .await
            .expect("verify");
        assert!(!matched);
    }

    #[tokio::test]
    async fn garbage_in_the_store_never_matches() {
        let passwords = Passwords::new(4, 1).await.expect("hasher");
        let matched = passwords
            .verify("whatever".to_owned(), Some("plaintext".to_owned()))
            .await
            .expect("verify");
        assert!(!matched);
    }
}
