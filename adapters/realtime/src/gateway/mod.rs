//! The `/events` namespace: handshake authentication (`handshake`), then one handler per
//! client event.
//!
//! Handlers are thin: wait for their turn (`order`), take a rate-limit token, parse the
//! payload (`payloads`), ask the domain (`RoomName`'s rules), act on the socket's rooms,
//! acknowledge. Who receives what is socketioxide's room registry; the gateway also keeps
//! the rooms each client joined, to announce them as left when the socket goes
//! (`departure`).

mod departure;
mod handshake;
mod revocation;

use std::sync::Arc;

use application::Authenticator;
use domain::ports::{Clock, SocketDirection, Telemetry};
use domain::{ChatMessage, RoomName};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, TryData};
use socketioxide::handler::ConnectHandler as _;
use socketioxide::socket::DisconnectReason;
use socketioxide_core::adapter::DefinedAdapter;

use self::departure::announce_departure;
use self::handshake::{Connection, HandshakeRefusal, authenticate};
use self::revocation::revoke_if_ended_since_handshake;
pub(super) use self::revocation::{EndedSessions, disconnect_revoked};
use super::NAMESPACE;
use super::order::{EventOrder, Turn};
use super::payloads::{Ack, Delivery, Membership, Refusal, parse_chat, parse_room};
use super::quota::SocketQuota;
use super::rate_limit::MessageRateLimit;
use crate::REQUEST_ID_HEADER;

/// What the gateway needs from the rest of the application.
#[derive(Clone)]
pub(super) struct Gateway {
    authenticator: Authenticator,
    clock: Arc<dyn Clock>,
    /// Counts each socket's events (through its `Connection`).
    telemetry: Arc<dyn Telemetry>,
    rate_limit: MessageRateLimit,
    /// The sockets each user holds, which `socketio_connected_sockets` counts.
    quota: SocketQuota,
    /// Sessions ended lately, shared with the publisher that disconnects their sockets.
    ended: Arc<EndedSessions>,
}

impl Gateway {
    pub(super) fn new(
        authenticator: Authenticator,
        clock: Arc<dyn Clock>,
        telemetry: Arc<dyn Telemetry>,
        rate_limit: MessageRateLimit,
        max_sockets_per_user: usize,
        ended: Arc<EndedSessions>,
    ) -> Self {
        Self {
            authenticator,
            clock,
            quota: SocketQuota::new(max_sockets_per_user, Arc::clone(&telemetry)),
            telemetry,
            rate_limit,
            ended,
        }
    }
}

/// The events a client may send; each is answered with an acknowledgement.
#[derive(Debug, Clone, Copy)]
enum ClientEvent {
    JoinRoom,
    LeaveRoom,
    Message,
}

impl ClientEvent {
    const ALL: [Self; 3] = [Self::JoinRoom, Self::LeaveRoom, Self::Message];

    fn name(self) -> &'static str {
        match self {
            Self::JoinRoom => "join-room",
            Self::LeaveRoom => "leave-room",
            Self::Message => "message",
        }
    }
}

/// Registers `/events`. All the set-up of a socket happens in the authenticating
/// middleware, which socketioxide runs *before* it tells the client it is connected: the
/// connect handler runs in a task spawned after that, so a handler registered there could
/// miss a client's first event (or the socket a transfer made right after connecting).
/// Returns the adapter's initialisation (for an adapter across instances: its
/// subscriptions), to be awaited or spawned.
pub(super) fn register<A: Adapter + DefinedAdapter>(
    io: &SocketIo<A>,
    gateway: Gateway,
) -> A::InitRes {
    let ended = Arc::clone(&gateway.ended);
    let set_up = move |socket: SocketRef<A>, TryData(auth): TryData<Value>| {
        let gateway = gateway.clone();
        async move {
            let connection = authenticate(&gateway, &socket, auth.ok()).await?;
            set_up_socket(&gateway, &socket, connection);
            Ok::<(), HandshakeRefusal>(())
        }
    };
    // Runs once the socket is connected and in the namespace, where revocations find it.
    let connected = async move |socket: SocketRef<A>,
                                Extension(connection): Extension<Connection>| {
        tracing::info!(
            target: "realtime",
            user_id = %connection.user_id,
            socket_id = %socket.id,
            transport = ?socket.transport_type(),
            request_id = request_id(&socket),
            "socket connected"
        );
        revoke_if_ended_since_handshake(&ended, socket, &connection);
    };
    io.ns(NAMESPACE, connected.with(set_up))
}

/// Records who is connecting, puts the socket in its private room, and registers the
/// event handlers.
fn set_up_socket<A: Adapter>(gateway: &Gateway, socket: &SocketRef<A>, connection: Connection) {
    socket.join(RoomName::private_to(connection.user_id).as_str().to_owned());
    socket.extensions.insert(connection);
    socket.extensions.insert(Arc::new(EventOrder::new()));
    for event in ClientEvent::ALL {
        let clock = Arc::clone(&gateway.clock);
        socket.on(
            event.name(),
            move |turn: Turn,
                  socket: SocketRef<A>,
                  Extension(connection): Extension<Connection>,
                  TryData(payload): TryData<Value>,
                  ack: AckSender<A>| async move {
                turn.wait().await;
                connection
                    .telemetry
                    .socket_event(SocketDirection::In, event.name());
                let outcome =
                    handle(event, &socket, &connection, &*clock, payload.ok().as_ref()).await;
                acknowledge(&socket, ack, event.name(), outcome);
            },
        );
    }
    socket.on_disconnect(
        async move |socket: SocketRef<A>,
                    reason: DisconnectReason,
                    turn: Turn,
                    Extension(connection): Extension<Connection>| {
            tracing::info!(
                target: "realtime",
                user_id = %connection.user_id,
                socket_id = %socket.id,
                transport = ?socket.transport_type(),
                %reason,
                "socket disconnected"
            );
            // After the events received before the disconnect (a join among them).
            turn.wait().await;
            announce_departure(&socket, &connection).await;
        },
    );
}

/// Admits one client event past the rate limit, parses its payload, and acts on it.
async fn handle<A: Adapter>(
    event: ClientEvent,
    socket: &SocketRef<A>,
    connection: &Connection,
    clock: &dyn Clock,
    payload: Option<&Value>,
) -> Result<(), Refusal> {
    connection.admit()?;
    match event {
        ClientEvent::JoinRoom => join_room(socket, connection, parse_room(payload)?).await,
        ClientEvent::LeaveRoom => leave_room(socket, connection, parse_room(payload)?).await,
        ClientEvent::Message => {
            let (room, message) = parse_chat(payload)?;
            send_message(socket, connection, &room, &message, clock).await
        }
    }
}

/// `join-room`: any public room, or the caller's own private room. Joining a room twice
/// is acknowledged without announcing the caller again.
async fn join_room<A: Adapter>(
    socket: &SocketRef<A>,
    connection: &Connection,
    room: RoomName,
) -> Result<(), Refusal> {
    let user = connection.user_id;
    if !room.may_be_joined_by(user) {
        return Err(Refusal::PrivateRoom);
    }
    if is_member(socket, &room) {
        return Ok(());
    }
    socket.join(room.as_str().to_owned());
    let joined = Membership::new(user, &room);
    connection.joined.joined(room.clone());
    announce(socket, connection, &room, "user-joined", &joined).await;
    Ok(())
}

/// `leave-room`: the room hears `user-left` (the leaver included), then the socket leaves.
/// The private room cannot be left: it is where money-received events arrive.
async fn leave_room<A: Adapter>(
    socket: &SocketRef<A>,
    connection: &Connection,
    room: RoomName,
) -> Result<(), Refusal> {
    let user = connection.user_id;
    if room == RoomName::private_to(user) {
        return Err(Refusal::OwnPrivateRoom);
    }
    if !is_member(socket, &room) {
        return Err(Refusal::NotInRoom(room));
    }
    let left = Membership::new(user, &room);
    announce(socket, connection, &room, "user-left", &left).await;
    socket.leave(room.as_str().to_owned());
    connection.joined.left(&room);
    Ok(())
}

/// `message`: delivered to every socket in the room (the sender included) if the sender
/// has joined it.
async fn send_message<A: Adapter>(
    socket: &SocketRef<A>,
    connection: &Connection,
    room: &RoomName,
    message: &ChatMessage,
    clock: &dyn Clock,
) -> Result<(), Refusal> {
    if !is_member(socket, room) {
        return Err(Refusal::NotInRoom(room.clone()));
    }
    let delivery = Delivery::new(connection.user_id, room, message, clock.now());
    announce(socket, connection, room, "message", &delivery).await;
    Ok(())
}

fn is_member<A: Adapter>(socket: &SocketRef<A>, room: &RoomName) -> bool {
    socket.rooms().iter().any(|joined| joined == room.as_str())
}

/// Emits `event` to everyone in `room`, this socket included. Delivery is best effort: a
/// failure (a full buffer of a slow client) is logged, not reported to the sender.
async fn announce<A: Adapter>(
    socket: &SocketRef<A>,
    connection: &Connection,
    room: &RoomName,
    event: &'static str,
    payload: &impl serde::Serialize,
) {
    connection
        .telemetry
        .socket_event(SocketDirection::Out, event);
    if let Err(error) = socket
        .within(room.as_str().to_owned())
        .emit(event, payload)
        .await
    {
        tracing::warn!(target: "realtime", socket_id = %socket.id, event, %error, "broadcast failed");
    }
}

/// Answers the client if it asked for an acknowledgement (otherwise this does nothing).
fn acknowledge<A: Adapter>(
    socket: &SocketRef<A>,
    ack: AckSender<A>,
    event: &'static str,
    outcome: Result<(), Refusal>,
) {
    if let Err(refusal) = &outcome {
        tracing::debug!(target: "realtime", socket_id = %socket.id, event, %refusal, "client event refused");
    }
    if let Err(error) = ack.send(&Ack::from(outcome)) {
        tracing::debug!(target: "realtime", socket_id = %socket.id, event, %error, "could not acknowledge");
    }
}

/// The id of the HTTP request that opened the connection (set by the request log
/// middleware and carried by the bridge), to tie socket logs to request logs.
fn request_id<A: Adapter>(socket: &SocketRef<A>) -> &str {
    socket
        .req_parts()
        .headers
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
}
