//! The endpoint a server serves, with its type erased once per connection.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use poem::{Endpoint, Response};
use tokio_util::sync::CancellationToken;

use super::{Accepted, ConnectionLimits, serve};

/// The endpoint a server serves, its type erased once per connection rather than once per
/// request: each connection's task is generic over the endpoint, so a request's future is
/// not boxed again on its way in (`Arc<BoxEndpoint>` boxed every request's).
pub(super) trait Application: Send + Sync + 'static {
    fn serve(
        self: Arc<Self>,
        accepted: Accepted,
        limits: ConnectionLimits,
        graceful: CancellationToken,
        abort: CancellationToken,
    ) -> BoxFuture<'static, ()>;
}

pub(super) struct Served<E>(pub(super) E);

impl<E: Endpoint<Output = Response> + 'static> Application for Served<E> {
    fn serve(
        self: Arc<Self>,
        accepted: Accepted,
        limits: ConnectionLimits,
        graceful: CancellationToken,
        abort: CancellationToken,
    ) -> BoxFuture<'static, ()> {
        Box::pin(serve(accepted, self, limits, graceful, abort))
    }
}
