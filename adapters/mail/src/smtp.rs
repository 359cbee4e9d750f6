//! The SMTP mailer: lettre's pooled async transport, configured from one URL, with each
//! delivery bounded in time.
//!
//! lettre's async transport bounds only the TCP connect: a server that accepts and then
//! never sends its greeting (or stalls after a command) would hold the delivery for good.
//! So the whole delivery runs under the timeout; one that runs out is a transient failure
//! (the queue retries it), and the transport is replaced by a new one: a connection
//! abandoned mid-conversation would otherwise go back to lettre's pool with a reply still
//! owed, and the next message on it would read that reply as its own.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use domain::ports::{AccountEmail, AccountMailer, MailError};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use crate::compose::{MailSettings, compose};

/// Connection behaviour of the SMTP mailer.
#[derive(Debug, Clone, Copy)]
pub struct SmtpOptions {
    /// Longest a delivery may take, from the connect to the server's acceptance.
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
pub struct SmtpMailer {
    /// Replaced after a delivery that ran out of time (see the module documentation).
    transport: Mutex<AsyncSmtpTransport<Tokio1Executor>>,
    builder: AsyncSmtpTransportBuilder,
    timeout: Duration,
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
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(SmtpUrlError)?
            .timeout(Some(options.timeout))
            .pool_config(PoolConfig::new().max_size(options.max_connections));
        Ok(Self {
            transport: Mutex::new(builder.clone().build()),
            builder,
            timeout: options.timeout,
            settings,
        })
    }

    fn transport(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        self.transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A new transport (and pool) for the next deliveries; the old one's connections close
    /// as their deliveries end.
    fn replace_transport(&self) {
        *self
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = self.builder.clone().build();
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
        let delivery = tokio::time::timeout(self.timeout, self.transport().send(message)).await;
        let Ok(delivery) = delivery else {
            self.replace_transport();
            return Err(MailError::Transient(anyhow::anyhow!(
                "the SMTP server did not complete the delivery within {:?}",
                self.timeout
            )));
        };
        match delivery {
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

    #[tokio::test]
    async fn a_server_that_never_greets_fails_the_delivery_within_the_timeout() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", silent.local_addr().unwrap());
        // Accepts connections and holds them, saying nothing.
        let held = tokio::spawn(async move {
            let mut connections = Vec::new();
            while let Ok((connection, _)) = silent.accept().await {
                connections.push(connection);
            }
        });
        let mailer = SmtpMailer::from_url(
            &url,
            settings(),
            SmtpOptions {
                timeout: Duration::from_millis(300),
                max_connections: 1,
            },
        )
        .unwrap();
        let welcome = || AccountEmail::Welcome {
            user: crate::compose::tests::user(None),
            verification: None,
        };

        for _ in 0..2 {
            let started = std::time::Instant::now();
            let error = mailer.send(welcome()).await.unwrap_err();
            assert!(matches!(error, MailError::Transient(_)), "{error:?}");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{:?}",
                started.elapsed()
            );
        }
        held.abort();
    }
}
