//! One attempt at a job: in a span that continues the trace of the request that enqueued
//! it, bounded by the attempt timeout, its outcome counted and handed to the bookkeeping.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use application::JobFailure;
use domain::ports::JobOutcome;
use domain::{Job, JobId, TraceIdHex};
use futures_util::FutureExt as _;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;
use tracing::Instrument as _;

use super::Runtime;

impl Runtime {
    /// One attempt at `job`, cancelled after `limit` (the attempt timeout), holding one
    /// of the runtime's slots until its outcome is handed over. Its span continues the
    /// trace of the request that enqueued the job.
    pub(super) async fn attempt(
        self: Arc<Self>,
        job: Job,
        limit: Duration,
        slot: OwnedSemaphorePermit,
        done: mpsc::UnboundedSender<JobId>,
    ) {
        let span = tracing::info_span!(
            "job",
            job_id = %job.id,
            kind = %job.kind,
            attempt = job.attempts,
            trace_id = tracing::field::Empty,
            otel.name = %format_args!("job {}", job.kind),
            otel.kind = "consumer",
        );
        let trace_id = span
            .in_scope(|| self.traces.continue_trace(job.trace))
            .trace_id_hex();
        span.record("trace_id", trace_id.as_str());
        self.run_attempt(job, limit, slot, done, trace_id)
            .instrument(span)
            .await;
    }

    async fn run_attempt(
        self: Arc<Self>,
        job: Job,
        limit: Duration,
        _slot: OwnedSemaphorePermit,
        done: mpsc::UnboundedSender<JobId>,
        trace_id: TraceIdHex,
    ) {
        let ready_for = (self.clock.now() - job.run_at).to_std().unwrap_or_default();
        self.telemetry
            .job_started(job.kind.as_str(), ready_for.as_secs_f64());
        let started = Instant::now();
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
                tracing::info!(
                    job_id = %job.id,
                    kind = %job.kind,
                    attempt = job.attempts,
                    latency_ms = started.elapsed().as_secs_f64() * 1000.0,
                    %trace_id,
                    "job succeeded"
                );
                self.telemetry.job_finished(
                    job.kind.as_str(),
                    JobOutcome::Succeeded,
                    started.elapsed().as_secs_f64(),
                );
                // Recorded in a batch; the recorder outlives every attempt.
                let _ = done.send(job.id);
            }
            Err(failure) => {
                self.record_failure(&job, failure, started.elapsed(), trace_id)
                    .await;
            }
        }
        self.held().remove(&job.id);
    }
}
