//! Support ports of authentication: opaque tokens, account emails, and rate limits.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::session::{OpaqueToken, TokenHash};
use crate::user::User;

/// Generates opaque tokens and hashes presented ones.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OpaqueTokenGenerator: Send + Sync + 'static {
    /// A new token of at least 32 random bytes, and its hash.
    fn generate(&self) -> (OpaqueToken, TokenHash);

    /// The hash of a presented token (whatever its content).
    fn hash(&self, presented: &str) -> TokenHash;
}

/// The account emails the use cases send.
#[derive(Debug)]
pub enum AccountEmail {
    /// After sign-up (or an admin creating the account), with the link that verifies the
    /// address (`None` only for jobs queued before links existed).
    Welcome {
        user: User,
        verification: Option<EmailLink>,
    },
    PasswordReset {
        user: User,
        token: OpaqueToken,
        expires_at: DateTime<Utc>,
    },
    /// A new link to verify the user's (new) address.
    EmailVerification { user: User, link: EmailLink },
    /// The password was changed from a signed-in session.
    PasswordChanged { user: User },
}

/// A single-use token sent in a link, and when it stops working.
#[derive(Debug)]
pub struct EmailLink {
    pub token: OpaqueToken,
    pub expires_at: DateTime<Utc>,
}

/// Could not hand an email over for delivery.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Worth trying again later: the server is down, busy, or answered with a temporary
    /// (4xx) error; the network failed.
    #[error("the email could not be delivered now")]
    Transient(#[source] anyhow::Error),
    /// Trying again cannot help: the server refused the message or its recipient (5xx),
    /// or the message cannot be built.
    #[error("the email was refused")]
    Permanent(#[source] anyhow::Error),
}

/// Delivers account emails.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AccountMailer: Send + Sync + 'static {
    /// Hands `email` over for delivery (to a mail server, or a local outbox).
    ///
    /// # Errors
    /// `MailError::Transient` when a later attempt may succeed, `Permanent` when it cannot;
    /// either way the email is not sent.
    async fn send(&self, email: AccountEmail) -> Result<(), MailError>;
}

/// A fixed-window limit: at most `limit` hits per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePolicy {
    pub limit: u32,
    pub window: Duration,
}

/// One hit to count: a key under its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateHit {
    pub key: String,
    pub policy: RatePolicy,
}

/// The state of one key under one policy after a hit (or a peek).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Until the window resets.
    pub reset_after: Duration,
}

/// Counts hits per key in fixed windows.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one hit for `key` and says whether it is within `policy`.
    async fn hit(&self, key: &str, policy: RatePolicy) -> RateDecision;

    /// Counts one hit for each key under its policy, and returns the decisions in the same
    /// order. One call for the several limits of one request: an adapter that pays a round
    /// trip per call counts them all in one.
    async fn hit_all(&self, hits: &[RateHit]) -> Vec<RateDecision> {
        let mut decisions = Vec::with_capacity(hits.len());
        for hit in hits {
            decisions.push(self.hit(&hit.key, hit.policy).await);
        }
        decisions
    }

    /// The state of `key` without counting a hit.
    async fn peek(&self, key: &str, policy: RatePolicy) -> RateDecision;

    /// Forgets `key` (e.g. failed logins after a success).
    async fn reset(&self, key: &str);
}
