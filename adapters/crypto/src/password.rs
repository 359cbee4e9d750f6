//! Argon2id password hashing on a bounded blocking pool.
//!
//! A hash or verify costs ~20 ms of one core with the OWASP parameters. Running it on the
//! async executor would stall every other request on that thread; running it unbounded on
//! the blocking pool would let a login storm queue hundreds of hashes and starve the rest
//! of the machine. So each one runs on `spawn_blocking`, and a semaphore sized to the
//! cores admits only that many at a time; the rest wait asynchronously.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash as PhcHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use domain::ports::{PasswordHashError, PasswordHasher};
use domain::{Password, PasswordHash};
use tokio::sync::Semaphore;

/// OWASP's first recommended argon2id configuration: 19 MiB, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// [`PasswordHasher`] with argon2id.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
}

impl Argon2Hasher {
    /// A hasher running at most `concurrency` hashes at once (at least one).
    #[must_use]
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// A hasher running at most one hash per available core.
    #[must_use]
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, PasswordHashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|error| PasswordHashError(error.into()))?;
        tokio::task::spawn_blocking(move || work(&argon2()))
            .await
            .map_err(|error| PasswordHashError(error.into()))
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("the OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordHashError> {
        let plain = password.expose().to_owned();
        self.run_blocking(move |argon2| {
            // A random 16-byte salt is generated from the operating system's RNG.
            argon2
                .hash_password(plain.as_bytes())
                .map(|hash| PasswordHash::from_phc(hash.to_string()))
                .map_err(|error| PasswordHashError(anyhow::anyhow!("argon2: {error}")))
        })
        .await?
    }

    async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<bool, PasswordHashError> {
        let plain = password.expose().to_owned();
        let phc = hash.as_str().to_owned();
        self.run_blocking(move |argon2| {
            // The parameters stored in the hash are used, so hashes made with older
            // parameters still verify.
            PhcHash::new(&phc)
                .is_ok_and(|parsed| argon2.verify_password(plain.as_bytes(), &parsed).is_ok())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(text: &str) -> Password {
        Password::parse(text).unwrap()
    }

    #[tokio::test]
    async fn a_hash_is_argon2id_with_the_owasp_parameters_and_verifies() {
        let hasher = Argon2Hasher::new(2);

        let hash = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();

        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            hasher
                .verify(&password("correct horse battery"), &hash)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_wrong_password_does_not_verify() {
        let hasher = Argon2Hasher::new(1);
        let hash = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();

        assert!(
            !hasher
                .verify(&password("wrong horse battery"), &hash)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() {
        let hasher = Argon2Hasher::new(1);
        let first = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();
        let second = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();

        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn a_malformed_hash_does_not_verify_and_is_not_an_error() {
        let hasher = Argon2Hasher::new(1);
        let malformed = PasswordHash::from_phc("not a phc string".to_owned());

        assert!(
            !hasher
                .verify(&password("correct horse battery"), &malformed)
                .await
                .unwrap()
        );
    }
}
