//! Translation of storage errors into the ports' error variants.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::ports::RepositoryError;

/// Any Diesel error without business meaning.
pub(crate) fn unexpected(error: DieselError) -> RepositoryError {
    RepositoryError(anyhow::Error::new(error))
}

/// A connection could not be had from the pool.
pub(crate) fn pool_error(
    error: diesel_async::pooled_connection::deadpool::PoolError,
) -> RepositoryError {
    RepositoryError(anyhow::Error::new(error).context("no database connection available"))
}

/// Whether `error` violates the unique constraint `constraint`.
///
/// PostgreSQL reports the constraint's name. SQLite reports none; its message names the
/// columns instead ("UNIQUE constraint failed: users.email"), so the SQLite side is
/// recognised by `columns`, the one place where we must read a message.
pub(crate) fn is_unique_violation(error: &DieselError, constraint: &str, columns: &str) -> bool {
    let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = error else {
        return false;
    };
    match info.constraint_name() {
        Some(name) => name == constraint,
        None => info
            .message()
            .strip_prefix("UNIQUE constraint failed: ")
            .is_some_and(|failed| failed == columns),
    }
}
