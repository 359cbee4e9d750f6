//! [`UserRepository`] in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{
    DeleteUserRecordError, InsertUserError, RepositoryError, UpdateUserRecordError, UserRepository,
};
use domain::{
    AuthState, Email, NewUser, NewVerificationToken, Page, Role, SessionVersion, User, UserChanges,
    UserCredentials, UserId, UserQuery, leaves_no_admin,
};

use super::tables::{Tables, UserRow};
use super::{MemoryStore, page_of};

impl Tables {
    fn email_taken(&self, email: &Email, by_other_than: Option<UserId>) -> bool {
        self.users
            .values()
            .any(|row| row.user.email == *email && Some(row.user.id) != by_other_than)
    }

    fn admins(&self) -> Vec<UserId> {
        self.users
            .values()
            .filter(|row| row.user.role == Role::Admin)
            .map(|row| row.user.id)
            .collect()
    }
}

/// What the databases search: the lower-cased name and the (lower-case) email, apart.
fn matches_search(user: &User, term: &str) -> bool {
    let name = user
        .name
        .as_ref()
        .map_or(String::new(), |name| name.as_str().to_lowercase());
    name.contains(term) || user.email.as_str().contains(term)
}

#[async_trait]
impl UserRepository for MemoryStore {
    async fn insert(&self, mut user: NewUser) -> Result<User, InsertUserError> {
        let jobs = self.traced(user.take_outbox());
        let (stored, kinds) = {
            let mut tables = self.tables();
            if tables.email_taken(&user.email, None) {
                return Err(InsertUserError::EmailTaken);
            }
            let stored = User {
                id: user.id,
                email: user.email,
                name: user.name,
                role: user.role,
                email_verified: user.email_verified,
                created_at: user.created_at,
                updated_at: user.created_at,
            };
            tables.users.insert(
                user.id,
                UserRow {
                    user: stored.clone(),
                    password_hash: user.password_hash,
                    session_version: SessionVersion::INITIAL,
                },
            );
            if let Some(verification) = user.email_verification {
                tables.store_verification_token(verification);
            }
            (stored, tables.insert_jobs(jobs))
        };
        self.jobs_committed(&kinds);
        Ok(stored)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepositoryError> {
        Ok(self.tables().users.get(&id).map(|row| row.user.clone()))
    }

    async fn find_auth_state(&self, id: UserId) -> Result<Option<AuthState>, RepositoryError> {
        Ok(self.tables().users.get(&id).map(|row| AuthState {
            role: row.user.role,
            session_version: row.session_version,
        }))
    }

    async fn find_credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<UserCredentials>, RepositoryError> {
        Ok(self
            .tables()
            .users
            .values()
            .find(|row| row.user.email == *email)
            .map(|row| UserCredentials {
                user: row.user.clone(),
                password_hash: row.password_hash.clone(),
            }))
    }

    async fn list(&self, query: &UserQuery) -> Result<Page<User>, RepositoryError> {
        let mut users: Vec<User> = self
            .tables()
            .users
            .values()
            .filter(|row| {
                query
                    .search
                    .as_ref()
                    .is_none_or(|term| matches_search(&row.user, term.as_str()))
            })
            .map(|row| row.user.clone())
            .collect();
        users.sort_by_key(|user| (user.created_at, user.id));
        Ok(page_of(&users, query.page))
    }

    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        mut verification: Option<NewVerificationToken>,
        now: DateTime<Utc>,
    ) -> Result<User, UpdateUserRecordError> {
        let outbox = verification
            .as_mut()
            .map(NewVerificationToken::take_outbox)
            .unwrap_or_default();
        let jobs = self.traced(outbox);
        let (updated, kinds) = {
            let mut tables = self.tables();
            let demotes = changes.role.is_some_and(|role| role != Role::Admin);
            if demotes && leaves_no_admin(&tables.admins(), id) {
                return Err(UpdateUserRecordError::LastAdmin);
            }
            if !tables.users.contains_key(&id) {
                return Err(UpdateUserRecordError::NotFound);
            }
            if let Some(email) = &changes.email
                && tables.email_taken(email, Some(id))
            {
                return Err(UpdateUserRecordError::EmailTaken);
            }
            let row = tables.users.get_mut(&id).expect("the user was just found");
            if let Some(email) = changes.email {
                row.user.email = email;
                row.user.email_verified = false;
            }
            if let Some(name) = changes.name {
                row.user.name = Some(name);
            }
            if let Some(role) = changes.role {
                // A new role invalidates the access tokens that carry the old one.
                row.user.role = role;
                row.session_version = row.session_version.next();
            }
            row.user.updated_at = now;
            let updated = row.user.clone();
            if let Some(verification) = verification {
                tables.store_verification_token(verification);
            }
            (updated, tables.insert_jobs(jobs))
        };
        self.jobs_committed(&kinds);
        Ok(updated)
    }

    async fn delete(&self, id: UserId) -> Result<(), DeleteUserRecordError> {
        let mut tables = self.tables();
        if leaves_no_admin(&tables.admins(), id) {
            return Err(DeleteUserRecordError::LastAdmin);
        }
        if !tables.users.contains_key(&id) {
            return Err(DeleteUserRecordError::NotFound);
        }
        // The ledger is kept: accounts are not deleted with their owner (as the databases'
        // foreign key restricts).
        if tables
            .accounts
            .values()
            .any(|account| account.owner_id == id)
        {
            return Err(DeleteUserRecordError::OwnsAccounts);
        }
        // What belongs only to the user goes with them (as the databases' cascades do).
        tables.users.remove(&id);
        tables.sessions.retain(|_, session| session.user_id != id);
        tables.refresh_tokens.retain(|_, token| token.user_id != id);
        tables.reset_tokens.retain(|token| token.user_id != id);
        tables
            .verification_tokens
            .retain(|token| token.user_id != id);
        tables.posts.retain(|_, post| post.author_id != id);
        tables.idempotency_keys.retain(|(user, _), _| *user != id);
        Ok(())
    }
}
