//! A connection checked out of the pool, which goes back only if it is outside any
//! transaction.
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

use crate::errors::pool_error;

/// See the module documentation. `M` is the pool's manager (one per backend).
pub(crate) struct Checkout<M: Manager>(Option<Object<M>>)
where
    M::Type: PoolableConnection;

impl<M> Checkout<M>
where
    M: Manager<Error = diesel_async::pooled_connection::PoolError>,
    M::Type: PoolableConnection,
{
    /// Waits for a connection of `pool` (up to the pool's wait timeout).
    pub(crate) async fn of(pool: &Pool<M>) -> Result<Self, RepositoryError> {
        Ok(Self(Some(pool.get().await.map_err(pool_error)?)))
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
        self.0.as_deref().expect("present until dropped")
    }
}

impl<M: Manager> DerefMut for Checkout<M>
where
    M::Type: PoolableConnection,
{
    fn deref_mut(&mut self) -> &mut M::Type {
        self.0.as_deref_mut().expect("present until dropped")
    }
}

impl<M: Manager> Drop for Checkout<M>
where
    M::Type: PoolableConnection,
{
    fn drop(&mut self) {
        if let Some(mut object) = self.0.take()
            && object.is_broken()
        {
            tracing::info!(
                "a connection left inside a transaction (its request was cancelled) is closed, not pooled"
            );
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
