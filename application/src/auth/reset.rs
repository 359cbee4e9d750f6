//! Password reset: asking for a link by email, and setting a new password with it.

use domain::ports::ResetPasswordError;
use domain::{Email, NewResetToken, Password, RevocationReason};
use uuid::Uuid;

use super::errors::{ConfirmResetError, RequestResetError};
use super::service::AuthService;
use crate::jobs::password_reset_email_job;

impl AuthService {
    /// Queues a reset link if the account exists (in the transaction that stores the token)
    /// and the address has not had `reset_request_policy.limit` of them this window; says
    /// nothing either way.
    #[tracing::instrument(name = "AuthService.request_password_reset", skip_all)]
    pub async fn request_password_reset(&self, email: &Email) -> Result<(), RequestResetError> {
        let requests = self
            .ports
            .rate_limiter
            .hit(
                &format!("password-resets:{email}"),
                self.config.reset_request_policy,
            )
            .await;
        if !requests.allowed {
            tracing::info!("password reset requests over the per-address limit: none sent");
            return Ok(());
        }
        let Some(credentials) = self.ports.users.find_credentials_by_email(email).await? else {
            return Ok(());
        };
        let now = self.ports.clock.now();
        let (token, token_hash) = self.ports.opaque_tokens.generate();
        let expires_at = now
            + chrono::Duration::from_std(self.config.reset_token_ttl)
                .map_err(anyhow::Error::new)?;
        let user_id = credentials.user.id;
        self.ports
            .resets
            .replace_reset_token(NewResetToken {
                id: Uuid::now_v7(),
                user_id,
                token_hash,
                created_at: now,
                expires_at,
                outbox: password_reset_email_job(user_id, &token, expires_at, now).into(),
            })
            .await?;
        tracing::info!(%user_id, "password reset requested");
        Ok(())
    }

    /// Sets a new password with a reset token; every session of the user ends.
    #[tracing::instrument(name = "AuthService.confirm_password_reset", skip_all)]
    pub async fn confirm_password_reset(
        &self,
        presented: &str,
        password: &Password,
    ) -> Result<(), ConfirmResetError> {
        let hash = self.ports.opaque_tokens.hash(presented);
        let password_hash = self.ports.hasher.hash(password).await?;
        let user_id = self
            .ports
            .resets
            .reset_password(&hash, password_hash, self.ports.clock.now())
            .await
            .map_err(|error| match error {
                ResetPasswordError::InvalidToken => ConfirmResetError::InvalidToken,
                ResetPasswordError::Unexpected(error) => error.into(),
            })?;
        self.ended(user_id, None, RevocationReason::PasswordReset)
            .await;
        tracing::info!(%user_id, "password reset; all sessions revoked");
        Ok(())
    }
}
