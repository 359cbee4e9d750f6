//! The lock behind the last-admin rule: a deletion or demotion reads the admins under a
//! lock that concurrent changes of admins also take, so that two admins removing each other
//! at once cannot both succeed and leave the service without one.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::UserId;

use crate::database::SqliteConnectionWrapper;
use crate::schema::users;
use crate::sql_types::DbId;
use crate::write_lock::WriteFirst;

/// Reads every admin's id, locked against concurrent change until the transaction ends.
pub(crate) trait LockAdmins {
    fn lock_admins(&mut self) -> impl Future<Output = QueryResult<Vec<UserId>>> + Send;
}

impl LockAdmins for AsyncPgConnection {
    /// `FOR UPDATE` on the admin rows: a concurrent remover waits, then re-reads the rows
    /// as committed (a deleted admin is gone, a demoted one no longer matches).
    async fn lock_admins(&mut self) -> QueryResult<Vec<UserId>> {
        let ids: Vec<DbId> = users::table
            .filter(users::role.eq("admin"))
            .select(users::id)
            .for_update()
            .load(self)
            .await?;
        Ok(ids.into_iter().map(|id| UserId::from_uuid(id.0)).collect())
    }
}

impl LockAdmins for SqliteConnectionWrapper {
    /// SQLite's database-wide write lock first (see [`WriteFirst`]), then the read.
    async fn lock_admins(&mut self) -> QueryResult<Vec<UserId>> {
        self.lock_for_writing().await?;
        let ids: Vec<DbId> = users::table
            .filter(users::role.eq("admin"))
            .select(users::id)
            .load(self)
            .await?;
        Ok(ids.into_iter().map(|id| UserId::from_uuid(id.0)).collect())
    }
}
