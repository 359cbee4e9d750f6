//! The email jobs: welcome and password reset. Each payload names the user, not their
//! address, so that the email goes to the address the user has when it is sent.

use std::num::NonZeroU32;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{AccountEmail, AccountMailer, Clock, MailError, UserRepository};
use domain::{Job, JobKind, JobPayload, NewJob, OpaqueToken, QueueName, User, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{JobFailure, JobHandler};

/// The queue of every email job.
pub const MAIL_QUEUE: &str = "mail";
const WELCOME_KIND: &str = "mail.welcome";
const PASSWORD_RESET_KIND: &str = "mail.password-reset";
/// With the default backoff (1 s doubling, capped at 1 h) twelve attempts span about three
/// hours: an SMTP outage shorter than that loses no email; a longer one leaves the job dead
/// for an admin to retry.
const MAIL_MAX_ATTEMPTS: NonZeroU32 = NonZeroU32::new(12).expect("12 is not zero");

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WelcomePayload {
    user_id: Uuid,
}

/// Carries the token itself (only its hash is stored with the user); the payload is
/// dropped when the job succeeds.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PasswordResetPayload {
    user_id: Uuid,
    token: String,
    expires_at: DateTime<Utc>,
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

/// The job that sends `user_id` their welcome email, once per user.
#[must_use]
pub fn welcome_email_job(user_id: UserId, now: DateTime<Utc>) -> NewJob {
    mail_job(
        WELCOME_KIND,
        &WelcomePayload {
            user_id: user_id.as_uuid(),
        },
        now,
    )
    .with_dedup_key(format!("welcome:{user_id}"))
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
        self.send(AccountEmail::Welcome { user }).await
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
        [WELCOME_KIND, PASSWORD_RESET_KIND]
            .into_iter()
            .map(|kind| JobKind::parse(kind).expect("a valid job kind"))
            .collect()
    }

    #[tracing::instrument(name = "MailJobs.run", skip_all, fields(job_id = %job.id, kind = %job.kind, attempt = job.attempts))]
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        match job.kind.as_str() {
            WELCOME_KIND => self.welcome(decode(job)?).await,
            PASSWORD_RESET_KIND => self.password_reset(decode(job)?).await,
            other => Err(JobFailure::Permanent(anyhow::anyhow!(
                "the mail jobs do not run kind {other}"
            ))),
        }
    }
}
