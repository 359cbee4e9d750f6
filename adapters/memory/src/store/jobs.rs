//! [`JobQueue`] and [`JobRepository`] in memory: claims under leases, with the databases'
//! order (oldest `run_at` first) and fencing (only the lease's owner finishes a job).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ports::{
    ClaimRequest, Enqueued, JobQueue, JobRepository, LeaseOwner, RepositoryError,
    RetryJobRecordError,
};
use domain::{
    AfterFailure, Job, JobId, JobPayload, JobQuery, JobStatus, LEASE_EXPIRED_ERROR, NewJob, Page,
    stored_error,
};

use super::tables::{JobRow, Tables};
use super::{MemoryStore, page_of};

impl Tables {
    /// Applies `change` to each of `ids` that `owner` still holds; returns how many.
    fn change_held(
        &mut self,
        owner: LeaseOwner,
        ids: &[JobId],
        mut change: impl FnMut(&mut JobRow),
    ) -> u64 {
        let mut changed = 0;
        for id in ids {
            if let Some(row) = self.jobs.get_mut(id).filter(|row| row.is_held_by(owner)) {
                change(row);
                changed += 1;
            }
        }
        changed
    }
}

/// Takes a job out of `running`: its lease ends.
fn end_lease(row: &mut JobRow, status: JobStatus, now: DateTime<Utc>) {
    row.job.status = status;
    row.job.updated_at = now;
    row.lease = None;
}

#[async_trait]
impl JobQueue for MemoryStore {
    async fn enqueue(&self, job: NewJob) -> Result<Enqueued, RepositoryError> {
        let jobs = self.traced(job.into());
        let kinds = self.tables().insert_jobs(jobs);
        self.jobs_committed(&kinds);
        Ok(if kinds.is_empty() {
            Enqueued::Duplicate
        } else {
            Enqueued::Created
        })
    }
}

#[async_trait]
impl JobRepository for MemoryStore {
    async fn claim(&self, request: &ClaimRequest) -> Result<Vec<Job>, RepositoryError> {
        let mut tables = self.tables();
        let mut ready: Vec<&mut JobRow> = tables
            .jobs
            .values_mut()
            .filter(|row| {
                matches!(row.job.status, JobStatus::Queued | JobStatus::Failed)
                    && row.job.run_at <= request.now
                    && request.kinds.contains(&row.job.kind)
            })
            .collect();
        ready.sort_by_key(|row| (row.job.run_at, row.job.id));
        let until = request.lease_ends_at();
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        Ok(ready
            .into_iter()
            .take(limit)
            .map(|row| {
                row.job.status = JobStatus::Running;
                row.job.attempts += 1;
                row.job.updated_at = request.now;
                row.lease = Some((request.owner, until));
                row.job.clone()
            })
            .collect())
    }

    async fn succeed(
        &self,
        owner: LeaseOwner,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError> {
        Ok(self.tables().change_held(owner, ids, |row| {
            end_lease(row, JobStatus::Succeeded, now);
            row.job.payload = JobPayload::from_json(JobPayload::SPENT.to_owned());
        }))
    }

    async fn fail(
        &self,
        owner: LeaseOwner,
        id: JobId,
        error: &str,
        next: AfterFailure,
        now: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let failed = self.tables().change_held(owner, &[id], |row| {
            match next {
                AfterFailure::RetryAt(at) => {
                    end_lease(row, JobStatus::Failed, now);
                    row.job.run_at = at;
                }
                // A dead job keeps the time it last became runnable.
                AfterFailure::Dead => end_lease(row, JobStatus::Dead, now),
            }
            row.job.last_error = Some(stored_error(error));
        });
        Ok(failed == 1)
    }

    async fn release(
        &self,
        owner: LeaseOwner,
        ids: &[JobId],
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError> {
        let released = self.tables().change_held(owner, ids, |row| {
            end_lease(row, JobStatus::Queued, now);
            row.job.attempts = row.job.attempts.saturating_sub(1);
            row.job.run_at = now;
        });
        if released > 0 {
            self.signal_jobs();
        }
        Ok(released)
    }

    async fn extend_leases(
        &self,
        owner: LeaseOwner,
        ids: &[JobId],
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError> {
        Ok(self.tables().change_held(owner, ids, |row| {
            row.lease = Some((owner, until));
            row.job.updated_at = now;
        }))
    }

    async fn recover_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let mut recovered = 0;
        for row in self.tables().jobs.values_mut() {
            let expired = row.job.status == JobStatus::Running
                && row.lease.is_some_and(|(_, until)| until < now);
            if !expired {
                continue;
            }
            // That was their last attempt: dead. The others may run again at once.
            if row.job.attempts >= row.job.max_attempts {
                end_lease(row, JobStatus::Dead, now);
            } else {
                end_lease(row, JobStatus::Failed, now);
                row.job.run_at = now;
            }
            row.job.last_error = Some(LEASE_EXPIRED_ERROR.to_owned());
            recovered += 1;
        }
        if recovered > 0 {
            tracing::warn!(
                jobs = recovered,
                "recovered jobs whose worker's lease expired"
            );
            self.signal_jobs();
        }
        Ok(recovered)
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let mut tables = self.tables();
        let count = tables.jobs.len();
        tables.jobs.retain(|_, row| {
            !(matches!(row.job.status, JobStatus::Succeeded | JobStatus::Dead)
                && row.job.updated_at < before)
        });
        Ok(u64::try_from(count - tables.jobs.len()).unwrap_or(u64::MAX))
    }

    async fn wait_for_jobs(&self, timeout: Duration) {
        self.jobs_signalled(timeout).await;
    }

    async fn list(&self, query: &JobQuery) -> Result<Page<Job>, RepositoryError> {
        let mut jobs: Vec<Job> = self
            .tables()
            .jobs
            .values()
            .filter(|row| query.status.is_none_or(|status| row.job.status == status))
            .filter(|row| {
                query
                    .queue
                    .as_ref()
                    .is_none_or(|queue| row.job.queue == *queue)
            })
            .map(|row| row.job.clone())
            .collect();
        // Newest first.
        jobs.sort_by_key(|job| std::cmp::Reverse((job.created_at, job.id)));
        Ok(page_of(&jobs, query.page))
    }

    async fn retry(&self, id: JobId, now: DateTime<Utc>) -> Result<Job, RetryJobRecordError> {
        let retried = {
            let mut tables = self.tables();
            let row = tables.jobs.get(&id).ok_or(RetryJobRecordError::NotFound)?;
            if !matches!(row.job.status, JobStatus::Dead | JobStatus::Failed) {
                return Err(RetryJobRecordError::NotRetryable(row.job.status));
            }
            let (queue, dedup_key) = (row.job.queue.clone(), row.dedup_key.clone());
            let collides = dedup_key.is_some()
                && tables.jobs.values().any(|other| {
                    other.job.id != id
                        && other.is_pending()
                        && other.job.queue == queue
                        && other.dedup_key == dedup_key
                });
            if collides {
                return Err(RetryJobRecordError::DuplicatePending);
            }
            let row = tables.jobs.get_mut(&id).expect("the job was just found");
            row.job.status = JobStatus::Queued;
            row.job.attempts = 0;
            row.job.run_at = now;
            row.job.updated_at = now;
            row.job.clone()
        };
        self.signal_jobs();
        Ok(retried)
    }
}
