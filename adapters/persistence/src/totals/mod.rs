//! [`CachedTotals`]: the users repository, with the totals of its listings reused for a
//! moment (the rules are in `cache`).

mod cache;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{
    DeleteUserRecordError, InsertUserError, RepositoryError, UpdateUserRecordError, UserRepository,
};
use domain::{
    AuthState, Email, NewUser, NewVerificationToken, Page, User, UserChanges, UserCredentials,
    UserId, UserQuery,
};

use self::cache::Lookup;
pub(crate) use self::cache::Totals;
use crate::DieselUserRepository;

/// A decorator of [`DieselUserRepository`]: a listing whose page does not show its total
/// takes a total counted in the last two seconds for the same search, and every write
/// through it forgets them all, so a client never misses its own change in a total; writes
/// by other processes show within those seconds. Clones share the totals.
#[derive(Debug, Clone)]
pub struct CachedTotals {
    users: DieselUserRepository,
    totals: Arc<Totals>,
}

impl CachedTotals {
    /// `users` with `totals` shared with the other handles of one `DieselStore`, which
    /// hands these out.
    pub(crate) fn sharing(users: DieselUserRepository, totals: Arc<Totals>) -> Self {
        Self { users, totals }
    }

    /// `outcome` of a write: when it changed the users, every total is forgotten.
    fn wrote<T, E>(&self, outcome: Result<T, E>) -> Result<T, E> {
        if outcome.is_ok() {
            self.totals.forget();
        }
        outcome
    }
}

#[async_trait]
impl UserRepository for CachedTotals {
    async fn insert(&self, user: NewUser) -> Result<User, InsertUserError> {
        self.wrote(self.users.insert(user).await)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepositoryError> {
        self.users.find_by_id(id).await
    }

    async fn find_auth_state(&self, id: UserId) -> Result<Option<AuthState>, RepositoryError> {
        self.users.find_auth_state(id).await
    }

    async fn find_credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<UserCredentials>, RepositoryError> {
        self.users.find_credentials_by_email(email).await
    }

    async fn list(&self, query: &UserQuery) -> Result<Page<User>, RepositoryError> {
        self.users
            .page_counted_by(query, || async {
                let key = query.search.as_ref().map_or("", |term| term.as_str());
                match self.totals.lookup(key) {
                    Lookup::Known(total) => Ok(total),
                    Lookup::Count(claim) => {
                        let total = self.users.count(query.search.as_ref()).await?;
                        self.totals.put(claim, total);
                        Ok(total)
                    }
                }
            })
            .await
    }

    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        verification: Option<NewVerificationToken>,
        now: DateTime<Utc>,
    ) -> Result<User, UpdateUserRecordError> {
        // A new name or email may match other searches.
        self.wrote(self.users.update(id, changes, verification, now).await)
    }

    async fn delete(&self, id: UserId) -> Result<(), DeleteUserRecordError> {
        self.wrote(self.users.delete(id).await)
    }
}
