//! The job worker runtime: a driving adapter, like the HTTP server, that takes its input
//! from the job queue instead of a socket and hands it to the application's
//! [`JobHandler`].
//!
//! One [`Workers`] runs up to `concurrency` attempts at once:
//!
//! - **Claims** as many jobs as it has free slots plus one more round (prefetched, so that
//!   a slot that frees up starts its next job without a database round trip), only of the
//!   kinds its handler runs, each under a lease owned by this runtime. Idle, it waits for
//!   the repository's hint that jobs were enqueued, or polls every `poll_interval`.
//! - **Runs** each attempt in its own task, cancelled at 90 % of its lease counted from the
//!   claim (a job is never run twice at once because its first run outlived its lease). A
//!   panic is a retryable failure, not a dead worker.
//! - **Records** successes in batches (one statement for many jobs), failures one by one:
//!   retried after exponential backoff with jitter, or dead after the last attempt or a
//!   permanent failure.
//! - **Maintains** the queue every `maintenance_interval`: jobs whose lease expired (their
//!   worker died) become runnable again; finished jobs older than `retention` are deleted.
//! - **Stops** gracefully: no new claims; running attempts get a grace period; the ones
//!   still running after it are cancelled and their jobs, with the prefetched ones,
//!   released to the queue without counting the attempt. Nothing is lost: a job is finished, released, or (if the
//!   process dies) recovered after its lease. Delivery is therefore at least once.

use std::collections::{HashSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use application::{JobFailure, JobHandler};
use domain::ports::{ClaimRequest, Clock, JobRepository, LeaseOwner};
use domain::{AfterFailure, Job, JobId, JobKind, RetryPolicy};
use futures_util::FutureExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// The part of its lease an attempt may use, counted from the claim.
const ATTEMPT_SHARE_OF_LEASE: f64 = 0.9;
/// Most successes recorded by one statement.
const MAX_COMPLETION_BATCH: usize = 256;
/// Attempts at recording a batch of successes before leaving the jobs to lease recovery.
const COMPLETION_WRITE_ATTEMPTS: u32 = 5;

/// How the runtime behaves; see the crate documentation.
#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// Attempts running at once (at least 1).
    pub concurrency: usize,
    /// How long a claim holds. An attempt is cancelled at 90 % of it, counted from the
    /// claim.
    pub lease: Duration,
    /// How often an idle runtime looks for jobs that other processes enqueued.
    pub poll_interval: Duration,
    /// How often expired leases are recovered and finished jobs pruned.
    pub maintenance_interval: Duration,
    pub retry: RetryPolicy,
    /// How long succeeded and dead jobs are kept.
    pub retention: Duration,
}

impl WorkerConfig {
    /// Production defaults for `concurrency` workers: 60 s leases, polling every 500 ms,
    /// maintenance every 10 s, retries from 1 s doubling up to 1 h, 7 days of retention.
    #[must_use]
    pub fn with_concurrency(concurrency: usize) -> Self {
        Self {
            concurrency,
            lease: Duration::from_mins(1),
            poll_interval: Duration::from_millis(500),
            maintenance_interval: Duration::from_secs(10),
            retry: RetryPolicy {
                base: Duration::from_secs(1),
                max: Duration::from_hours(1),
            },
            retention: Duration::from_hours(168),
        }
    }
}

/// What a graceful stop did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Attempts that ended within the grace period.
    pub finished: usize,
    /// Jobs given back to the queue because their attempt was cancelled.
    pub released: u64,
}

/// A running worker runtime. Stop it with [`Workers::shutdown`].
#[derive(Debug)]
pub struct Workers {
    stop: watch::Sender<Option<Duration>>,
    runtime: JoinHandle<ShutdownReport>,
}

impl Workers {
    /// Starts claiming and running jobs of the kinds `handler` runs.
    pub fn start(
        jobs: Arc<dyn JobRepository>,
        handler: Arc<dyn JobHandler>,
        clock: Arc<dyn Clock>,
        config: WorkerConfig,
    ) -> Self {
        let (stop, stopped) = watch::channel(None);
        let runtime = Runtime {
            kinds: handler.kinds(),
            jobs,
            handler,
            clock,
            owner: LeaseOwner::generate(),
            held: Arc::default(),
            config: WorkerConfig {
                concurrency: config.concurrency.max(1),
                ..config
            },
        };
        tracing::info!(
            concurrency = runtime.config.concurrency,
            kinds = ?runtime.kinds.iter().map(JobKind::as_str).collect::<Vec<_>>(),
            "job workers started"
        );
        Self {
            stop,
            runtime: tokio::spawn(Arc::new(runtime).run(stopped)),
        }
    }

    /// Stops claiming, lets running attempts finish for up to `grace`, cancels the rest and
    /// releases their jobs, and records every outcome before returning.
    pub async fn shutdown(self, grace: Duration) -> ShutdownReport {
        // The runtime may have ended on its own (a panic): nothing to tell then.
        let _ = self.stop.send(Some(grace));
        match self.runtime.await {
            Ok(report) => {
                tracing::info!(
                    finished = report.finished,
                    released = report.released,
                    "job workers stopped"
                );
                report
            }
            Err(error) => {
                tracing::error!(%error, "the job worker runtime failed");
                ShutdownReport::default()
            }
        }
    }

    /// Stops at once without finishing, recording or releasing anything, as if the process
    /// had died: its jobs run again once their leases expire. For operators' emergency
    /// stops and for tests of lease recovery.
    pub fn abort(self) {
        self.runtime.abort();
    }
}

struct Runtime {
    jobs: Arc<dyn JobRepository>,
    handler: Arc<dyn JobHandler>,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
    owner: LeaseOwner,
    kinds: Vec<JobKind>,
    /// Jobs claimed and not yet finished: what a stop must release.
    held: Arc<Mutex<HashSet<JobId>>>,
}

/// Whether a stop was asked for, and with which grace period. A dropped [`Workers`] handle
/// counts as a stop without grace.
fn stop_requested(stopped: &watch::Receiver<Option<Duration>>) -> Option<Duration> {
    if stopped.has_changed().is_err() {
        return Some(Duration::ZERO);
    }
    *stopped.borrow()
}

impl Runtime {
    async fn run(
        self: Arc<Self>,
        mut stopped: watch::Receiver<Option<Duration>>,
    ) -> ShutdownReport {
        let (report_success, successes) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(Arc::clone(&self).record_successes(successes));
        let slots = Arc::new(Semaphore::new(self.config.concurrency));
        let mut running = JoinSet::new();
        // Claimed, waiting for a slot: at most one more round of jobs, so that a slot that
        // frees up never waits for a database round trip.
        let mut ready: VecDeque<(Job, Instant)> = VecDeque::new();
        let prefetch = self.config.concurrency;
        let mut next_maintenance = Instant::now();
        let grace = loop {
            if let Some(grace) = stop_requested(&stopped) {
                break grace;
            }
            while running.try_join_next().is_some() {}
            if Instant::now() >= next_maintenance {
                self.maintain().await;
                next_maintenance = Instant::now() + self.config.maintenance_interval;
            }
            self.start_ready(&mut ready, &slots, &mut running, &report_success)
                .await;
            let wanted = (slots.available_permits() + prefetch).saturating_sub(ready.len());
            if wanted == 0 {
                tokio::select! {
                    _ = stopped.changed() => {}
                    _ = running.join_next() => {}
                }
                continue;
            }
            match self.jobs.claim(&self.claim_request(wanted)).await {
                Ok(claimed) if claimed.is_empty() && ready.is_empty() => {
                    let idle = self
                        .config
                        .poll_interval
                        .min(next_maintenance.saturating_duration_since(Instant::now()));
                    tokio::select! {
                        _ = stopped.changed() => {}
                        () = self.jobs.wait_for_jobs(idle) => {}
                    }
                }
                Ok(claimed) if claimed.is_empty() => {
                    // Jobs wait for slots: wait for one to free up.
                    tokio::select! {
                        _ = stopped.changed() => {}
                        _ = running.join_next() => {}
                    }
                }
                Ok(claimed) => {
                    let claimed_at = Instant::now();
                    for job in claimed {
                        self.hold(job.id);
                        ready.push_back((job, claimed_at));
                    }
                }
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "could not claim jobs");
                    tokio::select! {
                        _ = stopped.changed() => {}
                        () = tokio::time::sleep(self.config.poll_interval) => {}
                    }
                }
            }
        };
        let finished = drain(&mut running, grace).await;
        drop(report_success);
        if recorder.await.is_err() {
            tracing::error!("the success recorder failed: those jobs run again after their lease");
        }
        // Running attempts that were cancelled, and jobs that never started.
        let released = self.release_held().await;
        ShutdownReport { finished, released }
    }

    /// Starts ready jobs in the free slots. A job whose lease is nearly over after waiting
    /// (it should not happen: jobs wait for one round of work at most) is released rather
    /// than started, so that no attempt outlives its lease.
    async fn start_ready(
        self: &Arc<Self>,
        ready: &mut VecDeque<(Job, Instant)>,
        slots: &Arc<Semaphore>,
        running: &mut JoinSet<()>,
        report_success: &mpsc::UnboundedSender<JobId>,
    ) {
        let mut stale = Vec::new();
        while !ready.is_empty() {
            let Ok(slot) = Arc::clone(slots).try_acquire_owned() else {
                break;
            };
            let Some((job, claimed_at)) = ready.pop_front() else {
                break;
            };
            let deadline = claimed_at + self.config.lease.mul_f64(ATTEMPT_SHARE_OF_LEASE);
            let time_left = deadline.saturating_duration_since(Instant::now());
            if time_left < self.config.lease / 10 {
                stale.push(job.id);
                continue;
            }
            running.spawn(Arc::clone(self).attempt(job, time_left, slot, report_success.clone()));
        }
        if !stale.is_empty() {
            for id in &stale {
                self.held().remove(id);
            }
            if let Err(error) = self
                .jobs
                .release(self.owner, &stale, self.clock.now())
                .await
            {
                tracing::error!(
                    error = format!("{error:#}"),
                    "could not release stale jobs; they run again after their lease"
                );
            }
        }
    }

    fn claim_request(&self, limit: usize) -> ClaimRequest {
        ClaimRequest {
            owner: self.owner,
            kinds: self.kinds.clone(),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            lease: self.config.lease,
            now: self.clock.now(),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashSet<JobId>> {
        // The set stays consistent whatever panicked while holding it.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn hold(&self, id: JobId) {
        self.held().insert(id);
    }

    /// One attempt at `job`, cancelled after `limit` (before its lease ends), holding one
    /// of the runtime's slots until its outcome is handed over.
    async fn attempt(
        self: Arc<Self>,
        job: Job,
        limit: Duration,
        _slot: OwnedSemaphorePermit,
        done: mpsc::UnboundedSender<JobId>,
    ) {
        let attempt = AssertUnwindSafe(self.handler.run(&job)).catch_unwind();
        let outcome = match tokio::time::timeout(limit, attempt).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_panic)) => Err(JobFailure::Retryable(anyhow::anyhow!(
                "the handler panicked"
            ))),
            Err(_elapsed) => Err(JobFailure::Retryable(anyhow::anyhow!(
                "the attempt did not finish within {limit:?}"
            ))),
        };
        match outcome {
            Ok(()) => {
                tracing::debug!(job_id = %job.id, kind = %job.kind, "job succeeded");
                // Recorded in a batch; the recorder outlives every attempt.
                let _ = done.send(job.id);
            }
            Err(failure) => self.record_failure(&job, failure).await,
        }
        self.held().remove(&job.id);
    }

    async fn record_failure(&self, job: &Job, failure: JobFailure) {
        let (permanent, error) = match failure {
            JobFailure::Retryable(error) => (false, error),
            JobFailure::Permanent(error) => (true, error),
        };
        let message = format!("{error:#}");
        let now = self.clock.now();
        let next = self
            .config
            .retry
            .after_failure(job, permanent, rand::random::<f64>(), now);
        match next {
            AfterFailure::RetryAt(retry_at) => tracing::warn!(
                job_id = %job.id, kind = %job.kind, attempt = job.attempts,
                max_attempts = job.max_attempts, %retry_at, error = %message,
                "job attempt failed; retrying later"
            ),
            AfterFailure::Dead => tracing::error!(
                job_id = %job.id, kind = %job.kind, attempt = job.attempts, permanent,
                error = %message, "job is dead"
            ),
        }
        match self
            .jobs
            .fail(self.owner, job.id, &message, next, now)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    job_id = %job.id,
                    "the job's lease was lost before its failure was recorded"
                );
            }
            Err(error) => tracing::error!(
                job_id = %job.id, error = format!("{error:#}"),
                "could not record the failure; the job runs again after its lease"
            ),
        }
    }

    /// Records successes as they come, many per statement.
    async fn record_successes(self: Arc<Self>, mut completed: mpsc::UnboundedReceiver<JobId>) {
        let mut batch = Vec::with_capacity(MAX_COMPLETION_BATCH);
        while completed.recv_many(&mut batch, MAX_COMPLETION_BATCH).await > 0 {
            for attempt in 1..=COMPLETION_WRITE_ATTEMPTS {
                match self
                    .jobs
                    .succeed(self.owner, &batch, self.clock.now())
                    .await
                {
                    Ok(recorded) => {
                        if recorded < batch.len() as u64 {
                            tracing::warn!(
                                lost = batch.len() as u64 - recorded,
                                "some jobs finished after their lease expired; they may run again"
                            );
                        }
                        break;
                    }
                    Err(error) if attempt < COMPLETION_WRITE_ATTEMPTS => {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            attempt,
                            "could not record successes; retrying"
                        );
                        tokio::time::sleep(Duration::from_millis(100) * 2_u32.pow(attempt)).await;
                    }
                    Err(error) => tracing::error!(
                        jobs = batch.len(),
                        error = format!("{error:#}"),
                        "could not record successes; those jobs run again after their lease"
                    ),
                }
            }
            batch.clear();
        }
    }

    async fn maintain(&self) {
        let now = self.clock.now();
        if let Err(error) = self.jobs.recover_expired(now).await {
            tracing::error!(
                error = format!("{error:#}"),
                "could not recover expired leases"
            );
        }
        let cutoff = chrono::Duration::from_std(self.config.retention)
            .ok()
            .and_then(|retention| now.checked_sub_signed(retention));
        if let Some(cutoff) = cutoff {
            match self.jobs.prune(cutoff).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "pruned finished jobs"),
                Err(error) => tracing::error!(
                    error = format!("{error:#}"),
                    "could not prune finished jobs"
                ),
            }
        }
    }

    /// Gives the jobs of cancelled attempts back to the queue.
    async fn release_held(&self) -> u64 {
        let held: Vec<JobId> = self.held().drain().collect();
        if held.is_empty() {
            return 0;
        }
        match self.jobs.release(self.owner, &held, self.clock.now()).await {
            Ok(released) => released,
            Err(error) => {
                tracing::error!(
                    jobs = held.len(),
                    error = format!("{error:#}"),
                    "could not release jobs; they run again after their lease"
                );
                0
            }
        }
    }
}

/// Waits for running attempts for up to `grace`, then cancels the rest. Returns how many
/// ended by themselves.
async fn drain(running: &mut JoinSet<()>, grace: Duration) -> usize {
    let deadline = Instant::now() + grace;
    let mut finished = 0;
    loop {
        match tokio::time::timeout_at(deadline, running.join_next()).await {
            Ok(Some(_)) => finished += 1,
            Ok(None) => return finished,
            Err(_elapsed) => {
                tracing::warn!(
                    cancelled = running.len(),
                    "grace period over: cancelling running jobs"
                );
                running.shutdown().await;
                return finished;
            }
        }
    }
}
