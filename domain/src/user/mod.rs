//! The user: its value objects (each parsed once, never re-checked) and the entity.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

mod email;
mod password;

pub use self::email::{Email, EmailError};
pub use self::password::{Password, PasswordError, PasswordHash};
use crate::id::UserId;
use crate::pagination::PageRequest;

const NAME_MAX_CHARS: usize = 100;
const SEARCH_MAX_CHARS: usize = 100;

/// What a user may do beyond reading: admins manage users and may act on anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Admin,
}

/// A role name that is neither `user` nor `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Must be one of: user, admin")]
pub struct RoleError;

impl Role {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            _ => Err(RoleError),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Why a string is not a [`UserName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserNameError {
    #[error("Must not be empty")]
    Empty,
    #[error("Must be at most {NAME_MAX_CHARS} characters")]
    TooLong,
    #[error("Must not contain control characters")]
    ControlCharacter,
}

/// A display name: at most 100 characters, not blank, no control characters; stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    /// Longest name, counted as typed (before trimming), as the API documents it.
    pub const MAX_CHARS: usize = NAME_MAX_CHARS;

    pub fn parse(text: &str) -> Result<Self, UserNameError> {
        if text.chars().count() > NAME_MAX_CHARS {
            return Err(UserNameError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(UserNameError::ControlCharacter);
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(UserNameError::Empty);
        }
        Ok(Self(text.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a [`SearchTerm`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchTermError {
    #[error("Must be at most {SEARCH_MAX_CHARS} characters")]
    TooLong,
    #[error("Must not contain control characters")]
    ControlCharacter,
}

/// A case-insensitive substring to look for in names and emails; empty means "no filter".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// `Ok(None)` for a blank term: searching for nothing filters nothing.
    /// Longest term, counted as typed (before trimming).
    pub const MAX_CHARS: usize = SEARCH_MAX_CHARS;

    pub fn parse(text: &str) -> Result<Option<Self>, SearchTermError> {
        if text.chars().count() > SEARCH_MAX_CHARS {
            return Err(SearchTermError::TooLong);
        }
        // Storage may separate searchable fields with control characters.
        if text.chars().any(char::is_control) {
            return Err(SearchTermError::ControlCharacter);
        }
        let text = text.trim();
        Ok((!text.is_empty()).then(|| Self(text.to_lowercase())))
    }

    /// The term, lower-cased.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registered user as every reader sees it: never with a password or its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: Option<UserName>,
    pub role: Role,
    /// Whether the user proved they receive mail at `email` (a verification link).
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user together with the hash of their password, for login only.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: PasswordHash,
}

/// Everything needed to store a new user; the id and timestamps are chosen by the caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub name: Option<UserName>,
    pub role: Role,
    pub password_hash: PasswordHash,
    pub created_at: DateTime<Utc>,
    /// Whether the address counts as verified from the start (an operator's account).
    pub email_verified: bool,
    /// The token of the link that verifies `email`, stored with the user (the welcome
    /// email carries it). `None`: the address stays unverified until a resend.
    pub email_verification: Option<crate::session::NewVerificationToken>,
    /// The jobs stored with the user (its welcome email, which carries the verification
    /// token).
    pub outbox: crate::job::Outbox,
}

impl NewUser {
    /// Every job to store with the user, taken out of it: its own outbox, then its
    /// verification token's. The adapter stores the user and the token from what is left.
    pub fn take_outbox(&mut self) -> crate::job::Outbox {
        let token = self
            .email_verification
            .as_mut()
            .map(crate::session::NewVerificationToken::take_outbox)
            .unwrap_or_default();
        std::mem::take(&mut self.outbox).and(token)
    }
}

/// A partial update of a user: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub email: Option<Email>,
    pub name: Option<UserName>,
    pub role: Option<Role>,
}

impl UserChanges {
    /// Whether applying these changes to `user` would change its role.
    #[must_use]
    pub fn changes_role_of(&self, user: &User) -> bool {
        self.role.is_some_and(|role| role != user.role)
    }
}

/// A filtered, paginated listing of users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub page: PageRequest,
    pub search: Option<SearchTerm>,
}

/// Whether taking the admin role from `user` (by deletion or demotion) leaves the service
/// without an admin, given every current admin. Adapters judge it on the admins as locked
/// in the transaction that makes the change.
#[must_use]
pub fn leaves_no_admin(admins: &[UserId], user: UserId) -> bool {
    admins == [user]
}

#[cfg(test)]
mod tests;
