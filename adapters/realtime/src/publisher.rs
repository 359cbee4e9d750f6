//! Delivers the use cases' events to sockets: the [`EventPublisher`] wired in place of
//! `NoEvents` when the gateway runs. Ended sessions disconnect their sockets.
//!
//! Payloads are the [`EventBodies`] of the mounting server (its REST bodies), so a client
//! sees the same JSON for a post or a transfer whether it reads it from the API or
//! receives it here.

use async_trait::async_trait;
use domain::RoomName;
use std::sync::Arc;

use domain::ports::{DomainEvent, EventPublisher, SocketDirection, Telemetry};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use super::gateway::{EndedSessions, disconnect_revoked};
use super::{EventBodies, NAMESPACE};

/// See the module documentation.
pub(super) struct SocketIoEvents<A: Adapter> {
    io: SocketIo<A>,
    /// Counts each emission (once per room).
    telemetry: Arc<dyn Telemetry>,
    bodies: Arc<dyn EventBodies>,
    /// Where ended sessions are recorded for the handshakes under way.
    ended: Arc<EndedSessions>,
}

impl<A: Adapter> std::fmt::Debug for SocketIoEvents<A> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SocketIoEvents")
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}

impl<A: Adapter> SocketIoEvents<A> {
    pub(super) fn new(
        io: SocketIo<A>,
        telemetry: Arc<dyn Telemetry>,
        bodies: Arc<dyn EventBodies>,
        ended: Arc<EndedSessions>,
    ) -> Self {
        Self {
            io,
            telemetry,
            bodies,
            ended,
        }
    }
}

#[async_trait]
impl<A: Adapter> EventPublisher for SocketIoEvents<A> {
    /// Best effort, as the port requires: a failure is logged and the use case goes on.
    async fn publish(&self, event: DomainEvent) {
        let (room, name, payload) = match event {
            DomainEvent::SessionsRevoked {
                user,
                session,
                reason,
            } => {
                disconnect_revoked(&self.io, &self.ended, user, session, reason);
                return;
            }
            DomainEvent::PostPublished(post) => {
                (RoomName::posts(), "post-published", self.bodies.post(post))
            }
            DomainEvent::TransferReceived {
                transfer,
                recipient,
            } => (
                RoomName::private_to(recipient),
                "transfer-received",
                self.bodies.transfer(transfer),
            ),
        };
        let Some(payload) = payload else {
            tracing::error!(target: "realtime", event = name, "the event has no JSON form");
            return;
        };
        let Some(namespace) = self.io.of(NAMESPACE) else {
            // Only after shutdown has closed the namespace.
            tracing::debug!(target: "realtime", event = name, "no namespace to deliver to");
            return;
        };
        self.telemetry.socket_event(SocketDirection::Out, name);
        match namespace
            .to(room.as_str().to_owned())
            .emit(name, &payload)
            .await
        {
            Ok(()) => {
                tracing::debug!(target: "realtime", event = name, room = room.as_str(), "event delivered");
            }
            Err(error) => {
                tracing::warn!(target: "realtime", event = name, room = room.as_str(), %error, "event delivery failed");
            }
        }
    }
}
