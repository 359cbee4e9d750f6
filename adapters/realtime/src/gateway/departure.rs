//! A socket that disconnects (or is disconnected) leaves its rooms: the others in them
//! hear `user-left`, as for `leave-room` (API.md, Realtime).
//!
//! The rooms come from the gateway's own record ([`JoinedRooms`]), not from socketioxide's
//! registry: when a client sends its disconnect packet and closes its transport at once
//! (as socket.io clients do), socketioxide takes the socket out of every room on the
//! transport's close, which may come before the disconnect handler has read them.

use std::sync::{Mutex, MutexGuard, PoisonError};

use domain::RoomName;
use domain::ports::SocketDirection;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::handshake::Connection;
use crate::payloads::Membership;

/// The rooms a client joined with `join-room` and has not left, in the order joined. The
/// private room is not among them: the client never joins it.
#[derive(Debug, Default)]
pub(super) struct JoinedRooms(Mutex<Vec<RoomName>>);

impl JoinedRooms {
    pub(super) fn joined(&self, room: RoomName) {
        let mut rooms = self.lock();
        if !rooms.contains(&room) {
            rooms.push(room);
        }
    }

    pub(super) fn left(&self, room: &RoomName) {
        self.lock().retain(|joined| joined != room);
    }

    /// Every room still joined; the record is empty afterwards.
    pub(super) fn take(&self) -> Vec<RoomName> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<RoomName>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `user-left` to the others in each room the socket had joined.
pub(super) async fn announce_departure<A: Adapter>(socket: &SocketRef<A>, connection: &Connection) {
    for room in connection.joined.take() {
        connection
            .telemetry
            .socket_event(SocketDirection::Out, "user-left");
        let left = Membership::new(connection.user_id, &room);
        if let Err(error) = socket
            .to(room.as_str().to_owned())
            .emit("user-left", &left)
            .await
        {
            tracing::warn!(target: "realtime", socket_id = %socket.id, %error, "user-left on disconnect failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> RoomName {
        RoomName::parse(name).expect("a valid room name")
    }

    #[test]
    fn the_record_keeps_each_joined_room_once_until_left_or_taken() {
        let joined = JoinedRooms::default();
        joined.joined(room("lobby"));
        joined.joined(room("news"));
        joined.joined(room("lobby"));
        joined.joined(room("chess"));
        joined.left(&room("news"));
        joined.left(&room("never-joined"));

        assert_eq!(joined.take(), [room("lobby"), room("chess")]);
        assert_eq!(joined.take(), Vec::<RoomName>::new());
    }
}
