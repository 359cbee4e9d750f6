//! Sockets follow sessions: when a user's sessions (or one of them) end, the sockets that
//! connected with their tokens are told why and disconnected.

use domain::ports::SocketDirection;
use domain::{RevocationReason, RoomName, SessionId, UserId};
use serde::Serialize;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use super::handshake::Connection;
use crate::NAMESPACE;

/// The event a socket receives just before the server disconnects it.
pub(crate) const REVOKED_EVENT: &str = "session-revoked";

/// `session-revoked` payload: why the server is about to disconnect the socket.
#[derive(Debug, Serialize)]
struct Revoked {
    reason: &'static str,
}

/// Disconnects this instance's sockets of `user` that belong to `session` (every socket of
/// the user when `session` is `None`), each after a `session-revoked` event with the
/// reason. Returns how many were disconnected.
pub(crate) fn disconnect_revoked<A: Adapter>(
    io: &SocketIo<A>,
    user: UserId,
    session: Option<SessionId>,
    reason: RevocationReason,
) -> usize {
    let Some(namespace) = io.of(NAMESPACE) else {
        return 0;
    };
    let notice = Revoked {
        reason: reason.as_str(),
    };
    let mut disconnected = 0;
    // Every socket of the user is in their private room.
    for socket in namespace
        .to(RoomName::private_to(user).as_str().to_owned())
        .sockets()
    {
        let Some(connection) = socket.extensions.get::<Connection>() else {
            continue;
        };
        if session.is_some_and(|session| session != connection.session_id) {
            continue;
        }
        connection
            .telemetry
            .socket_event(SocketDirection::Out, REVOKED_EVENT);
        if let Err(error) = socket.emit(REVOKED_EVENT, &notice) {
            tracing::debug!(target: "realtime", socket_id = %socket.id, %error, "could not tell a socket why it is disconnected");
        }
        let socket_id = socket.id;
        match socket.disconnect() {
            Ok(()) => disconnected += 1,
            Err(error) => {
                tracing::debug!(target: "realtime", %socket_id, %error, "socket already gone");
            }
        }
    }
    tracing::info!(target: "realtime", user_id = %user, session_id = ?session, reason = reason.as_str(), disconnected, "sockets of ended sessions disconnected");
    disconnected
}
