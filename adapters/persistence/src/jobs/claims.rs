//! Claims: the ready jobs of the asked kinds, taken under a lease in one statement per
//! backend.

use diesel::sql_types::{Array, BigInt, Text, Untyped};
use diesel_async::RunQueryDsl;
use domain::Job;
use domain::ports::{ClaimRequest, RepositoryError};

use super::rows::JobRow;
use crate::database::{Checkout, Database, Pool};
use crate::errors::unexpected;
use crate::prepared::postgres_statement;
use crate::sql_types::{DbId, DbTime, Id, UtcTime};

/// The columns of [`JobRow`], for the raw claims.
macro_rules! job_columns {
    () => {
        "id, queue, kind, payload, status, attempts, max_attempts, run_at, last_error, \
         created_at, updated_at, trace_parent"
    };
}

/// Locks the ready rows it takes and skips the ones other workers hold: concurrent claims
/// never wait for each other nor return the same job. `$3` is now.
const POSTGRES_CLAIM: &str = concat!(
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, \
     locked_until = $2, updated_at = $3 \
     WHERE id IN (SELECT id FROM jobs \
         WHERE status IN ('queued', 'failed') AND run_at <= $3 AND kind = ANY($4) \
         ORDER BY run_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) \
     RETURNING ",
    job_columns!()
);

postgres_statement! {
    /// [`POSTGRES_CLAIM`] with its parameters. Rows are read by name into [`JobRow`].
    struct PostgresClaim(POSTGRES_CLAIM) -> Untyped {
        owner: DbId as Id,
        until: DbTime as UtcTime,
        now: DbTime as UtcTime,
        kinds: Vec<String> as Array<Text>,
        limit: i64 as BigInt,
    }
}

/// One statement under SQLite's write lock. `{kinds}` becomes one placeholder per kind.
const SQLITE_CLAIM: &str = concat!(
    "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ?, \
     locked_until = ?, updated_at = ? \
     WHERE id IN (SELECT id FROM jobs \
         WHERE status IN ('queued', 'failed') AND run_at <= ? AND kind IN ({kinds}) \
         ORDER BY run_at, id LIMIT ?) \
     RETURNING ",
    job_columns!()
);

/// Takes up to `request.limit` ready jobs of `request.kinds` for `request.owner`.
pub(super) async fn claim(
    database: &Database,
    request: &ClaimRequest,
) -> Result<Vec<Job>, RepositoryError> {
    if request.kinds.is_empty() || request.limit == 0 {
        return Ok(Vec::new());
    }
    let owner = DbId(request.owner.0);
    let until = DbTime(request.lease_ends_at());
    let now = DbTime(request.now);
    let limit = i64::from(request.limit);
    let deadline = database.deadline();
    let rows: Vec<JobRow> = match database.pool() {
        Pool::Postgres(pool) => {
            let mut connection = Checkout::before(deadline, pool, database.telemetry()).await?;
            let claim = PostgresClaim {
                owner,
                until,
                now,
                kinds: request
                    .kinds
                    .iter()
                    .map(|kind| kind.as_str().to_owned())
                    .collect(),
                limit,
            };
            let outcome = tokio::time::timeout_at(deadline, async {
                claim.load(&mut *connection).await.map_err(unexpected)
            })
            .await;
            connection.settle(outcome)?
        }
        Pool::Sqlite(pool) => {
            let mut connection = Checkout::before(deadline, pool, database.telemetry()).await?;
            let placeholders = vec!["?"; request.kinds.len()].join(", ");
            let mut query = diesel::sql_query(SQLITE_CLAIM.replace("{kinds}", &placeholders))
                .into_boxed::<diesel::sqlite::Sqlite>()
                .bind::<Id, _>(owner)
                .bind::<UtcTime, _>(until)
                .bind::<UtcTime, _>(now)
                .bind::<UtcTime, _>(now);
            for kind in &request.kinds {
                query = query.bind::<Text, _>(kind.as_str().to_owned());
            }
            let query = query.bind::<BigInt, _>(limit);
            let outcome = tokio::time::timeout_at(deadline, async {
                query.load(&mut *connection).await.map_err(unexpected)
            })
            .await;
            connection.settle(outcome)?
        }
    };
    rows.into_iter().map(Job::try_from).collect()
}
