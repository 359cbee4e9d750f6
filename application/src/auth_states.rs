//! A short-lived cache of users' auth states (role and session version), read on every
//! authenticated request.
//!
//! Entries live for at most `ttl` (1 s in the service): a role change, password reset or
//! deletion made through this process invalidates its entry at once; one made by another
//! process is seen within `ttl`. The cache turns one database read per request into one per
//! user per second.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use domain::ports::{Clock, RepositoryError, UserRepository};
use domain::{AuthState, UserId};

/// Above this many entries the cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 100_000;

/// A user's state (`None`: no such user) and when it was read.
type CachedState = (Option<AuthState>, DateTime<Utc>);

/// See the module documentation.
pub struct AuthStates {
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    entries: RwLock<HashMap<UserId, CachedState>>,
}

impl std::fmt::Debug for AuthStates {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AuthStates")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl AuthStates {
    pub fn new(users: Arc<dyn UserRepository>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self {
            users,
            clock,
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The user's current auth state (`None`: no such user).
    pub async fn get(&self, id: UserId) -> Result<Option<AuthState>, RepositoryError> {
        let now = self.clock.now();
        if let Some((state, read_at)) = self.entries.read().expect("cache lock").get(&id)
            && now - *read_at < self.ttl
        {
            return Ok(*state);
        }
        let state = self.users.find_auth_state(id).await?;
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(id, (state, now));
        Ok(state)
    }

    /// Forgets the user's entry: the next request reads the database.
    pub fn invalidate(&self, id: UserId) {
        self.entries.write().expect("cache lock").remove(&id);
    }
}
