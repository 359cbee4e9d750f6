//! Translation of storage errors into the ports' error variants.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::ports::RepositoryError;

/// Any Diesel error without business meaning; a lost connection is the database being
/// unavailable, not a fault of the statement.
pub(crate) fn unexpected(error: DieselError) -> RepositoryError {
    if is_connection_lost(&error) {
        return RepositoryError::unavailable(error);
    }
    RepositoryError(anyhow::Error::new(error))
}

/// Whether the statement failed because the connection did: closed by the server, reset,
/// or unable to send. (diesel-async reports the driver's I/O errors with these kinds.)
fn is_connection_lost(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | DieselError::BrokenTransactionManager
    )
}

/// A connection could not be had from the pool: the wait timed out, or a new connection
/// could not be opened. Either way the database is out of reach for now.
pub(crate) fn pool_error(
    error: diesel_async::pooled_connection::deadpool::PoolError,
) -> RepositoryError {
    RepositoryError::unavailable(
        anyhow::Error::new(error).context("no database connection available"),
    )
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

/// Whether `error` is worth retrying the transaction for: a serialisation failure or a
/// deadlock (PostgreSQL), or a busy database (SQLite). Diesel has a kind only for the first;
/// the others are recognised by their messages, which both databases keep stable.
pub(crate) fn is_transient(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("deadlock detected")
                || message.contains("database is locked")
                || message.contains("database table is locked")
        }
        _ => false,
    }
}

/// Whether `error` is a foreign-key refusal. PostgreSQL reports the kind; SQLite reports
/// only its message ("FOREIGN KEY constraint failed").
pub(crate) fn is_foreign_key_violation(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => true,
        DieselError::DatabaseError(_, info) => info.message() == "FOREIGN KEY constraint failed",
        _ => false,
    }
}
