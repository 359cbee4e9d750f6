//! The users feature: list, get, create, update, delete, and the start-up admin.
//!
//! Authorization is decided here (through the domain's [`Actor`] rules), never in a handler:
//! any authenticated user may read users; a user may edit their own profile; only an admin
//! may change a role, create or delete users.

mod errors;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::auth_states::AuthStates;
use crate::jobs::welcome_email_job;

use domain::ports::{
    Clock, DeleteUserRecordError, InsertUserError, PasswordHasher, UpdateUserRecordError,
    UserRepository,
};
use domain::{
    Actor, Email, NewUser, Page, Password, Role, User, UserChanges, UserId, UserName, UserQuery,
};

pub use errors::{
    CreateUserError, DeleteUserError, EnsureAdminError, GetUserError, ListUsersError,
    UpdateUserError,
};

/// A request to create a user, already parsed into value objects.
#[derive(Debug)]
pub struct CreateUser {
    pub email: Email,
    pub password: Password,
    pub name: Option<UserName>,
    pub role: Role,
}

/// What [`UserService::ensure_admin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminProvisioning {
    Created,
    AlreadyExists,
}

/// Whether a new user gets the welcome email.
#[derive(Debug, Clone, Copy)]
enum SendWelcome {
    Yes,
    No,
}

/// The users use cases.
#[derive(Clone)]
pub struct UserService {
    users: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    auth_states: Arc<AuthStates>,
}

impl std::fmt::Debug for UserService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("UserService")
            .finish_non_exhaustive()
    }
}

impl UserService {
    pub fn new(
        users: Arc<dyn UserRepository>,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
        auth_states: Arc<AuthStates>,
    ) -> Self {
        Self {
            users,
            hasher,
            clock,
            auth_states,
        }
    }

    /// One page of users; any authenticated user may list.
    #[tracing::instrument(name = "UserService.list", skip(self), fields(actor = %actor.user_id))]
    pub async fn list(&self, actor: Actor, query: UserQuery) -> Result<Page<User>, ListUsersError> {
        Ok(self.users.list(&query).await?)
    }

    /// One user; any authenticated user may read.
    #[tracing::instrument(name = "UserService.get", skip(self), fields(actor = %actor.user_id))]
    pub async fn get(&self, actor: Actor, id: UserId) -> Result<User, GetUserError> {
        self.users
            .find_by_id(id)
            .await?
            .ok_or(GetUserError::NotFound(id))
    }

    /// Creates a user with any role; admins only.
    #[tracing::instrument(name = "UserService.create", skip(self, command), fields(actor = %actor.user_id, role = %command.role))]
    pub async fn create(&self, actor: Actor, command: CreateUser) -> Result<User, CreateUserError> {
        actor
            .may_create_users()
            .map_err(|_| CreateUserError::Forbidden)?;
        self.insert(command, SendWelcome::Yes).await
    }

    /// Updates a profile: the user themselves or an admin; only an admin changes roles.
    #[tracing::instrument(name = "UserService.update", skip(self), fields(actor = %actor.user_id))]
    pub async fn update(
        &self,
        actor: Actor,
        id: UserId,
        changes: UserChanges,
    ) -> Result<User, UpdateUserError> {
        // Refuse before reading: a non-admin learns nothing about other users' ids here.
        if !actor.may_edit_profile_of(id) {
            return Err(UpdateUserError::Forbidden);
        }
        let current = self
            .users
            .find_by_id(id)
            .await?
            .ok_or(UpdateUserError::NotFound(id))?;
        actor
            .may_update_user(&current, &changes)
            .map_err(|_| UpdateUserError::Forbidden)?;
        // The repository ends the user's sessions when given a role: give it one only when
        // the role really changes.
        let role_changes = changes.changes_role_of(&current);
        let changes = UserChanges {
            role: changes.role.filter(|_| role_changes),
            ..changes
        };
        let updated = self
            .users
            .update(id, changes, self.clock.now())
            .await
            .map_err(|error| match error {
                UpdateUserRecordError::NotFound => UpdateUserError::NotFound(id),
                UpdateUserRecordError::EmailTaken => UpdateUserError::EmailTaken,
                UpdateUserRecordError::LastAdmin => UpdateUserError::LastAdmin,
                UpdateUserRecordError::Unexpected(error) => error.into(),
            })?;
        if role_changes {
            self.auth_states.invalidate(id);
        }
        Ok(updated)
    }

    /// Deletes a user; admins only, never themselves, and never the last admin.
    #[tracing::instrument(name = "UserService.delete", skip(self), fields(actor = %actor.user_id))]
    pub async fn delete(&self, actor: Actor, id: UserId) -> Result<(), DeleteUserError> {
        actor
            .may_delete_users()
            .map_err(|_| DeleteUserError::Forbidden)?;
        if actor.user_id == id {
            return Err(DeleteUserError::DeletingSelf);
        }
        self.users.delete(id).await.map_err(|error| match error {
            DeleteUserRecordError::NotFound => DeleteUserError::NotFound(id),
            DeleteUserRecordError::OwnsAccounts => DeleteUserError::OwnsAccounts,
            DeleteUserRecordError::LastAdmin => DeleteUserError::LastAdmin,
            DeleteUserRecordError::Unexpected(error) => error.into(),
        })?;
        self.auth_states.invalidate(id);
        Ok(())
    }

    /// Creates the configured administrator unless a user with that email exists already
    /// (whatever its role: an operator's later demotion is respected).
    #[tracing::instrument(name = "UserService.ensure_admin", skip(self, password))]
    pub async fn ensure_admin(
        &self,
        email: Email,
        password: Password,
    ) -> Result<AdminProvisioning, EnsureAdminError> {
        if self
            .users
            .find_credentials_by_email(&email)
            .await?
            .is_some()
        {
            return Ok(AdminProvisioning::AlreadyExists);
        }
        let command = CreateUser {
            email,
            password,
            name: None,
            role: Role::Admin,
        };
        // The operator configured this account: nobody to welcome.
        match self.insert(command, SendWelcome::No).await {
            Ok(_) => Ok(AdminProvisioning::Created),
            // Another process created it between our read and our insert.
            Err(CreateUserError::EmailTaken) => Ok(AdminProvisioning::AlreadyExists),
            Err(CreateUserError::Forbidden) => unreachable!("insert does not authorize"),
            Err(CreateUserError::Unexpected(error)) => Err(EnsureAdminError(error)),
        }
    }

    async fn insert(
        &self,
        command: CreateUser,
        welcome: SendWelcome,
    ) -> Result<User, CreateUserError> {
        let password_hash = self.hasher.hash(&command.password).await?;
        let now = self.clock.now();
        let user = NewUser {
            id: UserId::generate(),
            email: command.email,
            name: command.name,
            role: command.role,
            password_hash,
            created_at: now,
        };
        let jobs = match welcome {
            SendWelcome::Yes => vec![welcome_email_job(user.id, now)],
            SendWelcome::No => Vec::new(),
        };
        self.users
            .insert(user, jobs)
            .await
            .map_err(|error| match error {
                InsertUserError::EmailTaken => CreateUserError::EmailTaken,
                InsertUserError::Unexpected(error) => error.into(),
            })
    }
}
