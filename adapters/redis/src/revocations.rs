//! Ended sessions told to every instance: `PUBLISH` on one channel, and a listener per
//! instance that hands each message to the instance (to forget its cached auth states and
//! disconnect its sockets of those sessions).
//!
//! Pub/sub delivers to whoever listens at that moment and keeps nothing: an instance whose
//! listener is reconnecting ([`Subscriber`]) misses the message, and its caches still
//! expire within their 1 s TTL; only its sockets of the ended sessions stay until they
//! reconnect (and are then refused).

use std::sync::Arc;

use domain::ports::Telemetry;
use domain::{RevocationReason, SessionId, UserId};

use crate::RedisConfig;
use crate::link::{Health, Link, Use};
use crate::subscriber::Subscriber;

/// Messages waiting for the listener's callback.
const BUFFER: usize = 256;

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
    link: Link,
    subscriber: Subscriber,
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
    /// Starts its pub/sub connection in the current runtime; connects lazily, so it also
    /// starts while Redis is down.
    ///
    /// # Errors
    /// When the URL is not a Redis URL.
    pub fn new(config: &RedisConfig, telemetry: Arc<dyn Telemetry>) -> anyhow::Result<Self> {
        let health = Health::new(
            Use {
                component: "revocations",
                alone: "Redis does not answer: ended sessions are told to this instance only until it does",
                shared: "Redis answers again: ended sessions are told to every instance again",
            },
            telemetry,
        );
        let link = Link::new(config, Arc::clone(&health))?;
        Ok(Self {
            subscriber: Subscriber::start(link.client(), config.timeout, health),
            link,
            channel: format!("{}revocations", config.key_prefix),
        })
    }

    /// Tells every instance; best effort (a failure is logged: the caches' TTL still holds).
    pub async fn publish(&self, revoked: Revoked) {
        let published: redis::RedisResult<i64> = self
            .link
            .run(async |mut connection| {
                redis::cmd("PUBLISH")
                    .arg(&self.channel)
                    .arg(revoked.encode())
                    .query_async(&mut connection)
                    .await
            })
            .await;
        if let Err(error) = published {
            tracing::debug!(%error, "could not tell the other instances about ended sessions");
        }
    }

    /// Hands every message of the channel to `on_revoked`, across reconnections; runs
    /// until dropped.
    pub async fn listen<F, Fut>(&self, on_revoked: F)
    where
        F: Fn(Revoked) -> Fut + Send + Sync,
        Fut: Future<Output = ()> + Send,
    {
        let mut messages = self
            .subscriber
            .subscribe(self.channel.clone(), BUFFER)
            .await;
        while let Some((_, payload)) = messages.recv().await {
            if let Some(revoked) = std::str::from_utf8(&payload).ok().and_then(Revoked::decode) {
                on_revoked(revoked).await;
            } else {
                tracing::warn!(
                    text = %String::from_utf8_lossy(&payload),
                    "an unreadable revocation message"
                );
            }
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
