//! One dedicated pub/sub connection that hands each channel's messages to its receiver,
//! and keeps doing so across Redis outages.
//!
//! Pub/sub keeps nothing for a subscriber that is away, so what matters is noticing fast
//! that the connection is gone and coming back with every channel: the connection is
//! pinged every `HEARTBEAT` (a blackholed Redis never closes the socket, so a dead
//! connection is only seen by an unanswered ping), and after a loss the listener
//! reconnects with backoff and subscribes again to every channel registered so far. One
//! warning when the connection is lost, one when it is back (`shared_state_degraded`
//! follows).
//!
//! A receiver that falls behind holds the listener up (messages are awaited into its
//! bounded channel, not dropped); Redis then buffers for this connection, up to its
//! `client-output-buffer-limit pubsub`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::RedisResult;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;

use crate::link::{Health, Part};

/// A message: its channel and its bytes.
pub(crate) type Message = (String, Vec<u8>);

const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long a ping may go unanswered before the connection counts as lost. Longer than the
/// command timeout: a false alarm drops the connection and with it whatever is published
/// while it reconnects, where a late alarm only delays noticing a dead one.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// See the module documentation.
pub(crate) struct Subscriber {
    shared: Arc<Shared>,
    listener: tokio::task::JoinHandle<()>,
}

struct Shared {
    channels: RwLock<HashMap<String, mpsc::Sender<Message>>>,
    /// Becomes `true` once the first connection attempt is over, whatever its outcome.
    first_attempt_over: watch::Sender<bool>,
    /// The live connection's command half, while there is one.
    sink: Mutex<Option<PubSubSink>>,
    /// Longest wait for a connection or a confirmation.
    timeout: Duration,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl Subscriber {
    /// Starts listening (in a task of the current runtime) on the Redis of `client`.
    pub(crate) fn start(client: redis::Client, timeout: Duration, health: Arc<Health>) -> Self {
        let shared = Arc::new(Shared {
            channels: RwLock::new(HashMap::new()),
            first_attempt_over: watch::Sender::new(false),
            sink: Mutex::new(None),
            timeout,
        });
        let listener = tokio::spawn(listen(Arc::clone(&shared), client, health));
        Self { shared, listener }
    }

    /// The messages of `channel` from now on. Returns once Redis confirmed the
    /// subscription, or while Redis is away once the first connection attempt failed (the
    /// listener subscribes when Redis is back). Subscribing again to a channel replaces its
    /// receiver.
    pub(crate) async fn subscribe(
        &self,
        channel: String,
        buffer: usize,
    ) -> mpsc::Receiver<Message> {
        let (sender, receiver) = mpsc::channel(buffer.max(1));
        self.shared
            .channels
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(channel.clone(), sender);
        let mut first_attempt = self.shared.first_attempt_over.subscribe();
        // Bounded by the attempt's own timeouts too (connecting, subscribing).
        let slow = timeout(
            self.shared.timeout * 3,
            first_attempt.wait_for(|over| *over),
        )
        .await
        .is_err();
        if slow {
            tracing::debug!(channel, "the first connection attempt is taking long");
        }
        if let Some(mut sink) = self.shared.sink() {
            match timeout(self.shared.timeout, sink.subscribe(&channel)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::debug!(%error, channel, "subscription left to the next connection");
                }
                Err(_) => tracing::debug!(channel, "subscription left to the next connection"),
            }
        }
        receiver
    }

    /// No more messages of `channel`.
    pub(crate) async fn unsubscribe(&self, channel: &str) {
        self.shared
            .channels
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(channel);
        if let Some(mut sink) = self.shared.sink()
            && let Ok(Err(error)) = timeout(self.shared.timeout, sink.unsubscribe(channel)).await
        {
            tracing::debug!(%error, channel, "could not unsubscribe");
        }
    }
}

impl Shared {
    fn sink(&self) -> Option<PubSubSink> {
        self.sink
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_sink(&self, sink: Option<PubSubSink>) {
        *self.sink.lock().unwrap_or_else(PoisonError::into_inner) = sink;
    }

    /// A connection subscribed to every registered channel. The sink is published before
    /// the channels are read, so a channel registered meanwhile is subscribed by one side
    /// or the other (or both: harmless).
    async fn connect(&self, client: &redis::Client) -> RedisResult<(PubSubSink, PubSubStream)> {
        let pubsub = timeout(self.timeout, client.get_async_pubsub())
            .await
            .map_err(|_| timed_out("in time to a connection"))??;
        let (mut sink, stream) = pubsub.split();
        self.set_sink(Some(sink.clone()));
        let channels: Vec<String> = self
            .channels
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        if !channels.is_empty() {
            let subscribed = timeout(self.timeout, sink.subscribe(&channels))
                .await
                .map_err(|_| timed_out("in time to a subscription"))
                .and_then(|subscribed| subscribed);
            if let Err(error) = subscribed {
                self.set_sink(None);
                return Err(error);
            }
        }
        Ok((sink, stream))
    }

    /// Hands messages on until the connection closes or stops answering pings.
    async fn pump(&self, mut sink: PubSubSink, mut stream: PubSubStream) {
        let heartbeat = async {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                if !matches!(
                    timeout(PING_TIMEOUT.max(self.timeout), sink.ping::<redis::Value>()).await,
                    Ok(Ok(_))
                ) {
                    return;
                }
            }
        };
        tokio::pin!(heartbeat);
        loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(message) => self.deliver(&message).await,
                    None => return,
                },
                () = &mut heartbeat => return,
            }
        }
    }

    async fn deliver(&self, message: &redis::Msg) {
        let channel = message.get_channel_name();
        let sender = self
            .channels
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(channel)
            .cloned();
        let Some(sender) = sender else {
            tracing::debug!(channel, "a message for a channel no longer listened to");
            return;
        };
        let payload = message.get_payload_bytes().to_vec();
        if sender.send((channel.to_owned(), payload)).await.is_err() {
            tracing::debug!(channel, "the channel's receiver is gone");
        }
    }
}

/// Connects, pumps, and reconnects with backoff, forever (until the task is aborted).
async fn listen(shared: Arc<Shared>, client: redis::Client, health: Arc<Health>) {
    let component = health.component();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let connected = shared.connect(&client).await;
        shared.first_attempt_over.send_replace(true);
        match connected {
            Ok((sink, stream)) => {
                backoff = FIRST_BACKOFF;
                health.report(Part::Subscription, None);
                tracing::info!(component, "listening to every instance");
                shared.pump(sink, stream).await;
                shared.set_sink(None);
                health.report(
                    Part::Subscription,
                    Some(&timed_out("the pub/sub connection was lost")),
                );
            }
            Err(error) => health.report(Part::Subscription, Some(&error)),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn timed_out(what: &'static str) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Io,
        "Redis did not answer",
        what.to_owned(),
    ))
}
