//! What the email jobs carry ([`MailJob`], tagged by the job's kind), and the functions
//! that make them (the use cases enqueue them in the transaction of the change they are
//! about).

use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use domain::ports::EmailLink;
use domain::{Email, Job, JobKind, JobPayload, NewJob, OpaqueToken, QueueName, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::MAIL_QUEUE;

const MAIL: QueueName = QueueName::from_static(MAIL_QUEUE);
/// With the default backoff (1 s doubling, capped at 1 h) twelve attempts span about three
/// hours: an SMTP outage shorter than that loses no email; a longer one leaves the job dead
/// for an admin to retry.
const MAIL_MAX_ATTEMPTS: NonZeroU32 = NonZeroU32::new(12).expect("12 is not zero");

/// Every email job. Its serde tag is the job's kind and its content the job's payload
/// (`{"kind": "mail.welcome", "payload": {...}}`), so that a stored job is read back by
/// its kind column and payload column together ([`MailJob::of`]).
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub(super) enum MailJob {
    #[serde(rename = "mail.welcome")]
    Welcome(WelcomePayload),
    #[serde(rename = "mail.password-reset")]
    PasswordReset(PasswordResetPayload),
    #[serde(rename = "mail.email-verification")]
    EmailVerification(EmailVerificationPayload),
    #[serde(rename = "mail.password-changed")]
    PasswordChanged(PasswordChangedPayload),
}

impl MailJob {
    const WELCOME: JobKind = JobKind::from_static("mail.welcome");
    const PASSWORD_RESET: JobKind = JobKind::from_static("mail.password-reset");
    const EMAIL_VERIFICATION: JobKind = JobKind::from_static("mail.email-verification");
    const PASSWORD_CHANGED: JobKind = JobKind::from_static("mail.password-changed");

    /// Every kind of email job: what the mail workers claim.
    pub(super) const KINDS: [JobKind; 4] = [
        Self::WELCOME,
        Self::PASSWORD_RESET,
        Self::EMAIL_VERIFICATION,
        Self::PASSWORD_CHANGED,
    ];

    /// The kind this job is stored under (its serde tag).
    fn kind(&self) -> JobKind {
        match self {
            Self::Welcome(_) => Self::WELCOME,
            Self::PasswordReset(_) => Self::PASSWORD_RESET,
            Self::EmailVerification(_) => Self::EMAIL_VERIFICATION,
            Self::PasswordChanged(_) => Self::PASSWORD_CHANGED,
        }
    }

    /// The stored job's email: its kind selects the variant, its payload fills it.
    ///
    /// # Errors
    /// A kind that is not an email job's, or a payload that does not fit it.
    pub(super) fn of(job: &Job) -> Result<Self, serde_json::Error> {
        Self::stored_as(&job.kind, &job.payload)
    }

    fn stored_as(kind: &JobKind, payload: &JobPayload) -> Result<Self, serde_json::Error> {
        let payload: serde_json::Value = serde_json::from_str(payload.as_json())?;
        serde_json::from_value(serde_json::json!({ "kind": kind.as_str(), "payload": payload }))
    }

    /// The job that sends this email, runnable `now`.
    fn enqueue_at(&self, now: DateTime<Utc>) -> NewJob {
        let tagged =
            serde_json::to_value(self).expect("a payload of strings, ids and times encodes");
        let payload = JobPayload::from_json(tagged["payload"].to_string());
        NewJob::new(MAIL, self.kind(), payload, now).with_max_attempts(MAIL_MAX_ATTEMPTS)
    }
}

/// `verification` is absent from jobs queued before welcome emails carried a link.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct WelcomePayload {
    pub(super) user_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) verification: Option<LinkPayload>,
}

/// A link's token itself (only its hash is stored); the payload is dropped when the job
/// succeeds.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct LinkPayload {
    pub(super) token: String,
    pub(super) expires_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PasswordResetPayload {
    pub(super) user_id: Uuid,
    pub(super) token: String,
    pub(super) expires_at: DateTime<Utc>,
}

/// `email` is the address the token verifies.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct EmailVerificationPayload {
    pub(super) user_id: Uuid,
    pub(super) email: String,
    #[serde(flatten)]
    pub(super) link: LinkPayload,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PasswordChangedPayload {
    pub(super) user_id: Uuid,
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
    MailJob::Welcome(WelcomePayload {
        user_id: user_id.as_uuid(),
        verification: Some(LinkPayload {
            token: verification.expose().to_owned(),
            expires_at,
        }),
    })
    .enqueue_at(now)
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
    MailJob::EmailVerification(EmailVerificationPayload {
        user_id: user_id.as_uuid(),
        email: email.as_str().to_owned(),
        link: LinkPayload {
            token: token.expose().to_owned(),
            expires_at,
        },
    })
    .enqueue_at(now)
}

/// The job that tells `user_id` their password was changed.
#[must_use]
pub fn password_changed_email_job(user_id: UserId, now: DateTime<Utc>) -> NewJob {
    MailJob::PasswordChanged(PasswordChangedPayload {
        user_id: user_id.as_uuid(),
    })
    .enqueue_at(now)
}

/// The job that sends `user_id` a link with their reset `token`.
#[must_use]
pub fn password_reset_email_job(
    user_id: UserId,
    token: &OpaqueToken,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> NewJob {
    MailJob::PasswordReset(PasswordResetPayload {
        user_id: user_id.as_uuid(),
        token: token.expose().to_owned(),
        expires_at,
    })
    .enqueue_at(now)
}

impl LinkPayload {
    pub(super) fn into_link(self) -> EmailLink {
        EmailLink {
            token: OpaqueToken::new(self.token),
            expires_at: self.expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_email_job_is_stored_under_its_kind_and_read_back_by_it() {
        let (user, now) = (UserId::generate(), Utc::now());
        let token = OpaqueToken::new("token".to_owned());
        let email = Email::parse("ann@example.com").unwrap();
        let jobs = [
            welcome_email_job(user, &token, now, now),
            password_reset_email_job(user, &token, now, now),
            email_verification_job(user, &email, &token, now, now),
            password_changed_email_job(user, now),
        ];
        for (job, kind) in jobs.iter().zip(MailJob::KINDS) {
            assert_eq!(job.kind, kind);
            assert_eq!(job.queue.as_str(), MAIL_QUEUE);
            let read = MailJob::stored_as(&job.kind, &job.payload).expect("its own payload");
            assert_eq!(read.kind(), kind, "the serde tag is the kind");
        }
        let other = JobKind::parse("mail.unknown").unwrap();
        assert!(MailJob::stored_as(&other, &jobs[3].payload).is_err());
    }
}
