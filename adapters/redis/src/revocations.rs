//! Ended sessions told to every instance: `PUBLISH` on one channel, and a listener per
//! instance that hands each message to the instance (to forget its cached auth states and
//! disconnect its sockets of those sessions).
//!
//! Pub/sub delivers to whoever listens at that moment and keeps nothing: an instance whose
//! listener is reconnecting misses the message, and its caches still expire within their
//! 1 s TTL; only its sockets of the ended sessions stay until they reconnect (and are then
//! refused). The listener reconnects with backoff.

use std::time::Duration;

use domain::{RevocationReason, SessionId, UserId};
use futures_util::StreamExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::RedisConfig;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Sessions of `user` ended: one (`session`) or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revoked {
    pub user: UserId,
    pub session: Option<SessionId>,
    pub reason: RevocationReason,
}

impl Revoked {
    fn encode(&self) -> String {
        let session = self
            .session
            .map_or_else(|| "-".to_owned(), |session| session.to_string());
        format!("{}|{session}|{}", self.user, self.reason.as_str())
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('|');
        let user = parts.next()?.parse().ok()?;
        let session = match parts.next()? {
            "-" => None,
            session => Some(session.parse().ok()?),
        };
        let reason = RevocationReason::parse(parts.next()?)?;
        parts.next().is_none().then_some(Self {
            user,
            session,
            reason,
        })
    }
}

/// See the module documentation.
pub struct RedisRevocations {
    client: redis::Client,
    connection: ConnectionManager,
    channel: String,
}

impl std::fmt::Debug for RedisRevocations {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RedisRevocations")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl RedisRevocations {
    /// The bus on the Redis at `config.url`, on the channel `<key_prefix>revocations`.
    /// Does not connect yet.
    ///
    /// # Errors
    /// When the URL is not a Redis URL.
    pub fn new(config: &RedisConfig) -> anyhow::Result<Self> {
        let client = redis::Client::open(config.url.as_str())?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout));
        Ok(Self {
            connection: ConnectionManager::new_lazy_with_config(client.clone(), manager_config)?,
            client,
            channel: format!("{}revocations", config.key_prefix),
        })
    }

    /// Tells every instance; best effort (a failure is logged: the caches' TTL still holds).
    pub async fn publish(&self, revoked: Revoked) {
        let published: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(revoked.encode())
            .query_async(&mut self.connection.clone())
            .await;
        if let Err(error) = published {
            tracing::warn!(%error, "could not tell the other instances about ended sessions");
        }
    }

    /// Hands every message of the channel to `on_revoked`, reconnecting with backoff; runs
    /// until dropped.
    pub async fn listen<F, Fut>(&self, on_revoked: F)
    where
        F: Fn(Revoked) -> Fut + Send + Sync,
        Fut: Future<Output = ()> + Send,
    {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&self.channel).await {
                    Ok(()) => {
                        backoff = FIRST_BACKOFF;
                        tracing::info!(channel = %self.channel, "listening for ended sessions of every instance");
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            let text: String = message.get_payload().unwrap_or_default();
                            if let Some(revoked) = Revoked::decode(&text) {
                                on_revoked(revoked).await;
                            } else {
                                tracing::warn!(text, "an unreadable revocation message");
                            }
                        }
                        tracing::warn!("the revocation listener lost Redis; reconnecting");
                    }
                    Err(error) => tracing::warn!(%error, "could not subscribe to revocations"),
                },
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?backoff, "the revocation listener could not reach Redis");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_round_trips_and_garbage_is_refused() {
        for session in [None, Some(SessionId::generate())] {
            let revoked = Revoked {
                user: UserId::generate(),
                session,
                reason: RevocationReason::PasswordChanged,
            };
            assert_eq!(Revoked::decode(&revoked.encode()), Some(revoked));
        }
        assert_eq!(Revoked::decode("nonsense"), None);
        assert_eq!(Revoked::decode("a|b|c|d"), None);
    }
}
