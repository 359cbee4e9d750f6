//! Taking the database's write lock at the start of a transaction, before it reads.

use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::database::SqliteConnectionWrapper;

/// Makes a transaction take the database's write lock before it reads anything.
pub(crate) trait WriteFirst {
    fn lock_for_writing(&mut self) -> impl Future<Output = QueryResult<()>> + Send;
}

impl WriteFirst for AsyncPgConnection {
    /// Nothing: on PostgreSQL each caller takes the row locks it needs (guarded updates,
    /// `FOR UPDATE`), and unrelated writers need not wait.
    async fn lock_for_writing(&mut self) -> QueryResult<()> {
        Ok(())
    }
}

impl WriteFirst for SqliteConnectionWrapper {
    /// A write statement (touching no row) takes SQLite's write lock, waiting on the busy
    /// timeout; a transaction that read first would fail its upgrade instead.
    async fn lock_for_writing(&mut self) -> QueryResult<()> {
        diesel::sql_query("UPDATE accounts SET balance = balance WHERE 0")
            .execute(self)
            .await
            .map(drop)
    }
}
