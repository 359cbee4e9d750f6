//! Email verification: the link's token, spending it, and sending a new one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::ports::{OpaqueTokenGenerator, VerifyEmailError as VerifyEmailRecordError};
use domain::{Actor, Email, NewVerificationToken, OpaqueToken, Outbox, UserId};
use uuid::Uuid;

use super::errors::{ResendVerificationError, VerifyEmailError};
use super::service::AuthService;
use crate::jobs::email_verification_job;

/// A new verification token for `email` of `user_id`, valid for `ttl` from `now`: the
/// record to store (its hash) and the text for the link.
///
/// # Errors
/// Only when `ttl` does not fit a date.
pub(crate) fn verification_token(
    generator: &dyn OpaqueTokenGenerator,
    ttl: Duration,
    user_id: UserId,
    email: &Email,
    now: DateTime<Utc>,
) -> anyhow::Result<(OpaqueToken, NewVerificationToken)> {
    let (token, token_hash) = generator.generate();
    let record = NewVerificationToken {
        id: Uuid::now_v7(),
        user_id,
        email: email.clone(),
        token_hash,
        created_at: now,
        expires_at: now + chrono::Duration::from_std(ttl)?,
        outbox: Outbox::empty(),
    };
    Ok((token, record))
}

impl AuthService {
    /// A verification token for `email` (to store) and its text (for the link).
    pub(super) fn verification_token(
        &self,
        user_id: UserId,
        email: &Email,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(OpaqueToken, NewVerificationToken)> {
        verification_token(
            self.ports.opaque_tokens.as_ref(),
            self.config.verification_token_ttl,
            user_id,
            email,
            now,
        )
    }

    /// Marks an address verified with the token from its link (single use, 24 hours by
    /// default, superseded by a newer link).
    #[tracing::instrument(name = "AuthService.verify_email", skip_all)]
    pub async fn verify_email(&self, presented: &str) -> Result<(), VerifyEmailError> {
        let hash = self.ports.opaque_tokens.hash(presented);
        let user_id = self
            .ports
            .verifications
            .verify_email(&hash, self.ports.clock.now())
            .await
            .map_err(|error| match error {
                VerifyEmailRecordError::InvalidToken => VerifyEmailError::InvalidToken,
                VerifyEmailRecordError::Unexpected(error) => error.into(),
            })?;
        tracing::info!(%user_id, "email verified");
        Ok(())
    }

    /// Queues a new verification link to the caller's address (superseding the earlier
    /// ones), unless it is verified. Past `reset_request_policy` per address and window, the
    /// answer is the same and nothing is sent.
    #[tracing::instrument(name = "AuthService.resend_verification", skip_all, fields(actor = %actor.user_id))]
    pub async fn resend_verification(&self, actor: Actor) -> Result<(), ResendVerificationError> {
        let user = self
            .ports
            .users
            .find_by_id(actor.user_id)
            .await?
            .ok_or(ResendVerificationError::NotFound(actor.user_id))?;
        if user.email_verified {
            return Err(ResendVerificationError::AlreadyVerified);
        }
        let requests = self
            .ports
            .rate_limiter
            .hit(
                &format!("verification-emails:{}", user.email),
                self.config.reset_request_policy,
            )
            .await;
        if !requests.allowed {
            tracing::info!("verification emails over the per-address limit: none sent");
            return Ok(());
        }
        let now = self.ports.clock.now();
        let (token, record) = self.verification_token(user.id, &user.email, now)?;
        let job = email_verification_job(user.id, &user.email, &token, record.expires_at, now);
        self.ports
            .verifications
            .replace_verification_token(NewVerificationToken {
                outbox: job.into(),
                ..record
            })
            .await?;
        Ok(())
    }
}
