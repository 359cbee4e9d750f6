//! One error enum per users use case. `Display` is the client-facing message where the
//! HTTP adapter shows it; `Unexpected` keeps the cause chain for the log only.

use domain::UserId;

#[derive(Debug, thiserror::Error)]
pub enum ListUsersError {
    #[error("unexpected failure while listing users")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum GetUserError {
    #[error("User with ID {0} not found")]
    NotFound(UserId),
    #[error("unexpected failure while reading a user")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("Forbidden")]
    Forbidden,
    #[error("A user with this email already exists")]
    EmailTaken,
    #[error("unexpected failure while creating a user")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateUserError {
    #[error("Forbidden")]
    Forbidden,
    #[error("User with ID {0} not found")]
    NotFound(UserId),
    #[error("A user with this email already exists")]
    EmailTaken,
    #[error("The last admin cannot be demoted")]
    LastAdmin,
    #[error("unexpected failure while updating a user")]
    Unexpected(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteUserError {
    #[error("Forbidden")]
    Forbidden,
    #[error("User with ID {0} not found")]
    NotFound(UserId),
    #[error("The user owns accounts and cannot be deleted")]
    OwnsAccounts,
    #[error("Admins cannot delete their own account")]
    DeletingSelf,
    #[error("The last admin cannot be deleted")]
    LastAdmin,
    #[error("unexpected failure while deleting a user")]
    Unexpected(#[source] anyhow::Error),
}

/// The start-up administrator could not be provisioned.
#[derive(Debug, thiserror::Error)]
#[error("could not provision the administrator account")]
pub struct EnsureAdminError(#[source] pub anyhow::Error);

crate::errors::unexpected_from_infrastructure!(
    ListUsersError => ListUsersError::Unexpected,
    GetUserError => GetUserError::Unexpected,
    CreateUserError => CreateUserError::Unexpected,
    UpdateUserError => UpdateUserError::Unexpected,
    DeleteUserError => DeleteUserError::Unexpected,
    EnsureAdminError => EnsureAdminError,
);
