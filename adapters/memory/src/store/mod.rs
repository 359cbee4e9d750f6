//! Every storage port in this process's memory (`DATABASE_URL=memory://`): for integration
//! environments and tests that want the service's behaviour without a database. One
//! instance only, and everything is lost at exit.
//!
//! The tables live behind one mutex, and each port method does all its work under one
//! acquisition of it, so that every method is a serialisable transaction: a refused change
//! leaves nothing behind (each method checks everything before it writes), two transfers
//! cannot both spend the same money, two claims never take the same job. The lock is never
//! held across an `.await`.

mod accounts;
mod jobs;
mod one_time_tokens;
mod posts;
mod sessions;
mod tables;
mod users;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use domain::ports::{NoTelemetry, NoTraces, NotReady, ReadinessProbe, Telemetry, TraceContext};
use domain::{JobKind, NewJob, Outbox, Page, PageRequest};

use self::tables::Tables;

/// Every repository port, the job queue and the readiness probe on shared in-memory tables.
/// Clones share the tables.
#[derive(Clone)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
    /// Wakes an idle worker when jobs are stored (see [`JobRepository::wait_for_jobs`]).
    ///
    /// [`JobRepository::wait_for_jobs`]: domain::ports::JobRepository::wait_for_jobs
    jobs_stored: Arc<tokio::sync::Notify>,
    /// Counts the jobs stored (`jobs_enqueued_total`).
    telemetry: Arc<dyn Telemetry>,
    /// The trace each stored job is stamped with when it names none.
    traces: Arc<dyn TraceContext>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MemoryStore")
            .finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// Empty tables.
    #[must_use]
    pub fn new() -> Self {
        Self {
            tables: Arc::default(),
            jobs_stored: Arc::default(),
            telemetry: Arc::new(NoTelemetry),
            traces: Arc::new(NoTraces),
        }
    }

    /// Counts stored jobs into `telemetry`.
    #[must_use]
    pub fn with_telemetry(self, telemetry: Arc<dyn Telemetry>) -> Self {
        Self { telemetry, ..self }
    }

    /// Stamps stored jobs with the current trace of `traces`.
    #[must_use]
    pub fn with_traces(self, traces: Arc<dyn TraceContext>) -> Self {
        Self { traces, ..self }
    }

    /// The tables, for one transaction. A panic while they were held cannot have left a
    /// change half made (methods check before they write), so a poisoned lock is taken as is.
    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The jobs of `outbox` stamped with the current trace where they name none, ready to
    /// store.
    fn traced(&self, outbox: Outbox) -> Vec<NewJob> {
        let current = self.traces.current();
        outbox
            .into_jobs()
            .into_iter()
            .map(|job| NewJob {
                trace: job.trace.or(current),
                ..job
            })
            .collect()
    }

    /// Jobs of these kinds were stored (the transaction is over): counts them and wakes a
    /// worker.
    fn jobs_committed(&self, kinds: &[JobKind]) {
        for kind in kinds {
            self.telemetry.jobs_enqueued(kind.as_str(), 1);
        }
        if !kinds.is_empty() {
            self.signal_jobs();
        }
    }

    /// Wakes one idle worker; kept when none waits, so a worker between two claims does not
    /// miss it.
    fn signal_jobs(&self) {
        self.jobs_stored.notify_one();
    }

    async fn jobs_signalled(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.jobs_stored.notified()).await;
    }
}

/// The memory is always there: ready.
#[async_trait]
impl ReadinessProbe for MemoryStore {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Result<(), NotReady> {
        drop(self.tables());
        Ok(())
    }
}

/// One page of `items`, already filtered and in the listing's order.
fn page_of<T: Clone>(items: &[T], request: PageRequest) -> Page<T> {
    let offset = usize::try_from(request.offset()).unwrap_or(usize::MAX);
    let limit = usize::try_from(request.limit()).unwrap_or(usize::MAX);
    Page {
        items: items.iter().skip(offset).take(limit).cloned().collect(),
        request,
        total: u64::try_from(items.len()).unwrap_or(u64::MAX),
    }
}

/// Whether `text`, lower-cased, contains `term` (already lower-cased by the domain).
fn contains_folded(text: &str, term: &str) -> bool {
    text.to_lowercase().contains(term)
}
