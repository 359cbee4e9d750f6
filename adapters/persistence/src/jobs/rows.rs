//! The jobs table's rows, what the statements that end a lease write, and the enqueueing
//! that other repositories' transactions share ([`insert_jobs!`]).

use diesel::prelude::*;
use domain::ports::RepositoryError;
use domain::{Job, JobId, JobKind, JobPayload, JobStatus, NewJob, QueueName};

use crate::schema::jobs;
use crate::sql_types::{DbId, DbTime};

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = jobs)]
pub(super) struct JobRow {
    pub(super) id: DbId,
    pub(super) queue: String,
    pub(super) kind: String,
    pub(super) payload: String,
    pub(super) status: String,
    pub(super) attempts: i32,
    pub(super) max_attempts: i32,
    pub(super) run_at: DbTime,
    pub(super) last_error: Option<String>,
    pub(super) created_at: DbTime,
    pub(super) updated_at: DbTime,
    pub(super) trace_parent: Option<String>,
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
    trace_parent: Option<String>,
}

/// A job's lease, ended: what every statement that takes a job out of `running` sets.
#[derive(AsChangeset)]
#[diesel(table_name = jobs, treat_none_as_null = true)]
pub(super) struct EndedLease {
    pub(super) locked_by: Option<DbId>,
    pub(super) locked_until: Option<DbTime>,
}

pub(super) const ENDED_LEASE: EndedLease = EndedLease {
    locked_by: None,
    locked_until: None,
};

/// The outcome of a failed attempt; a `None` run time is left as it is.
#[derive(AsChangeset)]
#[diesel(table_name = jobs)]
pub(super) struct FailedAttempt {
    pub(super) status: &'static str,
    pub(super) run_at: Option<DbTime>,
    pub(super) last_error: String,
    pub(super) updated_at: DbTime,
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
            trace_parent: job.trace.map(|trace| trace.to_string()),
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
            // Tracing is best effort: an unreadable value starts a new trace.
            trace: row.trace_parent.and_then(|trace| trace.parse().ok()),
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
        if stored > 0 {
            $crate::jobs::NotifyWorkers::notify_workers(&mut *$connection).await?;
        }
        diesel::QueryResult::Ok(stored)
    }};
}
pub(crate) use insert_jobs;

/// The channel on which PostgreSQL tells every process's listener that jobs were committed.
pub(crate) const JOBS_CHANNEL: &str = "jobs_enqueued";

/// Wakes the idle workers of every process when the transaction that stored jobs commits.
pub(crate) trait NotifyWorkers {
    fn notify_workers(&mut self) -> impl Future<Output = diesel::QueryResult<()>> + Send;
}

/// `NOTIFY` is delivered at commit, and not at all on rollback; notifications of one
/// transaction on one channel with one payload are folded into one.
impl NotifyWorkers for diesel_async::AsyncPgConnection {
    async fn notify_workers(&mut self) -> diesel::QueryResult<()> {
        use diesel_async::SimpleAsyncConnection as _;
        self.batch_execute(&format!("NOTIFY {JOBS_CHANNEL}")).await
    }
}

/// SQLite serves one process: the in-process wake-up is enough.
impl NotifyWorkers for crate::database::SqliteConnectionWrapper {
    async fn notify_workers(&mut self) -> diesel::QueryResult<()> {
        Ok(())
    }
}

/// Converts jobs for [`insert_jobs!`].
impl NewJobRow {
    pub(crate) fn kind(&self) -> &str {
        &self.kind
    }
}

pub(super) fn ids(ids: &[JobId]) -> Vec<DbId> {
    ids.iter().map(|id| DbId(id.as_uuid())).collect()
}

pub(super) fn count(affected: usize) -> u64 {
    u64::try_from(affected).unwrap_or(u64::MAX)
}
