//! A socket that disconnects (or is disconnected) leaves its rooms: the others in them
//! hear `user-left`, as for `leave-room` (API.md, Realtime).

use domain::RoomName;
use domain::ports::SocketDirection;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::handshake::Connection;
use crate::payloads::Membership;

/// `user-left` to the others in each room the socket had joined (socketioxide runs the
/// disconnect handler before it takes the socket out of its rooms). The private room was
/// never joined by the client, so it hears nothing.
pub(super) async fn announce_departure<A: Adapter>(socket: &SocketRef<A>, connection: &Connection) {
    let private = RoomName::private_to(connection.user_id);
    for room in socket.rooms() {
        if room == private.as_str() {
            continue;
        }
        let Ok(room) = RoomName::parse(&room) else {
            continue;
        };
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
