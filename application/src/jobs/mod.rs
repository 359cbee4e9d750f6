//! Background jobs: the handler interface the worker runtime drives, the email jobs, and
//! the admins' view of the queue.
//!
//! Use cases never send an email inline: they store a job in the same transaction as the
//! data it is about (the transactional outbox), and a worker runs it later, at least once,
//! retrying with backoff. A job handler must therefore tolerate running twice.

mod admin;
mod mail;
#[cfg(test)]
mod tests;

use async_trait::async_trait;
use domain::{Job, JobKind};

pub use admin::{JobAdminService, ListJobsError, RetryJobError};
pub use mail::{
    MAIL_QUEUE, MailJobs, email_verification_job, password_changed_email_job,
    password_reset_email_job, welcome_email_job,
};

/// Why an attempt of a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobFailure {
    /// Another attempt may succeed (a server down, a timeout): retried with backoff.
    #[error("attempt failed")]
    Retryable(#[source] anyhow::Error),
    /// No attempt can succeed (a malformed payload, a refused recipient): the job is dead
    /// at once.
    #[error("failed permanently")]
    Permanent(#[source] anyhow::Error),
}

/// Runs jobs of some kinds. The worker runtime claims only the kinds its handler names.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// The kinds [`JobHandler::run`] accepts.
    fn kinds(&self) -> Vec<JobKind>;

    /// One attempt at `job`.
    ///
    /// # Errors
    /// [`JobFailure`] says whether another attempt makes sense.
    async fn run(&self, job: &Job) -> Result<(), JobFailure>;
}
