//! Binding and serving, so that the composition root never names the web framework.

use std::net::SocketAddr;
use std::time::Duration;

use poem::endpoint::BoxEndpoint;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{EndpointExt, Response};

use crate::app::{HttpConfig, Services, router};
use crate::realtime::Realtime;

/// The HTTP application bound to its listening socket.
pub struct HttpServer {
    acceptor: TcpAcceptor,
    address: SocketAddr,
    endpoint: BoxEndpoint<'static, Response>,
    realtime: Realtime,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpServer")
            .field("address", &self.address)
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
        let acceptor = TcpListener::bind(address).into_acceptor().await?;
        let address = acceptor
            .local_addr()
            .first()
            .and_then(|local| local.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("the listener has no local address"))?;
        let realtime = services.realtime.clone();
        Ok(Self {
            acceptor,
            address,
            endpoint: router(services, config).boxed(),
            realtime,
        })
    }

    /// The bound address; its port is the real one when port 0 was asked for.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes, then disconnects every socket.io client (a
    /// long-polling request would otherwise hold the grace period up), stops accepting,
    /// and lets in-flight requests finish for up to `grace`.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        grace: Duration,
    ) -> std::io::Result<()> {
        let realtime = self.realtime;
        let shutdown = async move {
            shutdown.await;
            realtime.close().await;
        };
        poem::Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.endpoint, shutdown, Some(grace))
            .await
    }
}
