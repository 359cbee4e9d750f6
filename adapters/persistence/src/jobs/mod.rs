//! The job queue on Diesel: enqueueing (alone, or with another repository's write through
//! its outbox and [`insert_jobs!`]), the wake-ups around it (`signals`, `listener`), claims under leases (`claims`), finishing and recovering
//! leases, and the admins' view; the rows are in `rows`.
//!
//! PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so any number of processes share one
//! queue without blocking each other. SQLite claims with one `UPDATE ... WHERE id IN
//! (SELECT ... LIMIT n)`, atomic under its single writer lock: one process at a time.
//!
//! Status predicates are SQL literals, not bind parameters, so that PostgreSQL can prove
//! them against the partial indexes' predicates even in a generic prepared plan.

mod admin;
mod claims;
mod listener;
mod rows;
mod signals;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::RunQueryDsl;
use domain::ports::{
    ClaimRequest, Enqueued, JobQueue, JobRepository, LeaseOwner, RepositoryError,
    RetryJobRecordError,
};
use domain::{
    AfterFailure, Job, JobId, JobPayload, JobQuery, JobStatus, LEASE_EXPIRED_ERROR, NewJob, Page,
};

use self::rows::{ENDED_LEASE, FailedAttempt, count, ids};
pub(crate) use self::rows::{JOBS_CHANNEL, NewJobRow, NotifyWorkers, insert_jobs};
pub use self::signals::JobSignals;
use crate::database::Database;
use crate::errors::unexpected;
use crate::schema::jobs;
use crate::sql_types::{DbId, DbTime};

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
    signals: JobSignals,
}

impl DieselJobRepository {
    /// The queue on `database`, waking the workers that wait on `signals`.
    #[must_use]
    pub fn new(database: Database, signals: JobSignals) -> Self {
        Self { database, signals }
    }
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

#[async_trait]
impl JobQueue for DieselJobRepository {
    #[tracing::instrument(name = "db jobs.enqueue", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), job_id = %job.id, kind = %job.kind))]
    async fn enqueue(&self, job: NewJob) -> Result<Enqueued, RepositoryError> {
        let (rows, staged) = self.signals.stage(job.into());
        let stored = with_connection!(self.database, |connection| {
            let stored: diesel::QueryResult<usize> =
                async { insert_jobs!(connection, &rows) }.await;
            stored.map_err(unexpected)?
        });
        if stored == 0 {
            return Ok(Enqueued::Duplicate);
        }
        self.signals.committed(staged);
        Ok(Enqueued::Created)
    }
}

#[async_trait]
impl JobRepository for DieselJobRepository {
    #[tracing::instrument(name = "db jobs.claim", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), limit = request.limit))]
    async fn claim(&self, request: &ClaimRequest) -> Result<Vec<Job>, RepositoryError> {
        claims::claim(&self.database, request).await
    }

    #[tracing::instrument(name = "db jobs.succeed", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), jobs = ids.len()))]
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
                    jobs::payload.eq(JobPayload::SPENT),
                    &ENDED_LEASE,
                    jobs::updated_at.eq(DbTime(now)),
                ))
                .execute(connection)
                .await
                .map_err(unexpected)?
        });
        Ok(count(affected))
    }

    #[tracing::instrument(name = "db jobs.fail", skip(self, error, now), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
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
            last_error: domain::stored_error(error),
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

    #[tracing::instrument(name = "db jobs.release", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), jobs = ids.len()))]
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
            self.signals.wake();
        }
        Ok(count(affected))
    }

    #[tracing::instrument(name = "db jobs.extend_leases", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name(), jobs = ids.len()))]
    async fn extend_leases(
        &self,
        owner: LeaseOwner,
        ids: &[JobId],
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError> {
        let ids = self::ids(ids);
        let affected = with_connection!(self.database, |connection| {
            diesel::update(held_by!(owner, &ids))
                .set((
                    jobs::locked_until.eq(DbTime(until)),
                    jobs::updated_at.eq(DbTime(now)),
                ))
                .execute(connection)
                .await
                .map_err(unexpected)?
        });
        Ok(count(affected))
    }

    #[tracing::instrument(name = "db jobs.recover_expired", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
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
                    jobs::last_error.eq(Some(LEASE_EXPIRED_ERROR)),
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
            self.signals.wake();
        }
        Ok(count(affected))
    }

    #[tracing::instrument(name = "db jobs.prune", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
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

    #[tracing::instrument(name = "db jobs.wait_for_jobs", level = "debug", skip_all, fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn wait_for_jobs(&self, timeout: Duration) {
        self.signals.wait(timeout).await;
    }

    #[tracing::instrument(name = "db jobs.list", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn list(&self, query: &JobQuery) -> Result<Page<Job>, RepositoryError> {
        admin::list(&self.database, query).await
    }

    #[tracing::instrument(name = "db jobs.retry", skip(self), fields(otel.kind = "client", db.system.name = self.database.system_name()))]
    async fn retry(&self, id: JobId, now: DateTime<Utc>) -> Result<Job, RetryJobRecordError> {
        admin::retry(&self.database, &self.signals, id, now).await
    }
}
