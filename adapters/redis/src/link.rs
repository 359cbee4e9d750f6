//! One command connection to Redis for one use (rate limits, socket.io, revocations), and
//! what that use does while Redis does not answer.
//!
//! A command that Redis cannot answer (down, unreachable, slower than the response
//! timeout) fails fast: the use falls back to this instance alone, with one warning when
//! that starts and one when Redis answers again, and the `shared_state_degraded` gauge
//! says which use runs alone ([`Health`], shared with the use's pub/sub connection). While Redis does not answer it is asked again once a second
//! (`PROBE_INTERVAL`), not on every command, so an outage costs callers no waiting beyond
//! the first. A connection whose answer timed out is replaced (its late answers would
//! keep later commands waiting). The connection manager reconnects by itself and connects
//! lazily, so an instance also starts while Redis is down.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use domain::ports::Telemetry;
use redis::RedisResult;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::RedisConfig;

/// How long commands skip Redis after it failed to answer.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// What a use says in the log when it falls back and when it shares again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Use {
    /// The `component` label of `shared_state_degraded`.
    pub(crate) component: &'static str,
    pub(crate) alone: &'static str,
    pub(crate) shared: &'static str,
}

/// Which connection of a use reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Commands,
    Subscription,
}

impl Part {
    const fn bit(self) -> u8 {
        match self {
            Self::Commands => 1,
            Self::Subscription => 2,
        }
    }
}

/// Whether a use shares with the other instances: it runs alone while any of its
/// connections fails. Says so once when that changes, in the log and in
/// `shared_state_degraded`.
pub(crate) struct Health {
    purpose: Use,
    telemetry: Arc<dyn Telemetry>,
    /// One bit per failing [`Part`].
    failing: Mutex<u8>,
}

impl Health {
    pub(crate) fn new(purpose: Use, telemetry: Arc<dyn Telemetry>) -> Arc<Self> {
        Arc::new(Self {
            purpose,
            telemetry,
            failing: Mutex::new(0),
        })
    }

    pub(crate) fn component(&self) -> &'static str {
        self.purpose.component
    }

    /// `part` works (`error` is `None`) or fails.
    pub(crate) fn report(&self, part: Part, error: Option<&redis::RedisError>) {
        let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
        let before = *failing;
        match error {
            None => *failing &= !part.bit(),
            Some(_) => *failing |= part.bit(),
        }
        let (before, after) = (before != 0, *failing != 0);
        drop(failing);
        let component = self.purpose.component;
        match (before, after) {
            (false, true) => {
                self.telemetry.shared_state_degraded(component, true);
                let error = error.map(ToString::to_string);
                tracing::warn!(component, error, "{}", self.purpose.alone);
            }
            (true, false) => {
                self.telemetry.shared_state_degraded(component, false);
                tracing::warn!(component, "{}", self.purpose.shared);
            }
            _ => {}
        }
    }
}

/// See the module documentation.
pub(crate) struct Link {
    client: redis::Client,
    manager_config: ConnectionManagerConfig,
    connection: Mutex<ConnectionManager>,
    health: Arc<Health>,
    /// Until when commands skip Redis after a failure.
    skip_until: Mutex<Option<Instant>>,
}

impl Link {
    /// A link to the Redis at `config.url`; does not connect yet.
    pub(crate) fn new(config: &RedisConfig, health: Arc<Health>) -> RedisResult<Self> {
        let client = redis::Client::open(config.url.as_str())?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        Ok(Self {
            connection: Mutex::new(ConnectionManager::new_lazy_with_config(
                client.clone(),
                manager_config.clone(),
            )?),
            client,
            manager_config,
            health,
            skip_until: Mutex::new(None),
        })
    }

    /// The client, for connections of another kind (pub/sub) to the same Redis.
    pub(crate) fn client(&self) -> redis::Client {
        self.client.clone()
    }

    /// Runs `command` on the connection, unless Redis failed less than a second ago;
    /// records the outcome.
    pub(crate) async fn run<T, F, Fut>(&self, command: F) -> RedisResult<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if self.skipping() {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "Redis failed a moment ago",
            )));
        }
        let result = command(self.connection()).await;
        match &result {
            Ok(_) => self.answered(),
            Err(error) => self.failed(error),
        }
        result
    }

    fn connection(&self) -> ConnectionManager {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether Redis failed less than `PROBE_INTERVAL` ago.
    fn skipping(&self) -> bool {
        self.skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|until| Instant::now() < until)
    }

    fn answered(&self) {
        *self
            .skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.health.report(Part::Commands, None);
    }

    fn failed(&self, error: &redis::RedisError) {
        if error.is_timeout() {
            self.reconnect();
        }
        let mut skip_until = self
            .skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if skip_until.is_none_or(|until| Instant::now() >= until) {
            *skip_until = Some(Instant::now() + PROBE_INTERVAL);
        }
        drop(skip_until);
        self.health.report(Part::Commands, Some(error));
    }

    /// Drops the connection for a new one (opened at the next command).
    fn reconnect(&self) {
        match ConnectionManager::new_lazy_with_config(
            self.client.clone(),
            self.manager_config.clone(),
        ) {
            Ok(fresh) => {
                *self
                    .connection
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = fresh;
            }
            Err(error) => tracing::warn!(%error, "could not replace the Redis connection"),
        }
    }
}
