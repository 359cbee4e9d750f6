//! The outbox mailer: one `.eml` file per message in a directory, for development and tests
//! (open them with any mail client, or read them in a test).

use std::path::PathBuf;

use async_trait::async_trait;
use domain::ports::{AccountEmail, AccountMailer, MailError};

use crate::compose::{MailSettings, compose};

/// [`AccountMailer`] writing `<time>-<kind>-<id>.eml` files into a directory.
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    directory: PathBuf,
    settings: MailSettings,
}

impl OutboxMailer {
    #[must_use]
    pub fn new(directory: PathBuf, settings: MailSettings) -> Self {
        Self {
            directory,
            settings,
        }
    }
}

#[async_trait]
impl AccountMailer for OutboxMailer {
    #[tracing::instrument(skip_all)]
    async fn send(&self, email: AccountEmail) -> Result<(), MailError> {
        let kind = match &email {
            AccountEmail::Welcome { .. } => "welcome",
            AccountEmail::PasswordReset { .. } => "password-reset",
            AccountEmail::EmailVerification { .. } => "email-verification",
            AccountEmail::PasswordChanged { .. } => "password-changed",
        };
        let message = compose(&email, &self.settings).map_err(MailError::Permanent)?;
        let name = format!(
            "{}-{kind}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            uuid::Uuid::now_v7()
        );
        let final_path = self.directory.join(&name);
        let partial_path = self.directory.join(format!(".{name}.partial"));
        // Written under a hidden name and renamed, so a reader never sees half a message.
        let write = async {
            tokio::fs::create_dir_all(&self.directory).await?;
            tokio::fs::write(&partial_path, message.formatted()).await?;
            tokio::fs::rename(&partial_path, &final_path).await
        };
        write
            .await
            .map_err(|error| MailError::Transient(error.into()))?;
        tracing::info!(path = %final_path.display(), kind, "email written to the outbox");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::{Email, Role, User, UserId};

    use super::*;

    #[tokio::test]
    async fn each_message_becomes_one_eml_file() {
        let directory = tempfile::tempdir().unwrap();
        let mailer = OutboxMailer::new(
            directory.path().join("outbox"),
            MailSettings {
                from: "no-reply@example.com".parse().unwrap(),
                public_url: "http://localhost".to_owned(),
            },
        );
        let user = User {
            id: UserId::generate(),
            email: Email::parse("ann@example.com").unwrap(),
            name: None,
            role: Role::User,
            email_verified: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };

        mailer
            .send(AccountEmail::Welcome {
                user: user.clone(),
                verification: None,
            })
            .await
            .unwrap();
        mailer
            .send(AccountEmail::Welcome {
                user,
                verification: None,
            })
            .await
            .unwrap();

        let files: Vec<_> = std::fs::read_dir(directory.path().join("outbox"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(files.len(), 2);
        assert!(files.iter().all(
            |file| file.file_name().to_string_lossy().ends_with("-welcome.eml")
                || file.file_name().to_string_lossy().contains("-welcome-")
        ));
    }
}
