//! Job wake-ups across processes on PostgreSQL: a dedicated connection `LISTEN`s on the
//! channel every enqueueing transaction notifies (`jobs::NotifyWorkers`), and each
//! notification wakes an idle worker of this process at once, whichever process enqueued.
//!
//! The listener is not pooled (a pooled connection would stop listening when recycled).
//! When its connection fails, or answers no ping, it reconnects with backoff; after every
//! (re)connection it wakes a worker once, for the jobs committed while nobody listened.
//! Polling (`JOB_POLL_INTERVAL_MS`) stays as the backstop.

use std::time::Duration;

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use futures_util::StreamExt as _;

use super::{JOBS_CHANNEL, JobSignals};
use crate::database::{Backend, Database};

/// How often a quiet listener checks that its connection still answers.
const PING_INTERVAL: Duration = Duration::from_secs(15);
/// How long a ping, or a connection attempt, may take.
const PING_TIMEOUT: Duration = Duration::from_secs(5);
/// First and longest pause between connection attempts.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The listener of one process: a connection of its own to the database, and the signals
/// it relays to.
struct Listener {
    connection_url: String,
    signals: JobSignals,
}

impl JobSignals {
    /// On PostgreSQL, the listener described in the module documentation, waking the
    /// workers that wait on these signals, to run (spawned) for as long as this process has
    /// workers; `None` on SQLite, whose one process wakes its workers itself.
    #[must_use]
    pub fn listener(
        &self,
        database: &Database,
    ) -> Option<impl Future<Output = ()> + Send + 'static + use<>> {
        if database.backend() != Backend::Postgres {
            return None;
        }
        let listener = Listener {
            connection_url: database.connection_url().to_owned(),
            signals: self.clone(),
        };
        Some(async move { listener.listen().await })
    }
}

impl Listener {
    async fn listen(&self) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.listening_connection().await {
                Ok(mut connection) => {
                    backoff = FIRST_BACKOFF;
                    tracing::info!(
                        channel = JOBS_CHANNEL,
                        "listening for jobs of every process"
                    );
                    // Jobs committed while nobody listened.
                    self.signals.wake();
                    self.relay(&mut connection).await;
                    tracing::warn!(
                        channel = JOBS_CHANNEL,
                        "the job listener lost its connection; reconnecting"
                    );
                }
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), retry_in = ?backoff, "the job listener could not connect");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn listening_connection(&self) -> anyhow::Result<AsyncPgConnection> {
        let connect = async {
            let mut connection = AsyncPgConnection::establish(&self.connection_url).await?;
            connection
                .batch_execute(&format!("LISTEN {JOBS_CHANNEL}"))
                .await?;
            anyhow::Ok(connection)
        };
        tokio::time::timeout(PING_TIMEOUT, connect)
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {PING_TIMEOUT:?}"))?
    }

    /// Wakes a worker per notification until the connection fails or stops answering.
    async fn relay(&self, connection: &mut AsyncPgConnection) {
        loop {
            {
                let notifications = connection.notifications_stream();
                let mut notifications = std::pin::pin!(notifications);
                let quiet = tokio::time::sleep(PING_INTERVAL);
                let mut quiet = std::pin::pin!(quiet);
                loop {
                    tokio::select! {
                        notification = notifications.next() => match notification {
                            Some(Ok(_)) => self.signals.wake(),
                            Some(Err(error)) => {
                                tracing::warn!(%error, "the job listener's connection failed");
                                return;
                            }
                            None => return,
                        },
                        () = &mut quiet => break,
                    }
                }
            }
            let ping = tokio::time::timeout(PING_TIMEOUT, connection.batch_execute("SELECT 1"));
            if !matches!(ping.await, Ok(Ok(()))) {
                return;
            }
        }
    }
}
