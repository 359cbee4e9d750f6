//! Ports: the traits the application needs from the outside world, owned here so that the
//! dependency points inwards. Adapters implement them; tests mock them (enable the `mocks`
//! feature for mockall's `Mock*` types).
//!
//! Every port is `Send + Sync + 'static` so that it can be shared as `Arc<dyn Port>`.
//! Each method documents, under `# Errors`, which variant an adapter MUST return for which
//! situation: the use cases map those variants to business outcomes and rely on them.

mod auth_support;
mod clock;
mod readiness;
mod security;
mod sessions;
mod users;

pub use auth_support::{
    AccountEmail, AccountMailer, MailError, OpaqueTokenGenerator, RateDecision, RateLimiter,
    RatePolicy,
};
pub use clock::{Clock, SystemClock};
pub use readiness::ReadinessProbe;
pub use security::{
    AccessClaims, AccessToken, InvalidToken, PasswordHashError, PasswordHasher, TokenIssuer,
    TokenVerifier,
};
pub use sessions::{
    ConsumeRefreshTokenError, PasswordResetRepository, ResetPasswordError, SessionRepository,
};
pub use users::{
    DeleteUserRecordError, InsertUserError, RepositoryError, UpdateUserRecordError, UserRepository,
};

#[cfg(feature = "mocks")]
pub use auth_support::{MockAccountMailer, MockOpaqueTokenGenerator, MockRateLimiter};
#[cfg(feature = "mocks")]
pub use clock::MockClock;
#[cfg(feature = "mocks")]
pub use readiness::MockReadinessProbe;
#[cfg(feature = "mocks")]
pub use security::{MockPasswordHasher, MockTokenIssuer, MockTokenVerifier};
#[cfg(feature = "mocks")]
pub use sessions::{MockPasswordResetRepository, MockSessionRepository};
#[cfg(feature = "mocks")]
pub use users::MockUserRepository;
