//! Ports: the traits the application needs from the outside world, owned here so that the
//! dependency points inwards. Adapters implement them; tests mock them (enable the `mocks`
//! feature for mockall's `Mock*` types).
//!
//! Every port is `Send + Sync + 'static` so that it can be shared as `Arc<dyn Port>`.
//! Each method documents, under `# Errors`, which variant an adapter MUST return for which
//! situation: the use cases map those variants to business outcomes and rely on them.

mod clock;
mod readiness;
mod security;
mod users;

pub use clock::{Clock, SystemClock};
pub use readiness::ReadinessProbe;
pub use security::{
    AccessClaims, AccessToken, InvalidToken, PasswordHashError, PasswordHasher, TokenIssuer,
    TokenVerifier,
};
pub use users::{
    DeleteUserRecordError, InsertUserError, RepositoryError, UpdateUserRecordError, UserRepository,
};

#[cfg(feature = "mocks")]
pub use clock::MockClock;
#[cfg(feature = "mocks")]
pub use readiness::MockReadinessProbe;
#[cfg(feature = "mocks")]
pub use security::{MockPasswordHasher, MockTokenIssuer, MockTokenVerifier};
#[cfg(feature = "mocks")]
pub use users::MockUserRepository;
