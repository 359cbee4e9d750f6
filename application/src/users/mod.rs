//! The users feature: list, get, create, update, delete, and the start-up admin.
//!
//! Authorization is decided here (through the domain's [`Actor`] rules), never in a handler:
//! any authenticated user may read users; a user may edit their own profile; only an admin
//! may change a role, create or delete users.

mod enrol;
mod errors;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use self::enrol::{EnrolError, Enrolment, SendWelcome};
use crate::auth::verification_token;
use crate::auth_states::AuthStates;
use crate::jobs::email_verification_job;

use domain::ports::{
    Clock, DeleteUserRecordError, DomainEvent, EventPublisher, OpaqueTokenGenerator,
    PasswordHasher, UpdateUserRecordError, UserRepository,
};
use domain::{
    Actor, Email, NewVerificationToken, Page, Password, RevocationReason, Role, User, UserChanges,
    UserId, UserName, UserQuery,
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

/// The ports the users use cases drive.
#[derive(Clone)]
#[allow(missing_debug_implementations)] // trait objects; nothing useful to print
pub struct UserPorts {
    pub users: Arc<dyn UserRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub clock: Arc<dyn Clock>,
    pub auth_states: Arc<AuthStates>,
    /// Makes the tokens of email-verification links.
    pub opaque_tokens: Arc<dyn OpaqueTokenGenerator>,
    /// Tells the realtime gateway whose sessions a role change or deletion ended.
    pub events: Arc<dyn EventPublisher>,
}

/// The users use cases.
#[derive(Clone)]
pub struct UserService {
    ports: UserPorts,
    /// How long an email-verification link works.
    verification_ttl: Duration,
}

impl std::fmt::Debug for UserService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("UserService")
            .finish_non_exhaustive()
    }
}

impl UserService {
    pub fn new(ports: UserPorts, verification_ttl: Duration) -> Self {
        Self {
            ports,
            verification_ttl,
        }
    }

    /// One page of users; any authenticated user may list.
    #[tracing::instrument(name = "UserService.list", skip(self), fields(actor = %actor.user_id))]
    pub async fn list(&self, actor: Actor, query: UserQuery) -> Result<Page<User>, ListUsersError> {
        Ok(self.ports.users.list(&query).await?)
    }

    /// One user; any authenticated user may read.
    #[tracing::instrument(name = "UserService.get", skip(self), fields(actor = %actor.user_id))]
    pub async fn get(&self, actor: Actor, id: UserId) -> Result<User, GetUserError> {
        self.ports
            .users
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
            .ports
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
        // Likewise, an address is unverified (and a link sent) only when it changes.
        let changes = UserChanges {
            role: changes.role.filter(|_| role_changes),
            email: changes.email.filter(|email| *email != current.email),
            ..changes
        };
        let now = self.ports.clock.now();
        let verification = match &changes.email {
            Some(email) => {
                let (token, record) = verification_token(
                    self.ports.opaque_tokens.as_ref(),
                    self.verification_ttl,
                    id,
                    email,
                    now,
                )?;
                let job = email_verification_job(id, email, &token, record.expires_at, now);
                Some(NewVerificationToken {
                    outbox: job.into(),
                    ..record
                })
            }
            None => None,
        };
        let updated = self
            .ports
            .users
            .update(id, changes, verification, now)
            .await
            .map_err(|error| match error {
                UpdateUserRecordError::NotFound => UpdateUserError::NotFound(id),
                UpdateUserRecordError::EmailTaken => UpdateUserError::EmailTaken,
                UpdateUserRecordError::LastAdmin => UpdateUserError::LastAdmin,
                UpdateUserRecordError::Unexpected(error) => error.into(),
            })?;
        if role_changes {
            self.revoked(id, RevocationReason::RoleChanged).await;
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
        self.ports
            .users
            .delete(id)
            .await
            .map_err(|error| match error {
                DeleteUserRecordError::NotFound => DeleteUserError::NotFound(id),
                DeleteUserRecordError::OwnsAccounts => DeleteUserError::OwnsAccounts,
                DeleteUserRecordError::LastAdmin => DeleteUserError::LastAdmin,
                DeleteUserRecordError::Unexpected(error) => error.into(),
            })?;
        self.revoked(id, RevocationReason::UserDeleted).await;
        Ok(())
    }

    /// Forgets the user's cached auth state and disconnects their sockets.
    async fn revoked(&self, user: UserId, reason: RevocationReason) {
        self.ports.auth_states.invalidate(user);
        self.ports
            .events
            .publish(DomainEvent::SessionsRevoked {
                user,
                session: None,
                reason,
            })
            .await;
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
            .ports
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
        let enrolment = Enrolment {
            hasher: self.ports.hasher.as_ref(),
            opaque_tokens: self.ports.opaque_tokens.as_ref(),
            clock: self.ports.clock.as_ref(),
            users: self.ports.users.as_ref(),
            verification_ttl: self.verification_ttl,
        };
        enrolment
            .enrol(command, welcome)
            .await
            .map_err(|error| match error {
                EnrolError::EmailTaken => CreateUserError::EmailTaken,
                EnrolError::Unexpected(error) => error.into(),
            })
    }
}
