//! The gateway's HTTP side for the server that mounts it: socketioxide's service with its
//! adapter type erased, called as a tower service for plain requests (long-polling, the
//! handshake) or given a whole HTTP/1.1 connection (for the websocket upgrade, which
//! socketioxide completes through hyper's own upgrade mechanism).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use engineioxide::service::NotFoundService;
use futures_util::future::BoxFuture;
use http_body_util::BodyExt as _;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use socketioxide::adapter::Adapter;
use socketioxide::service::SocketIoService;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_service::Service;

/// The body of the requests and responses [`SocketIoHttp`] serves (poem's, and any
/// server's that boxes its bodies).
pub type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// The gateway's HTTP side. Cheap to clone; clones serve the same sockets.
#[derive(Clone)]
pub struct SocketIoHttp(Arc<dyn Serve>);

impl std::fmt::Debug for SocketIoHttp {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SocketIoHttp")
            .finish_non_exhaustive()
    }
}

/// A connection the gateway can be served over.
pub trait Connection: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connection for T {}

/// What [`SocketIoHttp`] needs of socketioxide's service, whatever its adapter.
trait Serve: Send + Sync {
    fn request(&self, request: Request<Body>) -> BoxFuture<'static, Response<Body>>;
    fn connection(&self, io: Box<dyn Connection>) -> BoxFuture<'static, hyper::Result<()>>;
}

impl<A: Adapter> Serve for SocketIoService<NotFoundService, A> {
    fn request(&self, request: Request<Body>) -> BoxFuture<'static, Response<Body>> {
        let mut service = self.clone();
        Box::pin(async move {
            let served = async {
                std::future::poll_fn(|context| {
                    Service::<Request<Body>>::poll_ready(&mut service, context)
                })
                .await?;
                service.call(request).await
            };
            // socketioxide's service fails only as its inner `NotFoundService` does: never.
            let response = match served.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            response.map(|body| body.map_err(std::io::Error::other).boxed())
        })
    }

    fn connection(&self, io: Box<dyn Connection>) -> BoxFuture<'static, hyper::Result<()>> {
        let service = self.clone();
        Box::pin(async move {
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades()
                .await
        })
    }
}

impl SocketIoHttp {
    pub(crate) fn new<A: Adapter>(service: SocketIoService<NotFoundService, A>) -> Self {
        Self(Arc::new(service))
    }

    /// Serves one HTTP/1.1 connection with upgrades (a websocket upgrade request replayed
    /// on it by the mounting server, say) until it ends.
    ///
    /// # Errors
    /// When the connection fails.
    pub async fn serve_connection(&self, io: impl Connection) -> hyper::Result<()> {
        self.0.connection(Box::new(io)).await
    }
}

impl Service<Request<Body>> for SocketIoHttp {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let response = self.0.request(request);
        Box::pin(async move { Ok(response.await) })
    }
}
