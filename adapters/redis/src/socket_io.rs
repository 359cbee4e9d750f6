//! socket.io across instances: the pub/sub [`Driver`] under `socketioxide-redis`'s adapter,
//! which sends each room event and broadcast to the other instances (and requests such as
//! "which rooms exist") over Redis channels named `<key_prefix>socket.io-…`.
//!
//! Written here rather than taking the crate's own driver because of what the service
//! promises while Redis is away (API.md, "Operations"):
//! - the adapter publishes *before* it delivers to this instance's sockets, and gives up
//!   on both when publishing fails; this driver's `publish` never fails, so local delivery
//!   goes on (a packet published while Redis is away is lost to the other instances:
//!   socket.io delivery is at most once);
//! - its subscriptions survive reconnections, and a blackholed Redis is noticed by a ping
//!   ([`Subscriber`]), where the crate's driver would stay silent until restarted;
//! - received messages are awaited into the adapter's buffer, never dropped when it is
//!   full.

use std::sync::Arc;

use domain::ports::Telemetry;
use redis::AsyncCommands as _;
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};

use crate::RedisConfig;
use crate::link::{Health, Link, Use};
use crate::subscriber::Subscriber;

/// See the module documentation.
#[derive(Clone)]
pub struct SocketIoBus {
    inner: Arc<Inner>,
}

struct Inner {
    link: Link,
    subscriber: Subscriber,
    channel_prefix: String,
}

impl std::fmt::Debug for SocketIoBus {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SocketIoBus")
            .field("channel_prefix", &self.inner.channel_prefix)
            .finish_non_exhaustive()
    }
}

/// A Redis command failed (only `num_serv` passes failures on).
#[derive(Debug)]
pub struct BusError(redis::RedisError);

impl std::fmt::Display for BusError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

impl std::error::Error for BusError {}

impl SocketIoBus {
    /// The bus on the Redis at `config.url`. Starts its listener in the current runtime;
    /// connects lazily, so it also starts while Redis is down.
    ///
    /// # Errors
    /// When the URL is not a Redis URL.
    pub fn new(config: &RedisConfig, telemetry: Arc<dyn Telemetry>) -> anyhow::Result<Self> {
        let health = Health::new(
            Use {
                component: "socket_io",
                alone: "Redis does not answer: socket.io events reach this instance's sockets only until it does",
                shared: "Redis answers again: socket.io events reach every instance again",
            },
            telemetry,
        );
        let link = Link::new(config, Arc::clone(&health))?;
        let subscriber = Subscriber::start(link.client(), config.timeout, health);
        Ok(Self {
            inner: Arc::new(Inner {
                link,
                subscriber,
                channel_prefix: format!("{}socket.io", config.key_prefix),
            }),
        })
    }

    /// The prefix of the adapter's channels (its `RedisAdapterConfig::prefix`).
    #[must_use]
    pub fn channel_prefix(&self) -> &str {
        &self.inner.channel_prefix
    }
}

impl Driver for SocketIoBus {
    type Error = BusError;

    /// Best effort: see the module documentation.
    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        let published = self
            .inner
            .link
            .run(async |mut connection| connection.publish::<_, _, ()>(&chan, val).await)
            .await;
        if let Err(error) = published {
            tracing::debug!(%error, chan, "a socket.io packet reached this instance only");
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        Ok(MessageStream::new(
            self.inner.subscriber.subscribe(chan, size).await,
        ))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.inner.subscriber.unsubscribe(&chan).await;
        Ok(())
    }

    /// How many instances listen (for requests that await every instance's answer).
    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        self.inner
            .link
            .run(async |mut connection| {
                let (_, count): (String, u16) = redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(chan)
                    .query_async(&mut connection)
                    .await?;
                Ok(count)
            })
            .await
            .map_err(BusError)
    }
}
