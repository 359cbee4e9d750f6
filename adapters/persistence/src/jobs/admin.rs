//! The admins' view of the queue: listing jobs by status and queue, and requeueing a dead
//! or failed one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::ports::{RepositoryError, RetryJobRecordError};
use domain::{Job, JobId, JobQuery, JobStatus, Page};

use super::is_retryable;
use super::rows::JobRow;
use crate::database::Database;
use crate::errors::{is_unique_violation, unexpected};
use crate::paging::{limit_offset, page_of};
use crate::schema::jobs;
use crate::sql_types::{DbId, DbTime};

/// The unique index that allows one pending job per dedup key (a retry may collide).
const DEDUP_UNIQUE: &str = "jobs_pending_dedup_key_idx";
const DEDUP_UNIQUE_COLUMNS: &str = "jobs.queue, jobs.dedup_key";

/// A page of jobs, newest first, filtered by status and queue.
pub(super) async fn list(
    database: &Database,
    query: &JobQuery,
) -> Result<Page<Job>, RepositoryError> {
    let (limit, offset) = limit_offset(query.page);
    let (rows, total) = with_connection!(database, |connection| {
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

/// Requeues a dead or failed job with its attempts reset.
pub(super) async fn retry(
    database: &Database,
    signals: &super::JobSignals,
    id: JobId,
    now: DateTime<Utc>,
) -> Result<Job, RetryJobRecordError> {
    let key = DbId(id.as_uuid());
    let (retried, current) = with_connection!(database, |connection| {
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
            Ok(Some(row)) => (Ok(Some(row)), None),
            Ok(None) => {
                let current: Option<JobRow> = jobs::table
                    .find(key)
                    .select(JobRow::as_select())
                    .first(connection)
                    .await
                    .optional()
                    .map_err(unexpected)?;
                (Ok(None), current)
            }
            // A refusal is an answer, not a failure of the connection: it is returned from
            // the block, and the connection goes back to the pool.
            Err(error) => (Err(error), None),
        }
    });
    let retried = match retried {
        Ok(retried) => retried,
        Err(error) if is_unique_violation(&error, DEDUP_UNIQUE, DEDUP_UNIQUE_COLUMNS) => {
            return Err(RetryJobRecordError::DuplicatePending);
        }
        Err(error) => return Err(unexpected(error).into()),
    };
    if let Some(row) = retried {
        signals.wake();
        return Ok(row.try_into()?);
    }
    match current {
        None => Err(RetryJobRecordError::NotFound),
        Some(row) => Err(RetryJobRecordError::NotRetryable(
            Job::try_from(row)?.status,
        )),
    }
}
