//! Short-lived caches of what is read on every authenticated request: users' auth states
//! (role and session version) and whether sessions are live.
//!
//! Entries live for at most `ttl` (1 s in the service): a role change, password reset,
//! logout or deletion made through this process (or announced by another instance)
//! invalidates its entry at once, and a read under way at that moment is not cached; one
//! made by another process that does not announce it is seen within `ttl`. Each cache
//! turns one database read per request into one per user (or session) per second.

use std::sync::Arc;

use chrono::Duration;
use domain::ports::{Clock, RepositoryError, SessionRepository, UserRepository};
use domain::{AuthState, SessionId, UserId};

use crate::cache::TtlCache;

/// Users' auth states (`None`: no such user). See the module documentation.
pub struct AuthStates {
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
    entries: TtlCache<UserId, Option<AuthState>>,
}

impl std::fmt::Debug for AuthStates {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("AuthStates").finish_non_exhaustive()
    }
}

impl AuthStates {
    pub fn new(users: Arc<dyn UserRepository>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self {
            users,
            clock,
            entries: TtlCache::new(ttl),
        }
    }

    /// The user's current auth state (`None`: no such user).
    pub async fn get(&self, id: UserId) -> Result<Option<AuthState>, RepositoryError> {
        let now = self.clock.now();
        if let Some(state) = self.entries.get(&id, now) {
            return Ok(state);
        }
        let ticket = self.entries.ticket();
        let state = self.users.find_auth_state(id).await?;
        self.entries.put(id, state, now, ticket);
        Ok(state)
    }

    /// Forgets the user's entry: the next request reads the database.
    pub fn invalidate(&self, id: UserId) {
        self.entries.remove(&id);
    }
}

/// Whether sessions are live (not revoked). See the module documentation.
pub struct SessionStates {
    sessions: Arc<dyn SessionRepository>,
    clock: Arc<dyn Clock>,
    entries: TtlCache<SessionId, bool>,
}

impl std::fmt::Debug for SessionStates {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SessionStates")
            .finish_non_exhaustive()
    }
}

impl SessionStates {
    pub fn new(sessions: Arc<dyn SessionRepository>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self {
            sessions,
            clock,
            entries: TtlCache::new(ttl),
        }
    }

    /// Whether the session exists and is not revoked.
    pub async fn is_live(&self, id: SessionId) -> Result<bool, RepositoryError> {
        let now = self.clock.now();
        if let Some(live) = self.entries.get(&id, now) {
            return Ok(live);
        }
        let ticket = self.entries.ticket();
        let live = self.sessions.is_live(id).await?;
        self.entries.put(id, live, now, ticket);
        Ok(live)
    }

    /// Forgets the session's entry: the next request reads the database.
    pub fn invalidate(&self, id: SessionId) {
        self.entries.remove(&id);
    }
}
