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
/// or unable to send (diesel-async reports the driver's I/O errors with these kinds), or
/// ended by the server itself, which says why before it closes: a shutdown or restart
/// (SQLSTATE 57P01, "terminating connection due to administrator command"), a crash of
/// another backend (57P02), an idle timeout, or a server that is starting up, shutting down
/// or recovering (57P03). Diesel gives those no kind and no SQLSTATE, so they are known by
/// PostgreSQL's messages, which it keeps stable.
fn is_connection_lost(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            message.starts_with("terminating connection")
                || message.starts_with("the database system is")
        }
        _ => false,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::DatabaseErrorInformation;

    struct Message(&'static str);

    impl DatabaseErrorInformation for Message {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database_error(kind: DatabaseErrorKind, message: &'static str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(Message(message)))
    }

    #[test]
    fn a_server_ending_the_connection_is_the_database_being_unavailable() {
        for message in [
            "terminating connection due to administrator command",
            "terminating connection because of crash of another server process",
            "terminating connection due to idle-session timeout",
            "the database system is shutting down",
            "the database system is starting up",
            "the database system is in recovery mode",
        ] {
            let error = unexpected(database_error(DatabaseErrorKind::Unknown, message));
            assert!(domain::ports::is_storage_unavailable(&error), "{message}");
        }
        let closed = unexpected(database_error(
            DatabaseErrorKind::ClosedConnection,
            "closed",
        ));
        assert!(domain::ports::is_storage_unavailable(&closed));
    }

    #[test]
    fn a_failing_statement_is_not() {
        for message in [
            "relation \"users\" does not exist",
            "division by zero",
            "canceling statement due to statement timeout",
        ] {
            let error = unexpected(database_error(DatabaseErrorKind::Unknown, message));
            assert!(!domain::ports::is_storage_unavailable(&error), "{message}");
        }
    }
}
