//! The job queue on Diesel: enqueueing (alone, or inside another repository's transaction
//! through [`insert_jobs!`]), claims under leases, and the admins' view.
//!
//! PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so any number of processes share one
//! queue without blocking each other. SQLite claims with one `UPDATE ... WHERE id IN
//! (SELECT ... LIMIT n)`, atomic under its single writer lock: one process at a time.
//!
//! Status predicates are SQL literals, not bind parameters, so that PostgreSQL can prove
//! them against the partial indexes' predicates even in a generic prepared plan.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Text, Untyped};
use diesel_async::RunQueryDsl;
use domain::ports::{
    ClaimRequest, Enqueued, JobQueue, JobRepository, LeaseOwner, RepositoryError,
    RetryJobRecordError,
};
use domain::{
    AfterFailure, Job, JobId, JobKind, JobPayload, JobQuery, JobStatus, NewJob, Page, QueueName,
};

use crate::database::{Database, Pool};
use crate::errors::{is_unique_violation, pool_error, unexpected};
use crate::paging::{limit_offset, page_of};
use crate::prepared::postgres_statement;
use crate::schema::jobs;
use crate::sql_types::{DbId, DbTime, Id, UtcTime};

const DEDUP_UNIQUE: &str = "jobs_pending_dedup_key_idx";
const DEDUP_UNIQUE_COLUMNS: &str = "jobs.queue, jobs.dedup_key";
/// Longer errors are cut: a stack of causes is useful, a megabyte of HTML error page is not.
const MAX_ERROR_LENGTH: usize = 2_000;
/// What a succeeded job keeps of its payload (it may have carried a secret).
const SPENT_PAYLOAD: &str = "{}";
const LEASE_EXPIRED: &str = "The worker's lease expired before it finished (it stopped or hung)";

/// The columns of [`JobRow`], for the raw claims.
macro_rules! job_columns {
    () => {
        "id, queue, kind, payload, status, attempts, max_attempts, run_at, last_error, \
         created_at, updated_at"
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

fn is_running() -> diesel::expression::SqlLiteral<Bool> {
    sql::<Bool>("status = 'running'")
}

fn is_finished() -> diesel::expression::SqlLiteral<Bool> {
    sql::<Bool>("status IN ('succeeded', 'dead')")
}

fn is_retryable() -> diesel::expression::SqlLiteral<Bool> {
    sql::<Bool>("status IN ('dead', 'failed')")
}

/// [`JobQueue`] and [`JobRepository`] on PostgreSQL or SQLite.
#[derive(Debug, Clone)]
pub struct DieselJobRepository {
    database: Database,
}

impl DieselJobRepository {
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = jobs)]
struct JobRow {
    id: DbId,
    queue: String,
    kind: String,
    payload: String,
    status: String,
    attempts: i32,
    max_attempts: i32,
    run_at: DbTime,
    last_error: Option<String>,
    created_at: DbTime,
    updated_at: DbTime,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = jobs)]
pub(crate) struct NewJobRow {
    id: DbId,
    queue: String,
    kind: String,
    payload: String,
    status: &'static str,
    attempts: i32,
    max_attempts: i32,
    run_at: DbTime,
    dedup_key: Option<String>,
    created_at: DbTime,
    updated_at: DbTime,
}

/// A job's lease, ended: what every statement that takes a job out of `running` sets.
#[derive(AsChangeset)]
#[diesel(table_name = jobs, treat_none_as_null = true)]
struct EndedLease {
    locked_by: Option<DbId>,
    locked_until: Option<DbTime>,
}

const ENDED_LEASE: EndedLease = EndedLease {
    locked_by: None,
    locked_until: None,
};

/// The outcome of a failed attempt; a `None` run time is left as it is.
#[derive(AsChangeset)]
#[diesel(table_name = jobs)]
struct FailedAttempt {
    status: &'static str,
    run_at: Option<DbTime>,
    last_error: String,
    updated_at: DbTime,
}

impl From<NewJob> for NewJobRow {
    fn from(job: NewJob) -> Self {
        Self {
            id: DbId(job.id.as_uuid()),
            queue: job.queue.as_str().to_owned(),
            kind: job.kind.as_str().to_owned(),
            payload: job.payload.as_json().to_owned(),
            status: JobStatus::Queued.as_str(),
            attempts: 0,
            max_attempts: i32::try_from(job.max_attempts.get()).unwrap_or(i32::MAX),
            run_at: DbTime(job.run_at),
            dedup_key: job.dedup_key,
            created_at: DbTime(job.created_at),
            updated_at: DbTime(job.created_at),
        }
    }
}

impl TryFrom<JobRow> for Job {
    type Error = RepositoryError;

    fn try_from(row: JobRow) -> Result<Self, Self::Error> {
        let corrupt =
            |what: &str| RepositoryError(anyhow::anyhow!("corrupt job row {}: {what}", row.id.0));
        Ok(Self {
            id: JobId::from_uuid(row.id.0),
            queue: QueueName::parse(&row.queue).map_err(|_| corrupt("queue"))?,
            kind: JobKind::parse(&row.kind).map_err(|_| corrupt("kind"))?,
            payload: JobPayload::from_json(row.payload),
            status: row.status.parse().map_err(|_| corrupt("status"))?,
            attempts: u32::try_from(row.attempts).map_err(|_| corrupt("attempts"))?,
            max_attempts: u32::try_from(row.max_attempts).map_err(|_| corrupt("max_attempts"))?,
            run_at: row.run_at.0,
            last_error: row.last_error,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        })
    }
}

/// Inserts `$rows` (`Vec<NewJobRow>`) on `$connection`, skipping any that duplicates a
/// pending job's dedup key, and evaluates to the number stored. A macro, not a function,
/// because the connection type differs per backend (it is used inside `with_connection!`
/// and inside other repositories' transactions).
macro_rules! insert_jobs {
    ($connection:expr, $rows:expr) => {{
        let mut stored = 0_usize;
        for row in $rows {
            stored += diesel::insert_into($crate::schema::jobs::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(&mut *$connection)
                .await?;
        }
        diesel::QueryResult::Ok(stored)
    }};
}
pub(crate) use insert_jobs;

/// Converts jobs for [`insert_jobs!`].
pub(crate) fn job_rows(jobs: Vec<NewJob>) -> Vec<NewJobRow> {
    jobs.into_iter().map(NewJobRow::from).collect()
}

fn truncated(error: &str) -> String {
    match error.char_indices().nth(MAX_ERROR_LENGTH) {
        Some((cut, _)) => format!("{}…", &error[..cut]),
        None => error.to_owned(),
    }
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(lease)
        .ok()
        .and_then(|lease| now.checked_add_signed(lease))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The running jobs among `$ids` whose lease `$owner` holds: what a worker may finish,
/// fail or release (a worker whose lease expired can do none of these).
macro_rules! held_by {
    ($owner:expr, $ids:expr) => {
        jobs::table
            .filter(jobs::id.eq_any($ids))
            .filter(is_running())
            .filter(jobs::locked_by.eq(DbId($owner.0)))
    };
}

fn ids(ids: &[JobId]) -> Vec<DbId> {
    ids.iter().map(|id| DbId(id.as_uuid())).collect()
}

fn count(affected: usize) -> u64 {
    u64::try_from(affected).unwrap_or(u64::MAX)
}

#[async_trait]
impl JobQueue for DieselJobRepository {
    #[tracing::instrument(skip_all, fields(job_id = %job.id, kind = %job.kind))]
    async fn enqueue(&self, job: NewJob) -> Result<Enqueued, RepositoryError> {
        let rows = job_rows(vec![job]);
        let stored = with_connection!(self.database, |connection| {
            let stored: diesel::QueryResult<usize> =
                async { insert_jobs!(connection, &rows) }.await;
            stored.map_err(unexpected)?
        });
        if stored == 0 {
            return Ok(Enqueued::Duplicate);
        }
        self.database.signal_jobs_enqueued();
        Ok(Enqueued::Created)
    }
}

#[async_trait]
impl JobRepository for DieselJobRepository {
    #[tracing::instrument(skip_all, fields(limit = request.limit))]
    async fn claim(&self, request: &ClaimRequest) -> Result<Vec<Job>, RepositoryError> {
        if request.kinds.is_empty() || request.limit == 0 {
            return Ok(Vec::new());
        }
        let owner = DbId(request.owner.0);
        let until = DbTime(lease_end(request.now, request.lease));
        let now = DbTime(request.now);
        let limit = i64::from(request.limit);
        let rows: Vec<JobRow> = match self.database.pool() {
            Pool::Postgres(pool) => {
                let mut connection = pool.get().await.map_err(pool_error)?;
                PostgresClaim {
                    owner,
                    until,
                    now,
                    kinds: request
                        .kinds
                        .iter()
                        .map(|kind| kind.as_str().to_owned())
                        .collect(),
                    limit,
                }
                .load(&mut *connection)
                .await
                .map_err(unexpected)?
            }
            Pool::Sqlite(pool) => {
                let mut connection = pool.get().await.map_err(pool_error)?;
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
                query
                    .bind::<BigInt, _>(limit)
                    .load(&mut *connection)
                    .await
                    .map_err(unexpected)?
            }
        };
        rows.into_iter().map(Job::try_from).collect()
    }

    #[tracing::instrument(skip_all, fields(jobs = ids.len()))]
    async fn succeed(
        &self,
        owner: LeaseOwner,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError> {
        let ids = self::ids(ids);
        let affected = with_connection!(self.database, |connection| {
            diesel::update(held_by!(owner, &ids))
                .set((
                    jobs::status.eq(JobStatus::Succeeded.as_str()),
                    jobs::payload.eq(SPENT_PAYLOAD),
                    &ENDED_LEASE,
                    jobs::updated_at.eq(DbTime(now)),
                ))
                .execute(connection)
                .await
                .map_err(unexpected)?
        });
        Ok(count(affected))
    }

    #[tracing::instrument(skip(self, error, now))]
    async fn fail(
        &self,
        owner: LeaseOwner,
        id: JobId,
        error: &str,
        next: AfterFailure,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let (status, run_at) = match next {
            AfterFailure::RetryAt(at) => (JobStatus::Failed, Some(DbTime(at))),
            // A dead job keeps the time it last became runnable.
            AfterFailure::Dead => (JobStatus::Dead, None),
        };
        let attempt = FailedAttempt {
            status: status.as_str(),
            run_at,
            last_error: truncated(error),
            updated_at: DbTime(now),
        };
        let affected = with_connection!(self.database, |connection| {
            diesel::update(held_by!(owner, [DbId(id.as_uuid())]))
                .set((&attempt, &ENDED_LEASE))
                .execute(connection)
                .await
                .map_err(unexpected)?
        });
        Ok(affected == 1)
    }

    #[tracing::instrument(skip_all, fields(jobs = ids.len()))]
    async fn release(
        &self,
        owner: LeaseOwner,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError> {
        let ids = self::ids(ids);
        let affected = with_connection!(self.database, |connection| {
            diesel::update(held_by!(owner, &ids))
                .set((
                    jobs::status.eq(JobStatus::Queued.as_str()),
                    jobs::attempts.eq(jobs::attempts - 1),
                    jobs::run_at.eq(DbTime(now)),
                    &ENDED_LEASE,
                    jobs::updated_at.eq(DbTime(now)),
                ))
                .execute(connection)
                .await
                .map_err(unexpected)?
        });
        if affected > 0 {
            self.database.signal_jobs_enqueued();
        }
        Ok(count(affected))
    }

    #[tracing::instrument(skip(self))]
    async fn recover_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let now = DbTime(now);
        let affected = with_connection!(self.database, |connection| {
            let expired = || {
                jobs::table
                    .filter(is_running())
                    .filter(jobs::locked_until.lt(now))
            };
            let recovered = |status: JobStatus| {
                (
                    jobs::status.eq(status.as_str()),
                    jobs::last_error.eq(Some(LEASE_EXPIRED)),
                    &ENDED_LEASE,
                    jobs::updated_at.eq(now),
                )
            };
            // That was their last attempt: dead. The others may run again at once.
            let dead = diesel::update(expired().filter(jobs::attempts.ge(jobs::max_attempts)))
                .set(recovered(JobStatus::Dead))
                .execute(connection)
                .await
                .map_err(unexpected)?;
            let failed = diesel::update(expired())
                .set((recovered(JobStatus::Failed), jobs::run_at.eq(now)))
                .execute(connection)
                .await
                .map_err(unexpected)?;
            dead + failed
        });
        if affected > 0 {
            tracing::warn!(
                jobs = affected,
                "recovered jobs whose worker's lease expired"
            );
            self.database.signal_jobs_enqueued();
        }
        Ok(count(affected))
    }

    #[tracing::instrument(skip(self))]
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let affected = with_connection!(self.database, |connection| {
            diesel::delete(
                jobs::table
                    .filter(is_finished())
                    .filter(jobs::updated_at.lt(DbTime(before))),
            )
            .execute(connection)
            .await
            .map_err(unexpected)?
        });
        Ok(count(affected))
    }

    async fn wait_for_jobs(&self, timeout: Duration) {
        self.database.jobs_enqueued(timeout).await;
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self, query: &JobQuery) -> Result<Page<Job>, RepositoryError> {
        let (limit, offset) = limit_offset(query.page);
        let (rows, total) = with_connection!(self.database, |connection| {
            macro_rules! filtered {
                ($select:expr) => {{
                    let mut statement = $select.into_boxed();
                    if let Some(status) = query.status {
                        statement = statement.filter(jobs::status.eq(status.as_str()));
                    }
                    if let Some(queue) = &query.queue {
                        statement = statement.filter(jobs::queue.eq(queue.as_str()));
                    }
                    statement
                }};
            }
            let rows: Vec<JobRow> = filtered!(jobs::table.select(JobRow::as_select()))
                .order((jobs::created_at.desc(), jobs::id.desc()))
                .limit(limit)
                .offset(offset)
                .load(connection)
                .await
                .map_err(unexpected)?;
            let total: i64 = filtered!(jobs::table.count())
                .get_result(connection)
                .await
                .map_err(unexpected)?;
            (rows, total)
        });
        page_of(rows, query.page, total)
    }

    #[tracing::instrument(skip(self))]
    async fn retry(&self, id: JobId, now: DateTime<Utc>) -> Result<Job, RetryJobRecordError> {
        let key = DbId(id.as_uuid());
        let (retried, current) = with_connection!(self.database, |connection| {
            // One conditional UPDATE: two admins retrying at once requeue the job once.
            let retried = diesel::update(jobs::table.find(key).filter(is_retryable()))
                .set((
                    jobs::status.eq(JobStatus::Queued.as_str()),
                    jobs::attempts.eq(0),
                    jobs::run_at.eq(DbTime(now)),
                    jobs::updated_at.eq(DbTime(now)),
                ))
                .returning(JobRow::as_returning())
                .get_result(connection)
                .await
                .optional();
            match retried {
                Ok(Some(row)) => (Some(row), None),
                Ok(None) => {
                    let current: Option<JobRow> = jobs::table
                        .find(key)
                        .select(JobRow::as_select())
                        .first(connection)
                        .await
                        .optional()
                        .map_err(unexpected)?;
                    (None, current)
                }
                Err(error) if is_unique_violation(&error, DEDUP_UNIQUE, DEDUP_UNIQUE_COLUMNS) => {
                    return Err(RetryJobRecordError::DuplicatePending);
                }
                Err(error) => return Err(unexpected(error).into()),
            }
        });
        if let Some(row) = retried {
            self.database.signal_jobs_enqueued();
            return Ok(row.try_into()?);
        }
        match current {
            None => Err(RetryJobRecordError::NotFound),
            Some(row) => Err(RetryJobRecordError::NotRetryable(
                Job::try_from(row)?.status,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR_LENGTH + 10);

        let cut = truncated(&long);

        assert_eq!(cut.chars().count(), MAX_ERROR_LENGTH + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(truncated("short"), "short");
    }
}
