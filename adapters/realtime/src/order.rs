//! One socket's events take effect in the order they arrived.
//!
//! socketioxide runs every event's handler in a task of its own, so on a multi-threaded
//! runtime two messages a client sent back to back could be broadcast in either order
//! (socket.io's reference server handles them one after the other). Extractors, however,
//! run synchronously as socketioxide dispatches each packet, in arrival order: the [`Turn`]
//! extractor takes a ticket there, and the handler waits until the events before it are
//! done. The disconnect handler takes the last ticket (socketioxide extracts its arguments
//! as it closes the socket, after every packet received), so a client that joins a room and
//! disconnects at once is announced joining, then leaving, never only joining.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use socketioxide::adapter::Adapter;
use socketioxide::handler::{FromDisconnectParts, FromMessageParts};
use socketioxide::socket::{DisconnectReason, Socket};
use socketioxide_core::Value;
use tokio::sync::watch;

/// The tickets of one socket.
#[derive(Debug)]
pub(super) struct EventOrder {
    next_ticket: AtomicU64,
    progress: watch::Sender<Progress>,
}

#[derive(Debug, Default)]
struct Progress {
    /// The ticket whose turn it is.
    serving: u64,
    /// Finished tickets `serving` has not passed yet. Normally only the one being served;
    /// a handler dropped before its turn (the socket closed) is skipped when its turn
    /// comes, so nothing waits for it.
    finished: BTreeSet<u64>,
}

impl EventOrder {
    pub(super) fn new() -> Self {
        Self {
            next_ticket: AtomicU64::new(0),
            progress: watch::Sender::new(Progress::default()),
        }
    }

    pub(super) fn take_ticket(self: &Arc<Self>) -> Turn {
        Turn {
            order: Arc::clone(self),
            ticket: self.next_ticket.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// An event's place in its socket's order; the next event may proceed once it is dropped.
#[derive(Debug)]
pub(super) struct Turn {
    order: Arc<EventOrder>,
    ticket: u64,
}

impl Turn {
    /// Waits until every earlier event of the socket is done.
    pub(super) async fn wait(&self) {
        let mut progress = self.order.progress.subscribe();
        // The sender lives in `self.order`, so this cannot fail while `self` exists.
        let _ = progress
            .wait_for(|progress| progress.serving == self.ticket)
            .await;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let ticket = self.ticket;
        self.order.progress.send_modify(|progress| {
            progress.finished.insert(ticket);
            while progress.finished.remove(&progress.serving) {
                progress.serving += 1;
            }
        });
    }
}

/// The socket has no [`EventOrder`]: it was not set up by the gateway's handshake.
#[derive(Debug, thiserror::Error)]
#[error("the socket has no event order")]
pub(super) struct Unordered;

impl Turn {
    fn of<A: Adapter>(socket: &Socket<A>) -> Result<Self, Unordered> {
        socket
            .extensions
            .get::<Arc<EventOrder>>()
            .map(|order| order.take_ticket())
            .ok_or(Unordered)
    }
}

impl<A: Adapter> FromMessageParts<A> for Turn {
    type Error = Unordered;

    fn from_message_parts(
        socket: &Arc<Socket<A>>,
        _: &mut Value,
        _: &Option<i64>,
    ) -> Result<Self, Self::Error> {
        Self::of(socket)
    }
}

impl<A: Adapter> FromDisconnectParts<A> for Turn {
    type Error = Unordered;

    fn from_disconnect_parts(
        socket: &Arc<Socket<A>>,
        _: DisconnectReason,
    ) -> Result<Self, Self::Error> {
        Self::of(socket)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_later_event_waits_for_an_earlier_one() {
        let order = Arc::new(EventOrder::new());
        let first = order.take_ticket();
        let second = order.take_ticket();

        let waiting = tokio::time::timeout(Duration::from_millis(50), second.wait()).await;
        first.wait().await;
        drop(first);

        assert!(
            waiting.is_err(),
            "the second event ran before the first was done"
        );
        tokio::time::timeout(Duration::from_secs(1), second.wait())
            .await
            .expect("the second event's turn after the first");
    }

    #[tokio::test]
    async fn an_event_dropped_before_its_turn_holds_nobody_up() {
        let order = Arc::new(EventOrder::new());
        let first = order.take_ticket();
        let abandoned = order.take_ticket();
        let third = order.take_ticket();

        drop(abandoned);
        drop(first);

        tokio::time::timeout(Duration::from_secs(1), third.wait())
            .await
            .expect("the third event's turn");
    }
}
