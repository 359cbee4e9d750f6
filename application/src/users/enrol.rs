//! Storing a new user: the one path of self-service registration, an admin's creation of a
//! user and the operator's provisioning of the first admin.

use std::time::Duration;

use domain::ports::{Clock, InsertUserError, OpaqueTokenGenerator, PasswordHasher, UserRepository};
use domain::{NewUser, Outbox, User, UserId};

use super::CreateUser;
use crate::auth::verification_token;
use crate::errors::unexpected_from_infrastructure;
use crate::jobs::welcome_email_job;

/// Whether a new user gets the welcome email (with a verification link), or is an
/// operator's account whose address counts as verified.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SendWelcome {
    Yes,
    No,
}

/// What storing a new user takes.
pub(crate) struct Enrolment<'a> {
    pub(crate) hasher: &'a dyn PasswordHasher,
    pub(crate) opaque_tokens: &'a dyn OpaqueTokenGenerator,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) users: &'a dyn UserRepository,
    /// How long the welcome email's verification link works.
    pub(crate) verification_ttl: Duration,
}

/// Why a user was not stored.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EnrolError {
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

unexpected_from_infrastructure!(EnrolError => EnrolError::Unexpected);

impl Enrolment<'_> {
    /// Hashes the password and stores the user; with `SendWelcome::Yes`, with a
    /// verification token and the welcome email carrying it, in the same transaction.
    pub(crate) async fn enrol(
        &self,
        command: CreateUser,
        welcome: SendWelcome,
    ) -> Result<User, EnrolError> {
        let password_hash = self.hasher.hash(&command.password).await?;
        let now = self.clock.now();
        let id = UserId::generate();
        let (email_verified, email_verification, outbox) = match welcome {
            SendWelcome::Yes => {
                let (token, record) = verification_token(
                    self.opaque_tokens,
                    self.verification_ttl,
                    id,
                    &command.email,
                    now,
                )?;
                let job = welcome_email_job(id, &token, record.expires_at, now);
                (false, Some(record), Outbox::from(job))
            }
            // The operator vouches for the address they configured.
            SendWelcome::No => (true, None, Outbox::empty()),
        };
        let user = NewUser {
            id,
            email: command.email,
            name: command.name,
            role: command.role,
            password_hash,
            created_at: now,
            email_verified,
            email_verification,
            outbox,
        };
        self.users.insert(user).await.map_err(|error| match error {
            InsertUserError::EmailTaken => EnrolError::EmailTaken,
            InsertUserError::Unexpected(error) => error.into(),
        })
    }
}
