//! The failure every storage port shares: [`RepositoryError`], with the one cause the
//! use cases and the HTTP adapter tell apart, [`StorageUnavailable`].

/// A storage failure with no business meaning (connection lost, pool exhausted, ...).
#[derive(Debug, thiserror::Error)]
#[error("repository failure")]
pub struct RepositoryError(#[source] pub anyhow::Error);

/// The storage could not be reached in time: it is down, unreachable, or every connection
/// is busy past the deadline. Not the request's fault, and worth retrying later (the HTTP
/// adapter answers `503 Service unavailable`). Adapters put it in a [`RepositoryError`]'s
/// cause chain with [`RepositoryError::unavailable`].
#[derive(Debug, thiserror::Error)]
#[error("the storage is unavailable")]
pub struct StorageUnavailable(#[source] pub anyhow::Error);

impl RepositoryError {
    /// A failure to reach the storage (see [`StorageUnavailable`]).
    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        Self(anyhow::Error::new(StorageUnavailable(cause.into())))
    }
}

/// Whether `error` was caused by unavailable storage, however deeply it was wrapped on its
/// way up (a use case's `Unexpected(anyhow)`, a handler's context).
#[must_use]
pub fn is_storage_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if current.is::<StorageUnavailable>() {
            return true;
        }
        cause = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailability_is_found_through_every_wrapping() {
        let repository = RepositoryError::unavailable(anyhow::anyhow!("pool timed out"));
        let wrapped = anyhow::Error::new(repository).context("while logging in");

        assert!(is_storage_unavailable(wrapped.as_ref()));
        let other = anyhow::Error::new(RepositoryError(anyhow::anyhow!("syntax error")));
        assert!(!is_storage_unavailable(other.as_ref()));
    }
}
