//! The runtime behind [`Workers`](crate::Workers): the claim loop here, each attempt in
//! `attempt`, and in `bookkeeping` recording outcomes, maintaining the queue and releasing
//! at a stop.

mod attempt;
mod backoff;
mod bookkeeping;

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use application::JobHandler;
use backoff::ClaimBackoff;
use domain::ports::{ClaimRequest, Clock, JobRepository, LeaseOwner, Telemetry, TraceContext};
use domain::{Job, JobId, JobKind};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use crate::{Observers, ShutdownReport, WorkerConfig};

pub(crate) struct Runtime {
    jobs: Arc<dyn JobRepository>,
    handler: Arc<dyn JobHandler>,
    clock: Arc<dyn Clock>,
    /// Counts finished attempts by kind and outcome, with their durations.
    telemetry: Arc<dyn Telemetry>,
    /// Gives each attempt the trace of the request that enqueued its job.
    traces: Arc<dyn TraceContext>,
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
    pub(crate) fn new(
        jobs: Arc<dyn JobRepository>,
        handler: Arc<dyn JobHandler>,
        clock: Arc<dyn Clock>,
        observers: Observers,
        config: WorkerConfig,
    ) -> Self {
        let runtime = Self {
            kinds: handler.kinds(),
            jobs,
            handler,
            clock,
            telemetry: observers.telemetry,
            traces: observers.traces,
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
        runtime
    }

    pub(crate) async fn run(
        self: Arc<Self>,
        mut stopped: watch::Receiver<Option<Duration>>,
    ) -> ShutdownReport {
        let (report_success, successes) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(Arc::clone(&self).record_successes(successes));
        let slots = Arc::new(Semaphore::new(self.config.concurrency));
        let mut running = JoinSet::new();
        // Claimed, waiting for a slot: at most one more round of jobs, so that a slot that
        // frees up never waits for a database round trip.
        let mut ready: VecDeque<Job> = VecDeque::new();
        let prefetch = self.config.concurrency;
        // Renews the leases of every held job while this loop and the stop that follows run;
        // aborted when they end (or when this future is dropped).
        let _heartbeat = AbortOnDropHandle::new(tokio::spawn(Arc::clone(&self).heartbeat()));
        let maintenance_interval = self.config.maintenance_interval.min(self.config.lease / 2);
        let mut next_maintenance = Instant::now();
        let mut backoff = ClaimBackoff::new(self.config.poll_interval);
        let grace = loop {
            if let Some(grace) = stop_requested(&stopped) {
                break grace;
            }
            while running.try_join_next().is_some() {}
            if Instant::now() >= next_maintenance {
                self.maintain().await;
                next_maintenance = Instant::now() + maintenance_interval;
            }
            self.start_ready(&mut ready, &slots, &mut running, &report_success);
            let wanted = (slots.available_permits() + prefetch).saturating_sub(ready.len());
            if wanted == 0 {
                tokio::select! {
                    _ = stopped.changed() => {}
                    _ = running.join_next() => {}
                }
                continue;
            }
            let claimed = self.jobs.claim(&self.claim_request(wanted)).await;
            if claimed.is_ok() {
                backoff.succeeded();
            }
            match claimed {
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
                    for job in claimed {
                        self.hold(job.id);
                        ready.push_back(job);
                    }
                }
                Err(error) => {
                    let wait = backoff.failed(&format_args!("{error:#}"));
                    tokio::select! {
                        _ = stopped.changed() => {}
                        () = self.jobs.wait_for_jobs(wait) => {}
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

    /// Starts ready jobs in the free slots. Their leases are renewed by the heartbeat
    /// however long they waited; each attempt is bounded by `attempt_timeout`.
    fn start_ready(
        self: &Arc<Self>,
        ready: &mut VecDeque<Job>,
        slots: &Arc<Semaphore>,
        running: &mut JoinSet<()>,
        report_success: &mpsc::UnboundedSender<JobId>,
    ) {
        while !ready.is_empty() {
            let Ok(slot) = Arc::clone(slots).try_acquire_owned() else {
                break;
            };
            let Some(job) = ready.pop_front() else {
                break;
            };
            running.spawn(Arc::clone(self).attempt(
                job,
                self.config.attempt_timeout,
                slot,
                report_success.clone(),
            ));
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
