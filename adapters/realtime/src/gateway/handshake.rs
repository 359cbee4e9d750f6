//! The handshake: who connects (the access token in `auth`, checked like a REST request's),
//! within their quota of sockets, and why a connection is refused.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use application::AuthenticateError;
use domain::ports::Telemetry;
use domain::{SessionId, UserId};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::Gateway;
use super::departure::JoinedRooms;
use crate::payloads::Refusal;
use crate::quota::Slot;
use crate::rate_limit::TokenBucket;

/// Why a handshake is refused. `Display` is the `connect_error` message the client sees.
#[derive(Debug, thiserror::Error)]
pub(super) enum HandshakeRefusal {
    #[error("Authentication required")]
    AuthenticationRequired,
    #[error("Invalid token")]
    InvalidToken,
    /// The token could not be checked (the database is down): not the client's fault, and
    /// not a reason to tell them their token is bad.
    #[error("Authentication is unavailable, try again later")]
    Unavailable,
    #[error("Too many connections for this user")]
    TooManySockets,
}

/// Who is on the other end of a socket, stored in the socket's extensions at handshake.
#[derive(Clone)]
pub(super) struct Connection {
    pub(super) user_id: UserId,
    /// The session of the token the socket connected with: the socket is disconnected
    /// when that session ends.
    pub(super) session_id: SessionId,
    /// When the handshake began: a session ending from then on may have been missed by
    /// the look for the user's sockets (see `revocation`).
    pub(super) began: Instant,
    /// Counts the socket's events in and the broadcasts it causes.
    pub(super) telemetry: Arc<dyn Telemetry>,
    /// The rooms the client joined, announced as left when the socket goes.
    pub(super) joined: Arc<JoinedRooms>,
    bucket: Arc<Mutex<TokenBucket>>,
    /// Given back to the user's quota when the socket (and so this) is dropped.
    _slot: Arc<Slot>,
}

impl Connection {
    /// Takes a token from this socket's bucket, or refuses the event.
    pub(super) fn admit(&self) -> Result<(), Refusal> {
        let mut bucket = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        if bucket.try_take(Instant::now()) {
            Ok(())
        } else {
            Err(Refusal::TooManyMessages)
        }
    }
}

/// Checks `auth: {token}` with the same [`Authenticator`] as REST requests (so expired
/// tokens, revoked sessions and deleted users are refused alike).
pub(super) async fn authenticate<A: Adapter>(
    gateway: &Gateway,
    socket: &SocketRef<A>,
    auth: Option<Value>,
) -> Result<Connection, HandshakeRefusal> {
    let began = Instant::now();
    let token = match auth.as_ref().and_then(|auth| auth.get("token")) {
        None | Some(Value::Null) => return Err(HandshakeRefusal::AuthenticationRequired),
        Some(Value::String(token)) if token.is_empty() => {
            return Err(HandshakeRefusal::AuthenticationRequired);
        }
        Some(Value::String(token)) => token,
        Some(_) => return Err(HandshakeRefusal::InvalidToken),
    };
    let caller = match gateway.authenticator.authenticate(token).await {
        Ok(caller) => caller,
        Err(AuthenticateError::InvalidToken) => return Err(HandshakeRefusal::InvalidToken),
        Err(AuthenticateError::Unexpected(error)) => {
            tracing::error!(
                target: "realtime",
                socket_id = %socket.id,
                error = format!("{error:#}"),
                "could not authenticate a socket"
            );
            return Err(HandshakeRefusal::Unavailable);
        }
    };
    let slot = gateway
        .quota
        .take(caller.actor.user_id)
        .ok_or(HandshakeRefusal::TooManySockets)?;
    Ok(Connection {
        _slot: Arc::new(slot),
        user_id: caller.actor.user_id,
        session_id: caller.session_id,
        began,
        telemetry: Arc::clone(&gateway.telemetry),
        joined: Arc::default(),
        bucket: Arc::new(Mutex::new(TokenBucket::new(
            gateway.rate_limit,
            Instant::now(),
        ))),
    })
}
