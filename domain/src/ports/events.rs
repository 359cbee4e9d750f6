//! The notification port: events the use cases publish for realtime delivery.

use async_trait::async_trait;

use crate::account::Transfer;
use crate::id::{SessionId, UserId};
use crate::post::Post;
use crate::session::RevocationReason;

/// Something other parties may want to hear about at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    /// A post became published (delivered to room `posts`).
    PostPublished(Post),
    /// Money arrived in an account of `recipient` (delivered to room `user:<recipient>`).
    TransferReceived {
        transfer: Transfer,
        recipient: UserId,
    },
    /// Sessions of `user` ended: their sockets are disconnected, with the reason. `session`
    /// names the one session that ended; `None` means every session of the user (and every
    /// socket, whatever token it connected with).
    SessionsRevoked {
        user: UserId,
        session: Option<SessionId>,
        reason: RevocationReason,
    },
}

/// Publishes events; delivery is best effort and never fails the use case.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync + 'static {
    async fn publish(&self, event: DomainEvent);
}

/// An [`EventPublisher`] that drops every event (no realtime adapter configured).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

#[async_trait]
impl EventPublisher for NoEvents {
    async fn publish(&self, _event: DomainEvent) {}
}
