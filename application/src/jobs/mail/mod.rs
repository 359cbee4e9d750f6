//! The email jobs: welcome, password reset, email verification and password changed. Each
//! payload names the user, not their address, so that the email goes to the address the
//! user has when it is sent (a verification link is dropped if that address changed).

use std::sync::Arc;

use async_trait::async_trait;
use domain::ports::{AccountEmail, AccountMailer, Clock, MailError, UserRepository};
use domain::{Job, JobKind, OpaqueToken, User, UserId};
use uuid::Uuid;

mod payloads;

use self::payloads::{
    EmailVerificationPayload, LinkPayload, MailJob, PasswordChangedPayload, PasswordResetPayload,
    WelcomePayload,
};
pub use self::payloads::{
    email_verification_job, password_changed_email_job, password_reset_email_job, welcome_email_job,
};
use super::{JobFailure, JobHandler};

/// The queue of every email job.
pub const MAIL_QUEUE: &str = "mail";

/// Runs the email jobs through the [`AccountMailer`] port.
#[derive(Clone)]
pub struct MailJobs {
    users: Arc<dyn UserRepository>,
    mailer: Arc<dyn AccountMailer>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MailJobs {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("MailJobs").finish_non_exhaustive()
    }
}

impl MailJobs {
    pub fn new(
        users: Arc<dyn UserRepository>,
        mailer: Arc<dyn AccountMailer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            mailer,
            clock,
        }
    }

    async fn welcome(&self, payload: WelcomePayload) -> Result<(), JobFailure> {
        let Some(user) = self.user(payload.user_id).await? else {
            return Ok(());
        };
        // A verified address (or an expired link) needs no link any more.
        let verification = payload
            .verification
            .filter(|link| !user.email_verified && link.expires_at > self.clock.now())
            .map(LinkPayload::into_link);
        self.send(AccountEmail::Welcome { user, verification })
            .await
    }

    async fn email_verification(
        &self,
        payload: EmailVerificationPayload,
    ) -> Result<(), JobFailure> {
        if payload.link.expires_at <= self.clock.now() {
            tracing::info!(user_id = %payload.user_id, "verification link expired before it could be sent: dropped");
            return Ok(());
        }
        let Some(user) = self.user(payload.user_id).await? else {
            return Ok(());
        };
        if user.email.as_str() != payload.email {
            tracing::info!(user_id = %payload.user_id, "the address changed since the link was made: dropped");
            return Ok(());
        }
        self.send(AccountEmail::EmailVerification {
            user,
            link: payload.link.into_link(),
        })
        .await
    }

    async fn password_changed(&self, payload: PasswordChangedPayload) -> Result<(), JobFailure> {
        let Some(user) = self.user(payload.user_id).await? else {
            return Ok(());
        };
        self.send(AccountEmail::PasswordChanged { user }).await
    }

    async fn password_reset(&self, payload: PasswordResetPayload) -> Result<(), JobFailure> {
        if payload.expires_at <= self.clock.now() {
            tracing::info!(user_id = %payload.user_id, "reset link expired before it could be sent: dropped");
            return Ok(());
        }
        let Some(user) = self.user(payload.user_id).await? else {
            return Ok(());
        };
        self.send(AccountEmail::PasswordReset {
            user,
            token: OpaqueToken::new(payload.token),
            expires_at: payload.expires_at,
        })
        .await
    }

    /// The recipient, or `None` (and the email dropped) when they deleted their account.
    async fn user(&self, id: Uuid) -> Result<Option<User>, JobFailure> {
        let user = self
            .users
            .find_by_id(UserId::from_uuid(id))
            .await
            .map_err(|error| JobFailure::Retryable(error.into()))?;
        if user.is_none() {
            tracing::info!(user_id = %id, "the user no longer exists: email dropped");
        }
        Ok(user)
    }

    async fn send(&self, email: AccountEmail) -> Result<(), JobFailure> {
        self.mailer.send(email).await.map_err(|error| match error {
            MailError::Transient(_) => JobFailure::Retryable(error.into()),
            MailError::Permanent(_) => JobFailure::Permanent(error.into()),
        })
    }
}

#[async_trait]
impl JobHandler for MailJobs {
    fn kinds(&self) -> Vec<JobKind> {
        MailJob::KINDS.to_vec()
    }

    #[tracing::instrument(name = "MailJobs.run", skip_all, fields(job_id = %job.id, kind = %job.kind, attempt = job.attempts))]
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let email = MailJob::of(job).map_err(|error| {
            JobFailure::Permanent(
                anyhow::Error::new(error).context(format!("malformed {} job", job.kind)),
            )
        })?;
        match email {
            MailJob::Welcome(payload) => self.welcome(payload).await,
            MailJob::PasswordReset(payload) => self.password_reset(payload).await,
            MailJob::EmailVerification(payload) => self.email_verification(payload).await,
            MailJob::PasswordChanged(payload) => self.password_changed(payload).await,
        }
    }
}
