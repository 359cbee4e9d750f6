//! The domain: entities, value objects, business rules and the ports (traits) through which
//! the application reaches the outside world.
//!
//! This crate is pure. It depends on no I/O crate (no tokio, no database driver, no web
//! framework, no crypto implementation): Cargo makes a wrong import fail to compile. Every
//! value object is parsed once at the boundary ("parse, don't validate"), so an invalid
//! `Email` or `Password` cannot exist past it.

pub mod account;
pub mod actor;
pub mod id;
pub mod idempotency;
pub mod job;
pub mod money;
pub mod pagination;
pub mod ports;
pub mod post;
pub mod realtime;
pub mod session;
pub mod trace;
pub mod user;

pub use account::{Account, Transfer, TransferRuleError, check_transfer};
pub use actor::Actor;
pub use id::{AccountId, InvalidId, JobId, PostId, SessionId, TransferId, UserId};
pub use idempotency::{IdempotencyKey, IdempotencyKeyError, RequestFingerprint};
pub use job::{
    AfterFailure, DEFAULT_MAX_ATTEMPTS, Job, JobKind, JobNameError, JobPayload, JobQuery,
    JobStatus, JobStatusError, LEASE_EXPIRED_ERROR, MAX_ERROR_CHARS, NewJob, Outbox, QueueName,
    RetryPolicy, stored_error,
};
pub use money::{
    Amount, AmountError, Balance, Currency, CurrencyError, MAX_AMOUNT, NegativeBalance,
};
pub use pagination::{Page, PageRequest, PageRequestError};
pub use post::{
    NewPost, Post, PostChanges, PostContent, PostContentError, PostQuery, PostTitle, PostTitleError,
};
pub use realtime::{ChatMessage, ChatMessageError, RoomName, RoomNameError};
pub use session::{
    AuthState, ClientInfo, ConsumedRefreshToken, MAX_USER_AGENT_CHARS, NewRefreshToken,
    NewResetToken, NewSession, NewVerificationToken, OpaqueToken, PasswordChange, RevocationReason,
    Session, SessionVersion, TokenHash,
};
pub use trace::{InvalidTraceParent, TraceIdHex, TraceParent};
pub use user::{
    Email, EmailError, NewUser, Password, PasswordError, PasswordHash, Role, RoleError, SearchTerm,
    SearchTermError, User, UserChanges, UserCredentials, UserName, UserNameError, UserQuery,
    leaves_no_admin,
};
