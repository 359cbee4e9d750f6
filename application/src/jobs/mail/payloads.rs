//! What the email jobs carry, and the functions that make them (the use cases enqueue
//! them in the transaction of the change they are about).

use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use domain::ports::EmailLink;
use domain::{Email, JobKind, JobPayload, NewJob, OpaqueToken, QueueName, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::MAIL_QUEUE;

pub(super) const WELCOME_KIND: &str = "mail.welcome";
pub(super) const PASSWORD_RESET_KIND: &str = "mail.password-reset";
pub(super) const EMAIL_VERIFICATION_KIND: &str = "mail.email-verification";
pub(super) const PASSWORD_CHANGED_KIND: &str = "mail.password-changed";
/// With the default backoff (1 s doubling, capped at 1 h) twelve attempts span about three
/// hours: an SMTP outage shorter than that loses no email; a longer one leaves the job dead
/// for an admin to retry.
const MAIL_MAX_ATTEMPTS: NonZeroU32 = NonZeroU32::new(12).expect("12 is not zero");

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

impl LinkPayload {
    pub(super) fn into_link(self) -> EmailLink {
        EmailLink {
            token: OpaqueToken::new(self.token),
            expires_at: self.expires_at,
        }
    }
}
