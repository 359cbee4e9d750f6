//! Recording what attempts came to (failures one by one, successes in batches),
//! maintaining the queue (lease recovery, pruning), and releasing held jobs at a stop.

use std::sync::Arc;
use std::time::Duration;

use application::JobFailure;
use domain::ports::JobOutcome;
use domain::{AfterFailure, Job, JobId, TraceIdHex};
use tokio::sync::mpsc;

use super::Runtime;

/// Most successes recorded by one statement.
const MAX_COMPLETION_BATCH: usize = 256;
/// Attempts at recording a batch of successes before leaving the jobs to lease recovery.
const COMPLETION_WRITE_ATTEMPTS: u32 = 5;

impl Runtime {
    pub(super) async fn record_failure(
        &self,
        job: &Job,
        failure: JobFailure,
        took: Duration,
        trace_id: TraceIdHex,
    ) {
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
        let outcome = match next {
            AfterFailure::RetryAt(_) => JobOutcome::Failed,
            AfterFailure::Dead => JobOutcome::Dead,
        };
        self.telemetry
            .job_finished(job.kind.as_str(), outcome, took.as_secs_f64());
        match next {
            AfterFailure::RetryAt(retry_at) => tracing::warn!(
                job_id = %job.id, kind = %job.kind, attempt = job.attempts,
                max_attempts = job.max_attempts, %retry_at, error = %message, %trace_id,
                "job attempt failed; retrying later"
            ),
            AfterFailure::Dead => tracing::error!(
                job_id = %job.id, kind = %job.kind, attempt = job.attempts, permanent,
                error = %message, %trace_id, "job is dead"
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
    pub(super) async fn record_successes(
        self: Arc<Self>,
        mut completed: mpsc::UnboundedReceiver<JobId>,
    ) {
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

    pub(super) async fn maintain(&self) {
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

    /// Renews the lease of every held job (running or waiting for a slot) three times per
    /// lease, so that a job that runs longer than its lease is not claimed by another
    /// worker while this one is alive. A worker that dies stops renewing, and its jobs are
    /// recovered once their lease runs out. A failed renewal is retried at the next beat;
    /// if the database stays away longer than the lease, another worker may run the job
    /// too, and this one's outcome is then refused (fencing by lease owner).
    pub(super) async fn heartbeat(self: Arc<Self>) {
        let beat = self.config.lease / 3;
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::MAX);
        loop {
            tokio::time::sleep(beat).await;
            let held: Vec<JobId> = self.held().iter().copied().collect();
            if held.is_empty() {
                continue;
            }
            let now = self.clock.now();
            let until = now.checked_add_signed(lease).unwrap_or(now);
            if let Err(error) = self.jobs.extend_leases(self.owner, &held, until, now).await {
                tracing::warn!(
                    jobs = held.len(),
                    error = format!("{error:#}"),
                    "could not renew job leases; retrying at the next beat"
                );
            }
        }
    }

    /// Gives the jobs of cancelled attempts back to the queue.
    pub(super) async fn release_held(&self) -> u64 {
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
