//! Sockets follow sessions: when a user's sessions (or one of them) end, the sockets that
//! connected with their tokens are told why and disconnected.
//!
//! A handshake that authenticated just before the sessions ended, and whose socket joined
//! the namespace just after this instance looked for the user's sockets, would be missed
//! by that look. So every ending is also kept for a while ([`EndedSessions`]), and each new
//! socket, once connected, checks whether a matching ending was recorded after its
//! handshake began: one side or the other sees it. The look passes over a socket that is
//! in the namespace but not yet connected (its client has not been told it is): a
//! disconnect sent then would reach the client before its connect, and the socket checks
//! for itself a moment later.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use domain::ports::SocketDirection;
use domain::{RevocationReason, RoomName, SessionId, UserId};
use serde::Serialize;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::handshake::Connection;
use crate::NAMESPACE;

/// The event a socket receives just before the server disconnects it.
pub(crate) const REVOKED_EVENT: &str = "session-revoked";

/// How long an ending is kept: longer than any handshake takes (authentication waits
/// for the database at most `DATABASE_TIMEOUT_SECONDS`).
const KEPT_FOR: Duration = Duration::from_mins(1);
/// At most this many endings are kept, the oldest dropped first.
const MAX_KEPT: usize = 10_000;

/// `session-revoked` payload: why the server is about to disconnect the socket.
#[derive(Debug, Serialize)]
struct Revoked {
    reason: &'static str,
}

/// One ended session (every session of the user when `session` is `None`).
#[derive(Debug, Clone, Copy)]
struct Ending {
    at: Instant,
    user: UserId,
    session: Option<SessionId>,
    reason: RevocationReason,
}

/// The sessions that ended lately on this instance; see the module documentation.
#[derive(Debug, Default)]
pub(crate) struct EndedSessions(Mutex<VecDeque<Ending>>);

impl EndedSessions {
    fn record(&self, user: UserId, session: Option<SessionId>, reason: RevocationReason) {
        let mut endings = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Read under the lock, so that the endings stay in time order.
        let now = Instant::now();
        while endings.front().is_some_and(|ending| {
            now.duration_since(ending.at) > KEPT_FOR || endings.len() >= MAX_KEPT
        }) {
            endings.pop_front();
        }
        endings.push_back(Ending {
            at: now,
            user,
            session,
            reason,
        });
    }

    /// Why the sessions of `user` including `session` ended at or after `since`, if they did.
    fn ended_since(
        &self,
        since: Instant,
        user: UserId,
        session: SessionId,
    ) -> Option<RevocationReason> {
        let endings = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        endings
            .iter()
            .rev()
            .take_while(|ending| ending.at >= since)
            .find(|ending| {
                ending.user == user && ending.session.is_none_or(|ended| ended == session)
            })
            .map(|ending| ending.reason)
    }
}

/// Disconnects this instance's sockets of `user` that belong to `session` (every socket of
/// the user when `session` is `None`), each after a `session-revoked` event with the
/// reason, and records the ending for the handshakes under way. Returns how many were
/// disconnected.
pub(crate) fn disconnect_revoked<A: Adapter>(
    io: &SocketIo<A>,
    ended: &EndedSessions,
    user: UserId,
    session: Option<SessionId>,
    reason: RevocationReason,
) -> usize {
    // Before the look: a socket the look misses then finds the ending.
    ended.record(user, session, reason);
    let Some(namespace) = io.of(NAMESPACE) else {
        return 0;
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
        if session.is_some_and(|session| session != connection.session_id)
            || !socket.connected()
            || !revoke(socket, &connection, reason)
        {
            continue;
        }
        disconnected += 1;
    }
    tracing::info!(target: "realtime", user_id = %user, session_id = ?session, reason = reason.as_str(), disconnected, "sockets of ended sessions disconnected");
    disconnected
}

/// Revokes a socket just connected if its session ended since its handshake began.
pub(super) fn revoke_if_ended_since_handshake<A: Adapter>(
    ended: &EndedSessions,
    socket: SocketRef<A>,
    connection: &Connection,
) {
    let Some(reason) =
        ended.ended_since(connection.began, connection.user_id, connection.session_id)
    else {
        return;
    };
    tracing::info!(target: "realtime", socket_id = %socket.id, reason = reason.as_str(), "the socket's session ended during its handshake");
    revoke(socket, connection, reason);
}

/// Tells the socket why, then disconnects it; `false` if it was already gone.
fn revoke<A: Adapter>(
    socket: SocketRef<A>,
    connection: &Connection,
    reason: RevocationReason,
) -> bool {
    connection
        .telemetry
        .socket_event(SocketDirection::Out, REVOKED_EVENT);
    let notice = Revoked {
        reason: reason.as_str(),
    };
    if let Err(error) = socket.emit(REVOKED_EVENT, &notice) {
        tracing::debug!(target: "realtime", socket_id = %socket.id, %error, "could not tell a socket why it is disconnected");
    }
    let socket_id = socket.id;
    match socket.disconnect() {
        Ok(()) => true,
        Err(error) => {
            tracing::debug!(target: "realtime", %socket_id, %error, "socket already gone");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ending_is_found_by_the_handshakes_that_began_before_it() {
        let ended = EndedSessions::default();
        let (ann, bob) = (UserId::generate(), UserId::generate());
        let (first, second) = (SessionId::generate(), SessionId::generate());
        let before = Instant::now();
        ended.record(ann, Some(first), RevocationReason::LoggedOut);
        ended.record(bob, None, RevocationReason::RoleChanged);
        let after = Instant::now() + Duration::from_millis(1);

        let cases = [
            (
                before,
                ann,
                first,
                Some(RevocationReason::LoggedOut),
                "the ended session",
            ),
            (before, ann, second, None, "another session of the user"),
            (
                before,
                bob,
                second,
                Some(RevocationReason::RoleChanged),
                "every session ended",
            ),
            (
                after,
                ann,
                first,
                None,
                "a handshake begun after the ending",
            ),
        ];
        for (since, user, session, expected, case) in cases {
            assert_eq!(ended.ended_since(since, user, session), expected, "{case}");
        }
    }

    #[test]
    fn the_latest_matching_ending_gives_the_reason() {
        let ended = EndedSessions::default();
        let ann = UserId::generate();
        let session = SessionId::generate();
        let before = Instant::now();
        ended.record(ann, Some(session), RevocationReason::SessionDeleted);
        ended.record(ann, None, RevocationReason::PasswordReset);

        assert_eq!(
            ended.ended_since(before, ann, session),
            Some(RevocationReason::PasswordReset)
        );
    }

    #[test]
    fn at_most_max_kept_endings_are_kept() {
        let ended = EndedSessions::default();
        let ann = UserId::generate();
        let first = SessionId::generate();
        let before = Instant::now();
        ended.record(ann, Some(first), RevocationReason::LoggedOut);
        for _ in 0..MAX_KEPT {
            ended.record(UserId::generate(), None, RevocationReason::UserDeleted);
        }

        assert_eq!(ended.0.lock().unwrap().len(), MAX_KEPT);
        assert_eq!(
            ended.ended_since(before, ann, first),
            None,
            "the oldest was dropped"
        );
    }
}
