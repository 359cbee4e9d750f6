//! Sessions: what authenticates a caller beyond a single access token. Refresh tokens
//! (rotated, in families) and password-reset tokens are opaque random strings that are
//! stored only as hashes; the session version of a user invalidates all their access
//! tokens at once when it changes.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use crate::id::UserId;
use crate::user::Role;

/// What the authenticator needs to know about a user on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthState {
    pub role: Role,
    /// Incremented on every role change and password reset: access tokens carrying an
    /// older version are refused.
    pub session_version: i64,
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
    pub family_id: Uuid,
    pub token_hash: TokenHash,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A refresh token that was valid and is now spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumedRefreshToken {
    pub user_id: UserId,
    pub family_id: Uuid,
}

/// A password-reset token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResetToken {
    pub id: Uuid,
    pub user_id: UserId,
    pub token_hash: TokenHash,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
