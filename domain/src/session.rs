//! Sessions: what authenticates a caller beyond a single access token. A session is one
//! login: its refresh tokens (rotated, one "family") and the access tokens issued with them,
//! which carry the session's id. Refresh, password-reset and email-verification tokens are
//! opaque random strings stored only as hashes; the session version of a user invalidates
//! all their access tokens at once when it changes.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use crate::id::{SessionId, UserId};
use crate::job::Outbox;
use crate::user::{Email, PasswordHash, Role};

/// The longest user agent kept with a session; longer ones are cut (it is for display).
pub const MAX_USER_AGENT_CHARS: usize = 512;

/// What the authenticator needs to know about a user on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthState {
    pub role: Role,
    /// Moved on by every role change, password change or reset and logout everywhere:
    /// access tokens carrying an older version are refused.
    pub session_version: SessionVersion,
}

/// The generation of a user's access tokens: a token carries the version it was issued at,
/// and is refused once the user's has moved on. A new user starts at
/// [`SessionVersion::INITIAL`]; only storage moves it on ([`SessionVersion::next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionVersion(i64);

impl SessionVersion {
    pub const INITIAL: Self = Self(0);

    /// The version as stored or as a token carries it.
    #[must_use]
    pub const fn new(value: i64) -> Self {
        Self(value)
    }

    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }

    /// The version after this one.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl std::fmt::Display for SessionVersion {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

/// An opaque secret handed to a client once (a refresh or password-reset token).
pub struct OpaqueToken(SecretString);

impl OpaqueToken {
    #[must_use]
    pub fn new(token: String) -> Self {
        Self(SecretString::from(token))
    }

    /// The token text, to be sent to its owner and nowhere else.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for OpaqueToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("OpaqueToken(<redacted>)")
    }
}

/// The stored form of an opaque token: a one-way hash, so that a read of the database does
/// not yield usable tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    #[must_use]
    pub fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A refresh token to store. Tokens of one login share a family; reuse of a spent token
/// revokes its whole family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub user_id: UserId,
    pub family_id: SessionId,
    pub token_hash: TokenHash,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A refresh token that was valid and is now spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumedRefreshToken {
    pub user_id: UserId,
    pub family_id: SessionId,
}

/// A password-reset token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResetToken {
    pub id: Uuid,
    pub user_id: UserId,
    pub token_hash: TokenHash,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The jobs stored with the token (the email carrying it).
    pub outbox: Outbox,
}

/// Where a request comes from, as far as the service can tell: shown to the user in their
/// list of sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// At most [`MAX_USER_AGENT_CHARS`] characters.
    user_agent: Option<String>,
    /// The client's address (after the trusted-proxy rule), as text.
    pub ip: Option<String>,
}

impl ClientInfo {
    /// Client information with the user agent cut to [`MAX_USER_AGENT_CHARS`] characters
    /// and without control characters (it is shown in a list, and may reach logs).
    #[must_use]
    pub fn new(user_agent: Option<&str>, ip: Option<String>) -> Self {
        let user_agent = user_agent
            .map(|agent| {
                agent
                    .chars()
                    .filter(|character| !character.is_control())
                    .take(MAX_USER_AGENT_CHARS)
                    .collect::<String>()
            })
            .filter(|agent| !agent.is_empty());
        Self { user_agent, ip }
    }

    #[must_use]
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }
}

/// A session to start, stored together with its first refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub client: ClientInfo,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A live session as its user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When a refresh token of the session was last exchanged (its start, if never).
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Why a user's sessions (or one of them) ended: told to their sockets as they are
/// disconnected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    LoggedOut,
    SessionDeleted,
    LoggedOutEverywhere,
    PasswordChanged,
    PasswordReset,
    RoleChanged,
    UserDeleted,
}

impl RevocationReason {
    /// The reason as clients read it (`session-revoked` event).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoggedOut => "logged-out",
            Self::SessionDeleted => "session-deleted",
            Self::LoggedOutEverywhere => "logged-out-everywhere",
            Self::PasswordChanged => "password-changed",
            Self::PasswordReset => "password-reset",
            Self::RoleChanged => "role-changed",
            Self::UserDeleted => "user-deleted",
        }
    }

    /// The reason named by [`RevocationReason::as_str`]'s text.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::LoggedOut,
            Self::SessionDeleted,
            Self::LoggedOutEverywhere,
            Self::PasswordChanged,
            Self::PasswordReset,
            Self::RoleChanged,
            Self::UserDeleted,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == text)
    }
}

/// A password change, applied in one transaction: the new hash, a new session version
/// (every earlier access token stops working), every other session revoked, the current
/// session's refresh tokens replaced by `next_token`, and its outbox (the notice) stored.
#[derive(Debug)]
pub struct PasswordChange {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub password_hash: PasswordHash,
    pub next_token: NewRefreshToken,
    /// The jobs stored with the change (the notice to the user).
    pub outbox: Outbox,
    pub now: DateTime<Utc>,
}

/// An email-verification token to store: it verifies `email` for `user_id` once, before
/// `expires_at`, unless a newer one for the same user supersedes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVerificationToken {
    pub id: Uuid,
    pub user_id: UserId,
    pub email: Email,
    pub token_hash: TokenHash,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The jobs stored with the token (the email carrying it; empty when another write's
    /// outbox sends it, as a new user's welcome email does).
    pub outbox: Outbox,
}

impl NewVerificationToken {
    /// The token's jobs, taken out of it (the adapter stores the token from what is left).
    pub fn take_outbox(&mut self) -> Outbox {
        std::mem::take(&mut self.outbox)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_reason_round_trips_through_its_text() {
        for reason in [RevocationReason::LoggedOut, RevocationReason::UserDeleted] {
            assert_eq!(RevocationReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(RevocationReason::parse("nonsense"), None);
    }

    #[test]
    fn a_user_agent_is_cut_and_cleaned() {
        let long = "a".repeat(MAX_USER_AGENT_CHARS + 10);
        assert_eq!(
            ClientInfo::new(Some(&long), None)
                .user_agent()
                .map(str::len),
            Some(MAX_USER_AGENT_CHARS)
        );
        assert_eq!(
            ClientInfo::new(Some("curl/8\r\nX: y"), None).user_agent(),
            Some("curl/8X: y")
        );
        assert_eq!(ClientInfo::new(Some("\n"), None).user_agent(), None);
    }
}
