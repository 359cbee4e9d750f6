//! The transactional outbox: the jobs a write enqueues, recorded with the write.

use super::{JobKind, NewJob};

/// The jobs a write enqueues (the email that tells a user about it, say), recorded in the
/// value that describes the write: a new user, a new token, a password change. The
/// adapter that stores the value stores these jobs in the same transaction, so that both
/// are stored or neither is: a user is never created without their welcome email, and an
/// email is never sent for a change that was rolled back. Repository methods therefore
/// take no list of jobs of their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox(Vec<NewJob>);

impl Outbox {
    /// No jobs.
    #[must_use]
    pub const fn empty() -> Self {
        Self(Vec::new())
    }

    /// Whether the write enqueues nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The jobs, in the order they were recorded.
    #[must_use]
    pub fn jobs(&self) -> &[NewJob] {
        &self.0
    }

    /// The kinds of the jobs, in order (what a test of a use case checks).
    pub fn kinds(&self) -> impl Iterator<Item = &JobKind> {
        self.0.iter().map(|job| &job.kind)
    }

    /// These jobs, then `other`'s (a new user's welcome email, then whatever its
    /// verification token records).
    #[must_use]
    pub fn and(mut self, other: Self) -> Self {
        self.0.extend(other.0);
        self
    }

    /// The jobs, for the adapter to store.
    #[must_use]
    pub fn into_jobs(self) -> Vec<NewJob> {
        self.0
    }
}

impl From<NewJob> for Outbox {
    fn from(job: NewJob) -> Self {
        Self(vec![job])
    }
}

impl FromIterator<NewJob> for Outbox {
    fn from_iter<I: IntoIterator<Item = NewJob>>(jobs: I) -> Self {
        Self(jobs.into_iter().collect())
    }
}
