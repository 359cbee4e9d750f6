//! The application layer: one service per feature, each use case a method that checks the
//! domain's rules and drives the ports. It knows no adapter technology (no web framework,
//! no database, no crypto library); the bootstrap crate hands it `Arc<dyn Port>`s.
//!
//! Every use case has its own error enum so that the HTTP adapter can map each outcome to
//! a status exhaustively, and infrastructure faults end in an opaque `Unexpected` variant.

pub mod accounts;
pub mod auth;
pub mod auth_states;
pub mod authenticator;
mod cache;
mod errors;
pub mod health;
pub mod jobs;
pub mod posts;
pub mod users;

pub use accounts::{
    AccountService, DepositMoneyError, GetAccountError, ListAccountsError, MakeTransferError,
    OpenAccountError, TransferReceipt,
};
pub use auth::{AuthConfig, AuthPorts, AuthService, IssuedSession, Register};
pub use auth_states::{AuthStates, SessionStates};
pub use authenticator::{AuthenticateError, Authenticator, Caller};
pub use health::{HealthService, ReadinessReport};
pub use jobs::{JobAdminService, JobFailure, JobHandler, ListJobsError, MailJobs, RetryJobError};
pub use posts::{
    ChangePostError, CreatePost, CreatePostError, GetPostError, ListPostsError, PostFilters,
    PostService,
};
pub use users::{
    AdminProvisioning, CreateUser, CreateUserError, DeleteUserError, EnsureAdminError,
    GetUserError, ListUsersError, UpdateUserError, UserPorts, UserService,
};
