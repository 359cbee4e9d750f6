//! [`EmailVerificationRepository`] and [`PasswordResetRepository`] in memory: one live
//! token of each kind per user, spent once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{
    EmailVerificationRepository, PasswordResetRepository, RepositoryError, ResetPasswordError,
    VerifyEmailError,
};
use domain::{NewResetToken, NewVerificationToken, PasswordHash, TokenHash, UserId};

use super::MemoryStore;
use super::tables::{OneTimeTokenRow, Tables};

#[async_trait]
impl EmailVerificationRepository for MemoryStore {
    async fn replace_verification_token(
        &self,
        mut token: NewVerificationToken,
    ) -> Result<(), RepositoryError> {
        let jobs = self.traced(token.take_outbox());
        let kinds = {
            let mut tables = self.tables();
            tables.store_verification_token(token);
            tables.insert_jobs(jobs)
        };
        self.jobs_committed(&kinds);
        Ok(())
    }

    async fn verify_email(
        &self,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<UserId, VerifyEmailError> {
        let mut tables = self.tables();
        let Tables {
            verification_tokens,
            users,
            ..
        } = &mut *tables;
        let token = verification_tokens
            .iter_mut()
            .find(|token| token.is_usable(hash.as_str(), now))
            .ok_or(VerifyEmailError::InvalidToken)?;
        // Only the address the link was sent to: after a change of address the old link
        // proves nothing about the new one (and stays unspent, as in the databases).
        let user = users
            .get_mut(&token.user_id)
            .filter(|user| Some(&user.user.email) == token.email.as_ref())
            .ok_or(VerifyEmailError::InvalidToken)?;
        token.used_at = Some(now);
        user.user.email_verified = true;
        user.user.updated_at = now;
        Ok(token.user_id)
    }
}

#[async_trait]
impl PasswordResetRepository for MemoryStore {
    async fn replace_reset_token(&self, mut token: NewResetToken) -> Result<(), RepositoryError> {
        let jobs = self.traced(std::mem::take(&mut token.outbox));
        let kinds = {
            let mut tables = self.tables();
            // A newer request supersedes the older ones.
            for earlier in &mut tables.reset_tokens {
                if earlier.user_id == token.user_id && earlier.used_at.is_none() {
                    earlier.used_at = Some(token.created_at);
                }
            }
            tables.reset_tokens.push(OneTimeTokenRow {
                user_id: token.user_id,
                email: None,
                token_hash: token.token_hash.as_str().to_owned(),
                expires_at: token.expires_at,
                used_at: None,
            });
            tables.insert_jobs(jobs)
        };
        self.jobs_committed(&kinds);
        Ok(())
    }

    async fn reset_password(
        &self,
        hash: &TokenHash,
        new_password: PasswordHash,
        now: DateTime<Utc>,
    ) -> Result<UserId, ResetPasswordError> {
        let mut tables = self.tables();
        let user_id = tables
            .reset_tokens
            .iter()
            .find(|token| token.is_usable(hash.as_str(), now))
            .map(|token| token.user_id)
            .ok_or(ResetPasswordError::InvalidToken)?;
        let user = tables
            .users
            .get_mut(&user_id)
            .ok_or_else(|| Tables::no_user(user_id))?;
        user.password_hash = new_password;
        user.session_version = user.session_version.next();
        user.user.updated_at = now;
        // This token and every other of the user's are spent.
        for token in &mut tables.reset_tokens {
            if token.user_id == user_id && token.used_at.is_none() {
                token.used_at = Some(now);
            }
        }
        tables.revoke_sessions(|_, row| row.user_id == user_id, now);
        Ok(user_id)
    }
}
