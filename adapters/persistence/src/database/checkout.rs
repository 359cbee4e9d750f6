//! A connection checked out of the pool, which goes back only if the work on it finished
//! and left it outside any transaction; and the deadline of that work.
//!
//! Every repository operation has a deadline (`DATABASE_TIMEOUT_SECONDS`): the wait for a
//! connection and the statements on it must finish by then, or the operation fails as
//! [`RepositoryError::unavailable`] (the API answers 503). A database that stopped
//! answering mid-statement (a network partition, a blackholed connection) would otherwise
//! hold the request, and its connection, for as long as TCP takes to notice: minutes. The
//! connection of work cut short is closed rather than pooled, since it may still be waiting
//! for an answer.
//!
//! A request whose future is dropped part-way (its client disconnected, an HTTP/2 stream
//! was reset, a deadline passed) can leave its connection between a statement and the
//! `COMMIT`. diesel-async does not roll back on drop, and the pool only looks at a
//! connection again at its next checkout, so until then the connection would sit idle in
//! the pool inside the transaction, holding its row locks (or SQLite's write lock) and
//! stalling every request that needs those rows. Such a connection is closed instead:
//! the database then aborts the transaction at once, and the pool opens a new one when
//! it needs it.

use std::ops::{Deref, DerefMut};

use deadpool::managed::{Manager, Object, Pool};
use diesel_async::pooled_connection::PoolableConnection;
use domain::ports::{RepositoryError, Telemetry};
use tokio::time::{Instant, error::Elapsed};

use crate::errors::pool_error;

/// See the module documentation. `M` is the pool's manager (one per backend).
pub(crate) struct Checkout<M: Manager>
where
    M::Type: PoolableConnection,
{
    object: Option<Object<M>>,
    /// The work on the connection finished (well or not): it may go back to the pool.
    settled: bool,
}

impl<M> Checkout<M>
where
    M: Manager<Error = diesel_async::pooled_connection::PoolError>,
    M::Type: PoolableConnection,
{
    /// Waits for a connection of `pool` (up to the pool's wait timeout).
    pub(crate) async fn of(pool: &Pool<M>) -> Result<Self, RepositoryError> {
        Ok(Self {
            object: Some(pool.get().await.map_err(pool_error)?),
            settled: false,
        })
    }

    /// [`Checkout::timed`], failing as unavailable at `deadline`.
    pub(crate) async fn before(
        deadline: Instant,
        pool: &Pool<M>,
        telemetry: &dyn Telemetry,
    ) -> Result<Self, RepositoryError> {
        tokio::time::timeout_at(deadline, Self::timed(pool, telemetry))
            .await
            .map_err(|_| {
                RepositoryError::unavailable(anyhow::anyhow!(
                    "no database connection before the deadline"
                ))
            })?
    }

    /// The outcome of work on this connection run under a deadline: the work's own result
    /// when it finished (and the connection may be pooled again), or `unavailable` when the
    /// deadline cut it short (and the connection is closed on drop).
    pub(crate) fn settle<T>(
        &mut self,
        outcome: Result<Result<T, RepositoryError>, Elapsed>,
    ) -> Result<T, RepositoryError> {
        match outcome {
            Ok(result) => {
                self.settled = true;
                result
            }
            Err(_) => Err(RepositoryError::unavailable(anyhow::anyhow!(
                "no answer from the database before the deadline"
            ))),
        }
    }

    /// [`Checkout::of`], with the wait recorded in `telemetry` (got a connection or not).
    pub(crate) async fn timed(
        pool: &Pool<M>,
        telemetry: &dyn Telemetry,
    ) -> Result<Self, RepositoryError> {
        let waiting = std::time::Instant::now();
        let checkout = Self::of(pool).await;
        telemetry.database_connection_waited(waiting.elapsed().as_secs_f64());
        checkout
    }
}

impl<M: Manager> Deref for Checkout<M>
where
    M::Type: PoolableConnection,
{
    type Target = M::Type;

    fn deref(&self) -> &M::Type {
        self.object.as_deref().expect("present until dropped")
    }
}

impl<M: Manager> DerefMut for Checkout<M>
where
    M::Type: PoolableConnection,
{
    fn deref_mut(&mut self) -> &mut M::Type {
        self.object.as_deref_mut().expect("present until dropped")
    }
}

impl<M: Manager> Drop for Checkout<M>
where
    M::Type: PoolableConnection,
{
    fn drop(&mut self) {
        let Some(mut object) = self.object.take() else {
            return;
        };
        if !self.settled {
            tracing::info!(
                "a connection whose work was cut short (a deadline, a cancelled request) is closed, not pooled"
            );
            drop(Object::take(object));
        } else if object.is_broken() {
            tracing::info!("a connection left inside a transaction is closed, not pooled");
            drop(Object::take(object));
        }
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use diesel_async::{
        AsyncConnection, RunQueryDsl, SimpleAsyncConnection as _, TransactionManager,
    };

    use crate::database::Pool as Backend;
    use crate::testing::TestDatabase;

    use super::Checkout;

    /// Opens a transaction on a checkout of `holder`, takes a lock in it, and drops the
    /// checkout as a cancelled request would; then tries to take the same lock through
    /// another pool (so that the first pool's next checkout cannot be what frees it).
    async fn a_connection_dropped_inside_a_transaction_releases_its_locks(
        test_database: TestDatabase,
    ) {
        let holder = test_database.connect().await;
        let other = test_database.connect().await;

        match holder.pool() {
            Backend::Postgres(pool) => {
                let mut checkout = Checkout::of(pool).await.unwrap();
                begin(&mut *checkout).await;
                checkout
                    .batch_execute("SELECT pg_advisory_xact_lock(42)")
                    .await
                    .unwrap();
                drop(checkout);
            }
            Backend::Sqlite(pool) => {
                let mut checkout = Checkout::of(pool).await.unwrap();
                begin(&mut *checkout).await;
                checkout
                    .batch_execute("UPDATE users SET role = role WHERE 0")
                    .await
                    .unwrap();
                drop(checkout);
            }
        }

        let taken = match other.pool() {
            Backend::Postgres(pool) => {
                let mut checkout = Checkout::of(pool).await.unwrap();
                checkout
                    .batch_execute("SET lock_timeout = '2s'")
                    .await
                    .unwrap();
                diesel::sql_query("SELECT pg_advisory_lock(42)")
                    .execute(&mut *checkout)
                    .await
            }
            Backend::Sqlite(pool) => {
                let mut checkout = Checkout::of(pool).await.unwrap();
                checkout
                    .batch_execute("PRAGMA busy_timeout = 2000")
                    .await
                    .unwrap();
                diesel::sql_query("UPDATE users SET role = role WHERE 0")
                    .execute(&mut *checkout)
                    .await
            }
        };
        assert!(
            taken.is_ok(),
            "the dropped transaction still holds its lock: {taken:?}"
        );
    }

    async fn begin<C: AsyncConnection>(connection: &mut C) {
        C::TransactionManager::begin_transaction(connection)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn on_sqlite_a_connection_dropped_inside_a_transaction_releases_its_locks() {
        a_connection_dropped_inside_a_transaction_releases_its_locks(TestDatabase::sqlite()).await;
    }

    #[tokio::test]
    async fn on_postgres_a_connection_dropped_inside_a_transaction_releases_its_locks() {
        let Some(test_database) = TestDatabase::postgres().await else {
            return;
        };
        a_connection_dropped_inside_a_transaction_releases_its_locks(test_database).await;
    }
}
