//! The SMTP mailer: lettre's pooled async transport, configured from one URL.

use std::time::Duration;

use async_trait::async_trait;
use domain::ports::{AccountEmail, AccountMailer, MailError};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use crate::compose::{MailSettings, compose};

/// Connection behaviour of the SMTP mailer.
#[derive(Debug, Clone, Copy)]
pub struct SmtpOptions {
    /// Longest wait for any one step of a delivery (connect, each command).
    pub timeout: Duration,
    /// Most connections kept open to the server (reused between messages).
    pub max_connections: u32,
}

impl Default for SmtpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            max_connections: 4,
        }
    }
}

/// `SMTP_URL` could not be understood.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid SMTP_URL (expected smtp://[user:pass@]host[:port][?tls=required|opportunistic] or smtps://...)"
)]
pub struct SmtpUrlError(#[source] lettre::transport::smtp::Error);

/// [`AccountMailer`] delivering over SMTP.
///
/// The URL selects the security: `smtps://` is TLS from the first byte (port 465),
/// `smtp://...?tls=required` insists on STARTTLS, `?tls=opportunistic` upgrades when the
/// server offers it, plain `smtp://` never encrypts (local relays and test sinks only).
/// Credentials in the URL are used with the server's preferred mechanism (PLAIN or LOGIN).
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    settings: MailSettings,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials: not printed.
        formatter
            .debug_struct("SmtpMailer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `url`; call it inside a Tokio runtime (the pool starts a task). Connects
    /// lazily: a server that is down fails the first delivery
    /// (which the job queue retries), not the start.
    pub fn from_url(
        url: &str,
        settings: MailSettings,
        options: SmtpOptions,
    ) -> Result<Self, SmtpUrlError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(SmtpUrlError)?
            .timeout(Some(options.timeout))
            .pool_config(PoolConfig::new().max_size(options.max_connections))
            .build();
        Ok(Self {
            transport,
            settings,
        })
    }
}

#[async_trait]
impl AccountMailer for SmtpMailer {
    #[tracing::instrument(
        name = "smtp.send",
        level = "debug",
        skip_all,
        fields(otel.kind = "client", network.protocol.name = "smtp")
    )]
    async fn send(&self, email: AccountEmail) -> Result<(), MailError> {
        let message = compose(&email, &self.settings).map_err(MailError::Permanent)?;
        match self.transport.send(message).await {
            Ok(response) => {
                tracing::info!(code = %response.code(), "email delivered to the SMTP server");
                Ok(())
            }
            // A 5xx answer (unknown recipient, message refused) will not change by itself;
            // everything else (refused connection, timeout, 4xx, TLS failure) may.
            Err(error) if error.is_permanent() => {
                Err(MailError::Permanent(anyhow::Error::new(error)))
            }
            Err(error) => Err(MailError::Transient(anyhow::Error::new(error))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MailSettings {
        MailSettings {
            from: "no-reply@example.com".parse().unwrap(),
            public_url: "http://localhost".to_owned(),
        }
    }

    // The pooled transport starts a Tokio task: mailers are built inside a runtime.
    #[tokio::test]
    async fn every_documented_url_form_is_accepted() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtps://user:pass@mail.example.com:465",
            "smtp://mail.example.com:587?tls=required",
            "smtp://user:pass@mail.example.com:587?tls=opportunistic",
        ] {
            assert!(
                SmtpMailer::from_url(url, settings(), SmtpOptions::default()).is_ok(),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_without_echoing_credentials() {
        let error = SmtpMailer::from_url(
            "http://user:hunter2@mail.example.com",
            settings(),
            SmtpOptions::default(),
        )
        .unwrap_err();

        assert!(!error.to_string().contains("hunter2"));
    }

    #[tokio::test]
    async fn the_debug_form_hides_the_credentials() {
        let mailer = SmtpMailer::from_url(
            "smtps://user:hunter2@mail.example.com:465",
            settings(),
            SmtpOptions::default(),
        )
        .unwrap();

        assert!(!format!("{mailer:?}").contains("hunter2"));
    }
}
