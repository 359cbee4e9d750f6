//! The cap on sockets per user: without it one user could open hundreds of sockets and
//! multiply the per-socket message rate limit (and hold server memory) at will.
//!
//! A socket holds a [`Slot`] in its extensions from the handshake on; the slot is given
//! back when the socket is dropped, however it ended. The slots are also what
//! `socketio_connected_sockets` counts: a socket whose client left during the handshake is
//! dropped without a disconnect, so counting connects and disconnects would keep it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use domain::UserId;
use domain::ports::Telemetry;

/// Counts each user's open sockets against a maximum.
#[derive(Clone)]
pub(super) struct SocketQuota {
    max_per_user: usize,
    open: Arc<Mutex<HashMap<UserId, usize>>>,
    telemetry: Arc<dyn Telemetry>,
}

/// One open socket's place in its user's quota.
pub(super) struct Slot {
    user_id: UserId,
    open: Arc<Mutex<HashMap<UserId, usize>>>,
    telemetry: Arc<dyn Telemetry>,
}

impl SocketQuota {
    pub(super) fn new(max_per_user: usize, telemetry: Arc<dyn Telemetry>) -> Self {
        Self {
            max_per_user,
            open: Arc::default(),
            telemetry,
        }
    }

    /// A slot for one more socket of `user_id`, or `None` when they hold the maximum.
    pub(super) fn take(&self, user_id: UserId) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(user_id).or_default();
        if *count >= self.max_per_user {
            return None;
        }
        *count += 1;
        self.telemetry.sockets_changed(1);
        Some(Slot {
            user_id,
            open: Arc::clone(&self.open),
            telemetry: Arc::clone(&self.telemetry),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.telemetry.sockets_changed(-1);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_at_most_the_maximum_and_a_dropped_slot_is_given_back() {
        let quota = SocketQuota::new(2, Arc::new(domain::ports::NoTelemetry));
        let (ann, bob) = (UserId::generate(), UserId::generate());
        let first = quota.take(ann).expect("first");
        let _second = quota.take(ann).expect("second");
        assert!(quota.take(ann).is_none());
        assert!(
            quota.take(bob).is_some(),
            "another user has their own quota"
        );
        drop(first);
        assert!(quota.take(ann).is_some());
    }
}
