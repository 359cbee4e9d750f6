//! Binding and serving, so that the composition root never names the web framework.
//!
//! The accept loop is ours rather than `poem::Server`'s because the service needs limits
//! poem's server does not offer: a cap on open connections, a deadline for a request's
//! header section, an idle timeout that never cuts a request in progress, and JSON bodies
//! for the errors hyper answers by itself. Requests still go through poem's endpoint.

mod connection;
mod parse_errors;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::connection::{Activity, Connection};
use crate::app::{HttpConfig, Services, router};
use crate::app::{METRICS_PATH, MetricsText, metrics_response};
use adapter_realtime::Realtime;

/// Limits on the clients' connections. The defaults are in ARCHITECTURE.md ("Slow and
/// greedy clients").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most; past it, new ones wait in the listen backlog.
    pub max_connections: usize,
    /// From the first byte of a request to the end of its header section.
    pub header_read_timeout: Duration,
    /// A connection with no traffic and no request in flight for this long is closed.
    /// Longer than socket.io's ping interval, so a long-polling client is never idle.
    pub idle_timeout: Duration,
    /// Concurrent streams on one HTTP/2 connection.
    pub http2_max_concurrent_streams: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_mins(1),
            http2_max_concurrent_streams: 100,
        }
    }
}

/// The HTTP application bound to its listening socket.
pub struct HttpServer {
    listener: TcpListener,
    address: SocketAddr,
    application: Application,
    /// Closed first at shutdown; the metrics listener has none.
    realtime: Option<Realtime>,
    limits: ConnectionLimits,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpServer")
            .field("address", &self.address)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl HttpServer {
    /// Builds the application and binds `address` (port 0 picks a free port).
    pub async fn bind(
        address: SocketAddr,
        services: Services,
        config: &HttpConfig,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let realtime = services.realtime.clone();
        Ok(Self {
            listener,
            address,
            application: application(router(&services, config)),
            realtime: Some(realtime),
            limits: config.connection_limits,
        })
    }

    /// A listener of its own for `/metrics` (`METRICS_ADDR`), open to any peer that can
    /// reach it: operators put it on an address the public balancer does not route to.
    /// Anything but `GET /metrics` is a JSON 404 or 405.
    pub async fn bind_metrics(
        address: SocketAddr,
        render: MetricsText,
        limits: ConnectionLimits,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let endpoint = poem::Route::new()
            .at(
                METRICS_PATH,
                poem::get(poem::endpoint::make_sync(move |_| {
                    metrics_response(&render)
                })),
            )
            .catch_all_error(|error| async move { crate::errors::error_response(&error) });
        Ok(Self {
            listener,
            address,
            application: application(endpoint),
            realtime: None,
            limits,
        })
    }

    /// The bound address; its port is the real one when port 0 was asked for.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes, then disconnects every socket.io client (a
    /// long-polling request would otherwise hold the grace period up), stops accepting,
    /// lets in-flight requests finish for up to `grace`, and closes what is left.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        grace: Duration,
    ) -> std::io::Result<()> {
        let slots = Arc::new(Semaphore::new(self.limits.max_connections));
        let connections = TaskTracker::new();
        let graceful = CancellationToken::new();
        let abort = CancellationToken::new();
        tracing::debug!(address = %self.address, "accepting connections");
        tokio::pin!(shutdown);
        loop {
            let slot = tokio::select! {
                () = &mut shutdown => break,
                slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
            };
            let (stream, remote) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of descriptors, most likely: let some connections end.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            connections.spawn((self.application)(Accepted {
                stream,
                slot,
                local: self.address,
                remote,
                limits: self.limits,
                graceful: graceful.clone(),
                abort: abort.clone(),
            }));
        }
        drop(self.listener);
        if let Some(realtime) = &self.realtime {
            realtime.close().await;
        }
        graceful.cancel();
        connections.close();
        if tokio::time::timeout(grace, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                grace_ms = grace.as_millis(),
                "connections still open after the grace period; closing them"
            );
            abort.cancel();
            connections.wait().await;
        }
        tracing::info!("server stopped");
        Ok(())
    }
}

/// Serves one accepted connection on the application's endpoint. The endpoint's type is
/// erased here, once per connection: each connection's task is generic over it, so a
/// request's future is not boxed again on its way in (an `Arc<BoxEndpoint>` boxed every
/// request's).
type Application = Box<dyn Fn(Accepted) -> BoxFuture<'static, ()> + Send + Sync>;

fn application<E: Endpoint<Output = Response> + 'static>(endpoint: E) -> Application {
    let endpoint = Arc::new(endpoint);
    Box::new(move |accepted| Box::pin(serve(accepted, Arc::clone(&endpoint))))
}

/// A connection just accepted, with the slot it holds, the limits it is served under and
/// the server's two stop signals.
struct Accepted {
    stream: TcpStream,
    slot: OwnedSemaphorePermit,
    local: SocketAddr,
    remote: SocketAddr,
    limits: ConnectionLimits,
    /// Finish the requests in flight, then close.
    graceful: CancellationToken,
    /// Close now.
    abort: CancellationToken,
}

/// Serves one connection (HTTP/1.1, or HTTP/2 with prior knowledge) until it ends, goes
/// idle, or the server stops.
async fn serve<E: Endpoint<Output = Response> + 'static>(accepted: Accepted, endpoint: Arc<E>) {
    let Accepted {
        stream,
        slot,
        local,
        remote,
        limits,
        graceful,
        abort,
    } = accepted;
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "could not disable Nagle's algorithm");
    }
    let activity = Activity::new();
    let local = LocalAddr(poem::Addr::SocketAddr(local));
    let remote = RemoteAddr(poem::Addr::SocketAddr(remote));
    let service = hyper::service::service_fn({
        let activity = Arc::clone(&activity);
        move |request: hyper::Request<Incoming>| {
            let in_flight = activity.request_started();
            let endpoint = Arc::clone(&endpoint);
            let request =
                poem::Request::from((request, local.clone(), remote.clone(), Scheme::HTTP));
            async move {
                let response = endpoint.get_response(request).await;
                drop(in_flight);
                Ok::<_, Infallible>(hyper::Response::from(response))
            }
        }
    });

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.http2_max_concurrent_streams)
        .max_pending_accept_reset_streams(20)
        .max_header_list_size(16 * 1024);
    let io = TokioIo::new(Connection::new(stream, slot, Arc::clone(&activity)));
    let connection = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(error = %error, "connection ended with an error");
                }
                return;
            }
            () = graceful.cancelled(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = activity.idle_for(limits.idle_timeout) => {
                tracing::debug!("closing an idle connection");
                return;
            }
            () = abort.cancelled() => return,
        }
    }
}
