//! The readiness port: can this process serve traffic right now?

use async_trait::async_trait;

/// Why a dependency is not ready; the cause is logged, never shown to clients.
#[derive(Debug, thiserror::Error)]
#[error("not ready")]
pub struct NotReady(#[source] pub anyhow::Error);

/// A dependency the service cannot work without (the database, first of all).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ReadinessProbe: Send + Sync + 'static {
    /// A short name for the readiness report, e.g. `database`.
    fn name(&self) -> &'static str;

    /// Checks the dependency with a cheap round trip.
    ///
    /// # Errors
    /// `NotReady` with the cause.
    async fn check(&self) -> Result<(), NotReady>;
}
