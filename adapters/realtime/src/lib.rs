//! The realtime adapter: a socket.io v4 gateway (namespace `/events` under `/socket.io/`) on
//! socketioxide. The HTTP adapter mounts it on the API's own port, behind the same
//! middleware as the API, through [`SocketIoHttp`].
//!
//! - `gateway`: the handshake authentication and the `join-room` / `leave-room` /
//!   `message` handlers. Thin: they parse payloads (`payloads`) into domain values, ask the
//!   domain's rules, and answer with an acknowledgement.
//! - `publisher`: the `EventPublisher` the use cases publish through; it delivers
//!   `post-published` and `transfer-received` to rooms, with the JSON of [`EventBodies`]
//!   (the mounting server's REST bodies, so both show a post or a transfer alike).
//! - `http`: the gateway's HTTP side, whatever its socketioxide adapter, for the server
//!   that mounts it.
//! - `rate_limit`: the per-socket token bucket; `order`: one socket's events in arrival
//!   order; `quota`: the sockets one user may hold.

mod gateway;
mod http;
mod order;
mod payloads;
mod publisher;
mod quota;
mod rate_limit;

use std::sync::Arc;
use std::time::Duration;

use application::Authenticator;
use domain::ports::{Clock, EventPublisher, Telemetry};
use domain::{Post, Transfer};
use engineioxide::service::NotFoundService;
use futures_util::future::BoxFuture;
use socketioxide::adapter::{Adapter, Emitter, LocalAdapter};
use socketioxide::service::SocketIoService;
use socketioxide::{ParserConfig, SocketIo};
use socketioxide_core::adapter::DefinedAdapter;
use socketioxide_redis::drivers::Driver;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

pub use self::http::{Body, SocketIoHttp};
pub use self::rate_limit::MessageRateLimit;

/// Where socket.io clients connect: the engine.io path (the mounting server routes it and
/// everything under it to [`SocketIoHttp`]) and the one namespace.
pub const SOCKET_IO_PATH: &str = "/socket.io";
const NAMESPACE: &str = "/events";

/// The header in which the mounting server passes the id of the HTTP request that opened a
/// connection: the gateway's logs of the socket name it.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Binary attachments one socket.io packet may announce.
const MAX_BINARY_ATTACHMENTS: usize = 4;
/// How long the attachments of a packet may take to arrive.
const ATTACHMENT_COMPLETION_TIMEOUT: Duration = Duration::from_secs(5);
/// How long start-up waits for the adapter across instances to listen.
const INIT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a request to the other instances (rooms, acknowledgements) waits for answers.
const REMOTE_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Tunables of the gateway. The defaults are the ones documented in ARCHITECTURE.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealtimeConfig {
    /// Client events (`join-room`, `leave-room`, `message`) each socket may send.
    pub rate_limit: MessageRateLimit,
    /// The largest engine.io payload accepted: a polling request body, or a websocket
    /// message. A 2,000-character message is at most ~8 KiB of UTF-8 plus its envelope.
    pub max_payload_bytes: u64,
    /// How often the server pings, and how long it waits for the pong before it drops the
    /// connection (socket.io's defaults).
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// How long shutdown waits for sockets to close before it moves on.
    pub close_timeout: Duration,
    /// Sockets one user may hold open at once; the next handshake is refused.
    pub max_sockets_per_user: usize,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        Self {
            rate_limit: MessageRateLimit::default(),
            max_payload_bytes: 32 * 1024,
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_secs(5),
            max_sockets_per_user: 20,
        }
    }
}

/// The JSON of the entities that events carry, from the server that mounts the gateway:
/// the HTTP adapter gives its REST bodies, so that a client sees the same JSON for a post or
/// a transfer whether it reads it from the API or receives it here. `None`: the entity has
/// no JSON form (the event is then logged and dropped).
pub trait EventBodies: Send + Sync + 'static {
    fn post(&self, post: Post) -> Option<serde_json::Value>;
    fn transfer(&self, transfer: Transfer) -> Option<serde_json::Value>;
}

/// What the gateway works with: the same authentication as REST requests, the clock, the
/// telemetry its events are counted in, and the bodies of its events.
#[derive(Clone)]
pub struct GatewayPorts {
    pub authenticator: Authenticator,
    pub clock: Arc<dyn Clock>,
    pub telemetry: Arc<dyn Telemetry>,
    pub bodies: Arc<dyn EventBodies>,
}

impl std::fmt::Debug for GatewayPorts {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GatewayPorts")
            .finish_non_exhaustive()
    }
}

/// The socket.io server: built once at start, then handed to the router (which serves
/// it) and to the use cases (through [`Realtime::publisher`]). Its sockets are this
/// instance's; [`Realtime::across_instances`] also shares rooms and broadcasts with the
/// other instances.
#[derive(Clone)]
pub struct Realtime {
    server: Arc<dyn Server>,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Realtime").finish_non_exhaustive()
    }
}

/// What the rest of the service needs from a running gateway, whatever its socketioxide
/// adapter (the adapter is a type parameter of everything socketioxide hands out).
trait Server: Send + Sync {
    fn publisher(&self) -> Arc<dyn EventPublisher>;
    fn http(&self) -> SocketIoHttp;
    fn close(&self) -> BoxFuture<'_, ()>;
}

struct Running<A: Adapter> {
    io: SocketIo<A>,
    service: SocketIoService<NotFoundService, A>,
    close_timeout: Duration,
    /// Counts the events the publisher emits.
    telemetry: Arc<dyn Telemetry>,
    bodies: Arc<dyn EventBodies>,
    /// Sessions ended lately (the publisher records them, handshakes check them).
    ended: Arc<gateway::EndedSessions>,
}

impl<A: Adapter> Server for Running<A> {
    fn publisher(&self) -> Arc<dyn EventPublisher> {
        Arc::new(publisher::SocketIoEvents::new(
            self.io.clone(),
            Arc::clone(&self.telemetry),
            Arc::clone(&self.bodies),
            Arc::clone(&self.ended),
        ))
    }

    fn http(&self) -> SocketIoHttp {
        SocketIoHttp::new(self.service.clone())
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if tokio::time::timeout(self.close_timeout, self.io.close())
                .await
                .is_err()
            {
                tracing::warn!(
                    target: "realtime",
                    timeout_ms = self.close_timeout.as_millis(),
                    "sockets did not all close in time; shutting down anyway"
                );
            }
        })
    }
}

/// The adapter across instances: `socketioxide-redis`'s, over the pub/sub driver `R`.
type SharedAdapter<R> = CustomRedisAdapter<Emitter, R>;

impl Realtime {
    /// Builds the socket.io server and registers the `/events` namespace, for one
    /// instance. Connections are authenticated by `ports.authenticator`, like REST requests.
    #[must_use]
    pub fn new(ports: GatewayPorts, config: RealtimeConfig) -> Self {
        Self::build::<LocalAdapter>((), ports, config).0
    }

    /// The same, with rooms and broadcasts shared with every instance built on the same
    /// pub/sub `bus` and `channel_prefix`. Returns once the bus listens (or, while it
    /// cannot, after `INIT_TIMEOUT`: the bus then subscribes when it can).
    pub async fn across_instances<R: Driver>(
        bus: R,
        channel_prefix: String,
        ports: GatewayPorts,
        config: RealtimeConfig,
    ) -> Self {
        let state = RedisAdapterCtr::new_with_driver(
            bus,
            RedisAdapterConfig::new()
                .with_prefix(channel_prefix)
                .with_request_timeout(REMOTE_REQUEST_TIMEOUT),
        );
        let (realtime, init) = Self::build::<SharedAdapter<R>>(state, ports, config);
        match tokio::time::timeout(INIT_TIMEOUT, init).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(target: "realtime", %error, "the socket.io adapter could not start");
            }
            Err(_) => {
                tracing::warn!(target: "realtime", "the socket.io adapter is not listening yet");
            }
        }
        realtime
    }

    fn build<A: Adapter + DefinedAdapter>(
        state: A::State,
        ports: GatewayPorts,
        config: RealtimeConfig,
    ) -> (Self, A::InitRes) {
        // The gateway's messages are at most `max_payload_bytes`, and none of its events
        // carries binary attachments: a few small ones are tolerated, never the defaults
        // (10,000 attachments, 10 MB, a minute to complete).
        // A websocket message or frame over the limit is refused at its header (tungstenite
        // checks the announced length), so nothing past it is buffered.
        let max_bytes = usize::try_from(config.max_payload_bytes).unwrap_or(usize::MAX);
        let parser = ParserConfig::common()
            .max_incoming_binaries(MAX_BINARY_ATTACHMENTS)
            .max_incoming_binary_buf_size(max_bytes)
            .packet_completion_timeout(ATTACHMENT_COMPLETION_TIMEOUT);
        let (service, io) = SocketIo::builder()
            .with_adapter::<A>(state)
            .with_parser(parser)
            .ws_max_message_size(max_bytes)
            .ws_max_frame_size(max_bytes)
            .req_path(SOCKET_IO_PATH)
            .max_payload(config.max_payload_bytes)
            .ping_interval(config.ping_interval)
            .ping_timeout(config.ping_timeout)
            .build_svc();
        let ended = Arc::new(gateway::EndedSessions::default());
        let init = gateway::register(
            &io,
            gateway::Gateway::new(
                ports.authenticator,
                ports.clock,
                Arc::clone(&ports.telemetry),
                config.rate_limit,
                config.max_sockets_per_user,
                Arc::clone(&ended),
            ),
        );
        let server = Running {
            io,
            service,
            close_timeout: config.close_timeout,
            telemetry: ports.telemetry,
            bodies: ports.bodies,
            ended,
        };
        (
            Self {
                server: Arc::new(server),
            },
            init,
        )
    }

    /// The [`EventPublisher`] that delivers the use cases' events to connected sockets.
    #[must_use]
    pub fn publisher(&self) -> Arc<dyn EventPublisher> {
        self.server.publisher()
    }

    /// What serves `/socket.io/*` (see [`SOCKET_IO_PATH`]).
    #[must_use]
    pub fn http(&self) -> SocketIoHttp {
        self.server.http()
    }

    /// Disconnects every socket (each client sees the transport close and reconnects
    /// elsewhere), so that no long-polling request or websocket holds shutdown up.
    pub async fn close(&self) {
        self.server.close().await;
    }
}
