//! The email jobs: welcome, password reset, email verification and password changed. Each
//! payload names the user, not their address, so that the email goes to the address the
//! user has when it is sent (a verification link is dropped if that address changed).

use std::num::NonZeroU32;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{AccountEmail, AccountMailer, Clock, EmailLink, MailError, UserRepository};
use domain::{Email, Job, JobKind, JobPayload, NewJob, OpaqueToken, QueueName, User, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{JobFailure, JobHandler};

/// The queue of every email job.
pub const MAIL_QUEUE: &str = "mail";
const WELCOME_KIND: &str = "mail.welcome";
const PASSWORD_RESET_KIND: &str = "mail.password-reset";
const EMAIL_VERIFICATION_KIND: &str = "mail.email-verification";
const PASSWORD_CHANGED_KIND: &str = "mail.password-changed";
/// With the default backoff (1 s doubling, capped at 1 h) twelve attempts span about three
/// hours: an SMTP outage shorter than that loses no email; a longer one leaves the job dead
/// for an admin to retry.
const MAIL_MAX_ATTEMPTS: NonZeroU32 = NonZeroU32::new(12).expect("12 is not zero");

/// `verification` is absent from jobs queued before welcome emails carried a link.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WelcomePayload {
    user_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verification: Option<LinkPayload>,
}

/// A link's token itself (only its hash is stored); the payload is dropped when the job
/// succeeds.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinkPayload {
    token: String,
    expires_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PasswordResetPayload {
    user_id: Uuid,
    token: String,
    expires_at: DateTime<Utc>,
}

/// `email` is the address the token verifies.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EmailVerificationPayload {
    user_id: Uuid,
    email: String,
    #[serde(flatten)]
    link: LinkPayload,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PasswordChangedPayload {
    user_id: Uuid,
}

fn mail_job(kind: &str, payload: &impl Serialize, now: DateTime<Utc>) -> NewJob {
    NewJob::new(
        QueueName::parse(MAIL_QUEUE).expect("a valid queue name"),
        JobKind::parse(kind).expect("a valid job kind"),
        JobPayload::from_json(serde_json::to_string(payload).expect("a payload encodes")),
        now,
    )
    .with_max_attempts(MAIL_MAX_ATTEMPTS)
}

/// The job that sends `user_id` their welcome email with the link that verifies their
/// address, once per user.
#[must_use]
pub fn welcome_email_job(
    user_id: UserId,
    verification: &OpaqueToken,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> NewJob {
    mail_job(
        WELCOME_KIND,
        &WelcomePayload {
            user_id: user_id.as_uuid(),
            verification: Some(LinkPayload {
                token: verification.expose().to_owned(),
                expires_at,
            }),
        },
        now,
    )
    .with_dedup_key(format!("welcome:{user_id}"))
}

/// The job that sends `email` (the address of `user_id`) a link that verifies it.
#[must_use]
pub fn email_verification_job(
    user_id: UserId,
    email: &Email,
    token: &OpaqueToken,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> NewJob {
    mail_job(
        EMAIL_VERIFICATION_KIND,
        &EmailVerificationPayload {
            user_id: user_id.as_uuid(),
            email: email.as_str().to_owned(),
            link: LinkPayload {
                token: token.expose().to_owned(),
                expires_at,
            },
        },
        now,
    )
}

/// The job that tells `user_id` their password was changed.
#[must_use]
pub fn password_changed_email_job(user_id: UserId, now: DateTime<Utc>) -> NewJob {
    mail_job(
        PASSWORD_CHANGED_KIND,
        &PasswordChangedPayload {
            user_id: user_id.as_uuid(),
        },
        now,
    )
}

/// The job that sends `user_id` a link with their reset `token`.
#[must_use]
pub fn password_reset_email_job(
    user_id: UserId,
    token: &OpaqueToken,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> NewJob {
    mail_job(
        PASSWORD_RESET_KIND,
        &PasswordResetPayload {
            user_id: user_id.as_uuid(),
            token: token.expose().to_owned(),
            expires_at,
        },
        now,
    )
}

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

impl LinkPayload {
    fn into_link(self) -> EmailLink {
        EmailLink {
            token: OpaqueToken::new(self.token),
            expires_at: self.expires_at,
        }
    }
}

fn decode<T: for<'de> Deserialize<'de>>(job: &Job) -> Result<T, JobFailure> {
    serde_json::from_str(job.payload.as_json()).map_err(|error| {
        JobFailure::Permanent(
            anyhow::Error::new(error).context(format!("malformed {} payload", job.kind)),
        )
    })
}

#[async_trait]
impl JobHandler for MailJobs {
    fn kinds(&self) -> Vec<JobKind> {
        [
            WELCOME_KIND,
            PASSWORD_RESET_KIND,
            EMAIL_VERIFICATION_KIND,
            PASSWORD_CHANGED_KIND,
        ]
        .into_iter()
        .map(|kind| JobKind::parse(kind).expect("a valid job kind"))
        .collect()
    }

    #[tracing::instrument(name = "MailJobs.run", skip_all, fields(job_id = %job.id, kind = %job.kind, attempt = job.attempts))]
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        match job.kind.as_str() {
            WELCOME_KIND => self.welcome(decode(job)?).await,
            PASSWORD_RESET_KIND => self.password_reset(decode(job)?).await,
            EMAIL_VERIFICATION_KIND => self.email_verification(decode(job)?).await,
            PASSWORD_CHANGED_KIND => self.password_changed(decode(job)?).await,
            other => Err(JobFailure::Permanent(anyhow::anyhow!(
                "the mail jobs do not run kind {other}"
            ))),
        }
    }
}
