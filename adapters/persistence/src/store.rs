//! [`DieselStore`]: this adapter's parts put together on one database.

use std::sync::Arc;

use domain::ports::{Telemetry, TraceContext};

use crate::totals::Totals;
use crate::{
    CachedTotals, Database, DatabaseError, DieselAccountRepository, DieselJobRepository,
    DieselPostRepository, DieselSessionRepository, DieselUserRepository, JobSignals,
};

/// The PostgreSQL listener that wakes this process's workers (see
/// [`DieselStore::for_workers`]).
pub type JobListener = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Every repository of this adapter on one [`Database`], sharing what must be shared in a
/// process: the job queue's signals (a job stored with any write wakes this process's
/// workers) and the users' totals (any write through a users repository forgets them).
/// Cheap to clone; clones share both. Configure it (telemetry, traces) before taking
/// repositories from it: they keep the configuration they were made with.
#[derive(Debug, Clone)]
pub struct DieselStore {
    database: Database,
    jobs: JobSignals,
    user_totals: Arc<Totals>,
}

impl DieselStore {
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self {
            database,
            jobs: JobSignals::default(),
            user_totals: Arc::default(),
        }
    }

    /// Records connection waits and committed jobs in `telemetry`.
    #[must_use]
    pub fn with_telemetry(self, telemetry: Arc<dyn Telemetry>) -> Self {
        Self {
            database: self.database.with_telemetry(Arc::clone(&telemetry)),
            jobs: self.jobs.with_telemetry(telemetry),
            ..self
        }
    }

    /// Stamps stored jobs with the current trace of `traces`.
    #[must_use]
    pub fn with_traces(self, traces: Arc<dyn TraceContext>) -> Self {
        Self {
            jobs: self.jobs.with_traces(traces),
            ..self
        }
    }

    /// The connections (readiness, migrations, pool statistics).
    #[must_use]
    pub fn database(&self) -> &Database {
        &self.database
    }

    #[must_use]
    pub fn users(&self) -> CachedTotals {
        CachedTotals::sharing(
            DieselUserRepository::new(self.database.clone(), self.jobs.clone()),
            Arc::clone(&self.user_totals),
        )
    }

    /// Sessions, password resets and email verifications.
    #[must_use]
    pub fn sessions(&self) -> DieselSessionRepository {
        DieselSessionRepository::new(self.database.clone(), self.jobs.clone())
    }

    #[must_use]
    pub fn posts(&self) -> DieselPostRepository {
        DieselPostRepository::new(self.database.clone())
    }

    #[must_use]
    pub fn accounts(&self) -> DieselAccountRepository {
        DieselAccountRepository::new(self.database.clone())
    }

    /// The job queue: enqueueing, claims, outcomes, the admins' view.
    #[must_use]
    pub fn jobs(&self) -> DieselJobRepository {
        DieselJobRepository::new(self.database.clone(), self.jobs.clone())
    }

    /// The job queue for this process's workers, on a small pool of `connections` whose
    /// commits do not wait for the disk (see [`Database::relaxed_durability`]); and, on
    /// PostgreSQL, the listener that wakes them when any process enqueues, to run (spawned)
    /// for as long as they do.
    ///
    /// # Errors
    /// When the pool cannot be made.
    pub fn for_workers(
        &self,
        connections: usize,
    ) -> Result<(DieselJobRepository, Option<JobListener>), DatabaseError> {
        let bookkeeping = self.database.relaxed_durability(connections)?;
        let listener = self
            .jobs
            .listener(&bookkeeping)
            .map(|listener| Box::pin(listener) as JobListener);
        Ok((
            DieselJobRepository::new(bookkeeping, self.jobs.clone()),
            listener,
        ))
    }
}
