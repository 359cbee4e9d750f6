//! Ports: the traits the application needs from the outside world, owned here so that the
//! dependency points inwards. Adapters implement them; tests mock them (enable the `mocks`
//! feature for mockall's `Mock*` types).
//!
//! Every port is `Send + Sync + 'static` so that it can be shared as `Arc<dyn Port>`.
//! Each method documents, under `# Errors`, which variant an adapter MUST return for which
//! situation: the use cases map those variants to business outcomes and rely on them.

mod accounts;
mod auth_support;
mod clock;
mod errors;
mod events;
mod jobs;
mod posts;
mod readiness;
mod security;
mod sessions;
mod telemetry;
mod traces;
mod users;

pub use accounts::{
    AccountRepository, DepositCommand, DepositError, IdempotencyClaim, NewAccount, TransferCommand,
    TransferError, TransferOutcome,
};
pub use auth_support::{
    AccountEmail, AccountMailer, EmailLink, MailError, OpaqueTokenGenerator, RateDecision, RateHit,
    RateLimiter, RatePolicy,
};
pub use clock::{Clock, SystemClock};
pub use errors::{RepositoryError, StorageUnavailable, is_storage_unavailable};
pub use events::{DomainEvent, EventPublisher, NoEvents};
pub use jobs::{ClaimRequest, Enqueued, JobQueue, JobRepository, LeaseOwner, RetryJobRecordError};
pub use posts::PostRepository;
pub use readiness::{NotReady, ReadinessProbe};
pub use security::{
    AccessClaims, AccessToken, InvalidToken, PasswordHashError, PasswordHasher, SigningError,
    TokenIssuer, TokenVerifier,
};
pub use sessions::{
    ConsumeRefreshTokenError, EmailVerificationRepository, PasswordResetRepository,
    ResetPasswordError, SessionRepository, VerifyEmailError,
};
pub use telemetry::{HttpRequestRecord, JobOutcome, NoTelemetry, SocketDirection, Telemetry};
pub use traces::{NoTraces, TraceContext};
pub use users::{DeleteUserRecordError, InsertUserError, UpdateUserRecordError, UserRepository};

#[cfg(feature = "mocks")]
pub use accounts::MockAccountRepository;
#[cfg(feature = "mocks")]
pub use auth_support::{MockAccountMailer, MockOpaqueTokenGenerator, MockRateLimiter};
#[cfg(feature = "mocks")]
pub use clock::MockClock;
#[cfg(feature = "mocks")]
pub use events::MockEventPublisher;
#[cfg(feature = "mocks")]
pub use jobs::{MockJobQueue, MockJobRepository};
#[cfg(feature = "mocks")]
pub use posts::MockPostRepository;
#[cfg(feature = "mocks")]
pub use readiness::MockReadinessProbe;
#[cfg(feature = "mocks")]
pub use security::{MockPasswordHasher, MockTokenIssuer, MockTokenVerifier};
#[cfg(feature = "mocks")]
pub use sessions::{
    MockEmailVerificationRepository, MockPasswordResetRepository, MockSessionRepository,
};
#[cfg(feature = "mocks")]
pub use users::MockUserRepository;
