//! The `JobQueue` and `JobRepository` contracts, and the transactional enqueue of the user
//! and password-reset repositories.

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::time::Duration;

use bootstrap::Storage;
use chrono::{DateTime, Utc};
use domain::ports::{
    ClaimRequest, Enqueued, InsertUserError, JobQueue, JobRepository, LeaseOwner,
    RetryJobRecordError,
};
use domain::{
    AfterFailure, Job, JobId, JobKind, JobPayload, JobQuery, JobStatus, NewJob, NewResetToken,
    NewUser, QueueName, TokenHash,
};
use uuid::Uuid;

use super::{new_user, now, user};

contract!(job_store;
    jobs_are_claimed_oldest_first_and_each_only_once,
    a_job_waits_for_its_run_at_and_only_matching_kinds_are_claimed,
    concurrent_claims_never_hand_out_the_same_job,
    a_succeeded_job_drops_its_payload_and_only_its_lease_owner_finishes_it,
    a_failed_attempt_runs_again_at_its_retry_time_and_a_dead_job_never,
    released_jobs_run_again_at_once_without_losing_an_attempt,
    an_expired_lease_makes_the_job_runnable_again_and_fences_off_the_old_worker,
    only_the_lease_owner_extends_a_lease_and_an_extended_lease_is_not_recovered,
    an_expired_lease_on_the_last_attempt_leaves_the_job_dead,
    a_pending_dedup_key_makes_another_enqueue_a_no_op_until_the_first_finishes,
    a_user_is_stored_with_its_jobs_or_neither_is,
    a_reset_token_is_stored_with_its_email_job,
    an_admin_retry_requeues_only_dead_or_failed_jobs,
    jobs_are_listed_newest_first_by_status_and_queue,
    pruning_deletes_only_finished_jobs_older_than_the_cutoff,
    a_job_keeps_the_trace_it_was_enqueued_in,
);

/// The queue's two ports on one storage: enqueueing, and the workers' and admins' side.
#[derive(Clone)]
struct JobStore {
    queue: std::sync::Arc<dyn JobQueue>,
    jobs: std::sync::Arc<dyn JobRepository>,
}

fn job_store(store: &Storage) -> JobStore {
    JobStore {
        queue: store.queue(),
        jobs: store.jobs(),
    }
}

impl JobStore {
    async fn enqueue(&self, job: NewJob) -> Result<Enqueued, domain::ports::RepositoryError> {
        self.queue.enqueue(job).await
    }
}

impl std::ops::Deref for JobStore {
    type Target = dyn JobRepository;

    fn deref(&self) -> &Self::Target {
        self.jobs.as_ref()
    }
}

const SECOND: chrono::Duration = chrono::Duration::seconds(1);
const LEASE: Duration = Duration::from_mins(1);

fn kind(name: &str) -> JobKind {
    JobKind::parse(name).unwrap()
}

fn job(name: &str, run_at: DateTime<Utc>) -> NewJob {
    NewJob::new(
        QueueName::parse("test").unwrap(),
        kind(name),
        JobPayload::from_json(r#"{"secret":"s3cr3t"}"#.to_owned()),
        run_at,
    )
}

fn claim_at(owner: LeaseOwner, limit: u32, at: DateTime<Utc>) -> ClaimRequest {
    ClaimRequest {
        owner,
        kinds: vec![kind("work"), kind("other")],
        limit,
        lease: LEASE,
        now: at,
    }
}

async fn enqueue(jobs: &JobStore, job: NewJob) -> JobId {
    let id = job.id;
    assert_eq!(jobs.enqueue(job).await.unwrap(), Enqueued::Created);
    id
}

async fn find(jobs: &JobStore, id: JobId) -> Job {
    let page = jobs
        .list(&JobQuery {
            page: domain::PageRequest::new(Some(1), Some(100)).unwrap(),
            ..JobQuery::default()
        })
        .await
        .unwrap();
    page.items
        .into_iter()
        .find(|job| job.id == id)
        .expect("the job is stored")
}

fn ids(jobs: &[Job]) -> Vec<JobId> {
    jobs.iter().map(|job| job.id).collect()
}

async fn jobs_are_claimed_oldest_first_and_each_only_once(jobs: &JobStore, _: &Storage) {
    let third = enqueue(jobs, job("work", now() - SECOND)).await;
    let first = enqueue(jobs, job("work", now() - SECOND * 3)).await;
    let second = enqueue(jobs, job("work", now() - SECOND * 2)).await;
    let owner = LeaseOwner::generate();

    let claimed = jobs.claim(&claim_at(owner, 2, now())).await.unwrap();
    let rest = jobs.claim(&claim_at(owner, 2, now())).await.unwrap();
    let none = jobs.claim(&claim_at(owner, 2, now())).await.unwrap();

    let mut claimed_ids = ids(&claimed);
    claimed_ids.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(claimed_ids, expected);
    assert!(
        claimed
            .iter()
            .all(|job| job.status == JobStatus::Running && job.attempts == 1)
    );
    assert_eq!(ids(&rest), [third]);
    assert!(none.is_empty());
}

async fn a_job_waits_for_its_run_at_and_only_matching_kinds_are_claimed(
    jobs: &JobStore,
    _: &Storage,
) {
    let later = enqueue(jobs, job("work", now() + SECOND)).await;
    enqueue(jobs, job("unknown", now())).await;
    let owner = LeaseOwner::generate();

    assert!(
        jobs.claim(&claim_at(owner, 10, now()))
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = jobs
        .claim(&claim_at(owner, 10, now() + SECOND))
        .await
        .unwrap();

    assert_eq!(ids(&claimed), [later]);
}

async fn concurrent_claims_never_hand_out_the_same_job(jobs: &JobStore, _: &Storage) {
    let mut enqueued = HashSet::new();
    for _ in 0..60 {
        enqueued.insert(enqueue(jobs, job("work", now())).await);
    }

    let workers = (0..6).map(|_| {
        let jobs = jobs.clone();
        tokio::spawn(async move {
            let owner = LeaseOwner::generate();
            let mut mine = Vec::new();
            loop {
                let claimed = jobs.claim(&claim_at(owner, 4, now())).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(ids(&claimed));
            }
        })
    });
    let mut claimed = Vec::new();
    for worker in workers.collect::<Vec<_>>() {
        claimed.extend(worker.await.unwrap());
    }

    let distinct: HashSet<JobId> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), 60, "every job claimed once");
    assert_eq!(distinct, enqueued);
}

async fn a_succeeded_job_drops_its_payload_and_only_its_lease_owner_finishes_it(
    jobs: &JobStore,
    _: &Storage,
) {
    let id = enqueue(jobs, job("work", now())).await;
    let owner = LeaseOwner::generate();
    jobs.claim(&claim_at(owner, 1, now())).await.unwrap();

    let by_stranger = jobs
        .succeed(LeaseOwner::generate(), &[id], now())
        .await
        .unwrap();
    let by_owner = jobs.succeed(owner, &[id], now() + SECOND).await.unwrap();
    let twice = jobs.succeed(owner, &[id], now() + SECOND).await.unwrap();

    assert_eq!((by_stranger, by_owner, twice), (0, 1, 0));
    let stored = find(jobs, id).await;
    assert_eq!(stored.status, JobStatus::Succeeded);
    assert_eq!(stored.payload.as_json(), "{}");
    assert_eq!(stored.updated_at, now() + SECOND);
}

async fn a_failed_attempt_runs_again_at_its_retry_time_and_a_dead_job_never(
    jobs: &JobStore,
    _: &Storage,
) {
    let retried = enqueue(jobs, job("work", now())).await;
    let buried = enqueue(jobs, job("work", now())).await;
    let owner = LeaseOwner::generate();
    jobs.claim(&claim_at(owner, 2, now())).await.unwrap();

    let retry_at = now() + SECOND * 10;
    assert!(
        jobs.fail(
            owner,
            retried,
            "smtp down",
            AfterFailure::RetryAt(retry_at),
            now()
        )
        .await
        .unwrap()
    );
    assert!(
        jobs.fail(owner, buried, "550 no such user", AfterFailure::Dead, now())
            .await
            .unwrap()
    );

    let failed = find(jobs, retried).await;
    assert_eq!(
        (failed.status, failed.run_at, failed.last_error.as_deref()),
        (JobStatus::Failed, retry_at, Some("smtp down"))
    );
    assert_eq!(find(jobs, buried).await.status, JobStatus::Dead);
    assert!(
        jobs.claim(&claim_at(owner, 10, retry_at - SECOND))
            .await
            .unwrap()
            .is_empty()
    );
    let again = jobs.claim(&claim_at(owner, 10, retry_at)).await.unwrap();
    assert_eq!(ids(&again), [retried]);
    assert_eq!(again[0].attempts, 2);
}

async fn released_jobs_run_again_at_once_without_losing_an_attempt(jobs: &JobStore, _: &Storage) {
    let id = enqueue(jobs, job("work", now())).await;
    let owner = LeaseOwner::generate();
    jobs.claim(&claim_at(owner, 1, now())).await.unwrap();

    let released = jobs.release(owner, &[id], now() + SECOND).await.unwrap();
    let again = jobs
        .claim(&claim_at(owner, 1, now() + SECOND))
        .await
        .unwrap();

    assert_eq!(released, 1);
    assert_eq!(ids(&again), [id]);
    assert_eq!(again[0].attempts, 1, "the released attempt does not count");
}

async fn only_the_lease_owner_extends_a_lease_and_an_extended_lease_is_not_recovered(
    jobs: &JobStore,
    _: &Storage,
) {
    let id = enqueue(jobs, job("work", now())).await;
    let other = enqueue(jobs, job("work", now())).await;
    let owner = LeaseOwner::generate();
    jobs.claim(&claim_at(owner, 1, now())).await.unwrap();
    let lease = chrono::Duration::from_std(LEASE).unwrap();
    let later = now() + lease + lease;

    let stranger = jobs
        .extend_leases(LeaseOwner::generate(), &[id], later, now())
        .await
        .unwrap();
    let extended = jobs
        .extend_leases(owner, &[id, other], later, now())
        .await
        .unwrap();

    assert_eq!(stranger, 0, "another owner cannot extend it");
    assert_eq!(
        extended, 1,
        "only the held job is extended, not the queued one"
    );
    assert_eq!(
        jobs.recover_expired(now() + lease + SECOND).await.unwrap(),
        0,
        "past the first lease, the extended one still holds"
    );
    assert_eq!(jobs.recover_expired(later + SECOND).await.unwrap(), 1);
    assert_eq!(
        jobs.extend_leases(owner, &[id], later + lease, later + SECOND)
            .await
            .unwrap(),
        0,
        "an expired and recovered lease cannot be revived"
    );
    assert_eq!(find(jobs, other).await.status, JobStatus::Queued);
}

async fn an_expired_lease_makes_the_job_runnable_again_and_fences_off_the_old_worker(
    jobs: &JobStore,
    _: &Storage,
) {
    let id = enqueue(jobs, job("work", now())).await;
    let dead_worker = LeaseOwner::generate();
    jobs.claim(&claim_at(dead_worker, 1, now())).await.unwrap();
    let lease_end = now() + chrono::Duration::from_std(LEASE).unwrap();

    assert_eq!(jobs.recover_expired(lease_end).await.unwrap(), 0, "not yet");
    assert_eq!(jobs.recover_expired(lease_end + SECOND).await.unwrap(), 1);
    let recovered = find(jobs, id).await;
    let next_worker = LeaseOwner::generate();
    let again = jobs
        .claim(&claim_at(next_worker, 1, lease_end + SECOND))
        .await
        .unwrap();
    let stale_finish = jobs
        .succeed(dead_worker, &[id], lease_end + SECOND)
        .await
        .unwrap();

    assert_eq!(recovered.status, JobStatus::Failed);
    assert!(recovered.last_error.unwrap().contains("lease expired"));
    assert_eq!(ids(&again), [id]);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(stale_finish, 0, "the old worker no longer holds the job");
}

async fn an_expired_lease_on_the_last_attempt_leaves_the_job_dead(jobs: &JobStore, _: &Storage) {
    let id = enqueue(
        jobs,
        job("work", now()).with_max_attempts(NonZeroU32::new(1).unwrap()),
    )
    .await;
    jobs.claim(&claim_at(LeaseOwner::generate(), 1, now()))
        .await
        .unwrap();

    jobs.recover_expired(now() + chrono::Duration::hours(1))
        .await
        .unwrap();

    assert_eq!(find(jobs, id).await.status, JobStatus::Dead);
}

async fn a_pending_dedup_key_makes_another_enqueue_a_no_op_until_the_first_finishes(
    jobs: &JobStore,
    _: &Storage,
) {
    let first = job("work", now()).with_dedup_key("welcome:1");
    let first_id = first.id;
    assert_eq!(jobs.enqueue(first).await.unwrap(), Enqueued::Created);

    let duplicate = jobs
        .enqueue(job("work", now()).with_dedup_key("welcome:1"))
        .await
        .unwrap();
    let other_key = jobs
        .enqueue(job("work", now()).with_dedup_key("welcome:2"))
        .await
        .unwrap();
    let owner = LeaseOwner::generate();
    let claimed = jobs.claim(&claim_at(owner, 10, now())).await.unwrap();
    jobs.succeed(owner, &ids(&claimed), now()).await.unwrap();
    let after_success = jobs
        .enqueue(job("work", now()).with_dedup_key("welcome:1"))
        .await
        .unwrap();

    assert_eq!(duplicate, Enqueued::Duplicate);
    assert_eq!(other_key, Enqueued::Created);
    assert!(ids(&claimed).contains(&first_id));
    assert_eq!(after_success, Enqueued::Created);
}

async fn a_user_is_stored_with_its_jobs_or_neither_is(jobs: &JobStore, store: &Storage) {
    let users = store.users();
    let welcome = job("work", now());
    let welcome_id = welcome.id;
    users
        .insert(NewUser {
            outbox: welcome.into(),
            ..new_user("ann@example.com")
        })
        .await
        .unwrap();

    let refused = users
        .insert(NewUser {
            outbox: job("work", now()).into(),
            ..new_user("ANN@example.com")
        })
        .await;

    assert!(matches!(refused, Err(InsertUserError::EmailTaken)));
    let listed = jobs.list(&JobQuery::default()).await.unwrap();
    assert_eq!(
        ids(&listed.items),
        [welcome_id],
        "the refused user's job is rolled back"
    );
}

async fn a_reset_token_is_stored_with_its_email_job(jobs: &JobStore, store: &Storage) {
    let user_id = user(store).await;
    let mail = job("work", now());
    let mail_id = mail.id;

    store
        .resets()
        .replace_reset_token(NewResetToken {
            id: Uuid::now_v7(),
            user_id,
            token_hash: TokenHash::from_hex("h".to_owned()),
            created_at: now(),
            expires_at: now() + chrono::Duration::minutes(30),
            outbox: mail.into(),
        })
        .await
        .unwrap();

    assert_eq!(find(jobs, mail_id).await.status, JobStatus::Queued);
}

async fn an_admin_retry_requeues_only_dead_or_failed_jobs(jobs: &JobStore, _: &Storage) {
    let dead = enqueue(jobs, job("work", now()).with_dedup_key("k")).await;
    let owner = LeaseOwner::generate();
    jobs.claim(&claim_at(owner, 1, now())).await.unwrap();
    jobs.fail(owner, dead, "boom", AfterFailure::Dead, now())
        .await
        .unwrap();
    let queued = enqueue(jobs, job("work", now() + SECOND)).await;

    let retried = jobs.retry(dead, now() + SECOND * 5).await.unwrap();
    let not_retryable = jobs.retry(queued, now()).await;
    let missing = jobs.retry(JobId::generate(), now()).await;

    assert_eq!(retried.status, JobStatus::Queued);
    assert_eq!(retried.attempts, 0);
    assert_eq!(retried.run_at, now() + SECOND * 5);
    assert_eq!(
        retried.last_error.as_deref(),
        Some("boom"),
        "kept for reference"
    );
    assert!(matches!(
        not_retryable,
        Err(RetryJobRecordError::NotRetryable(JobStatus::Queued))
    ));
    assert!(matches!(missing, Err(RetryJobRecordError::NotFound)));

    // A dead job whose work was enqueued again meanwhile cannot be retried into a duplicate.
    let owner = LeaseOwner::generate();
    jobs.claim(&claim_at(owner, 10, now() + SECOND * 5))
        .await
        .unwrap();
    jobs.fail(owner, dead, "boom", AfterFailure::Dead, now())
        .await
        .unwrap();
    enqueue(jobs, job("work", now()).with_dedup_key("k")).await;
    assert!(matches!(
        jobs.retry(dead, now()).await,
        Err(RetryJobRecordError::DuplicatePending)
    ));
}

async fn jobs_are_listed_newest_first_by_status_and_queue(jobs: &JobStore, _: &Storage) {
    let mut older = job("work", now());
    older.created_at = now() - SECOND;
    let older = enqueue(jobs, older).await;
    let newer = enqueue(jobs, job("work", now())).await;
    let mut mail = job("work", now() + SECOND);
    mail.queue = QueueName::parse("mail").unwrap();
    let mail = enqueue(jobs, mail).await;
    let owner = LeaseOwner::generate();
    let claimed = jobs.claim(&claim_at(owner, 1, now())).await.unwrap();
    assert_eq!(ids(&claimed), [older]);

    let all = jobs.list(&JobQuery::default()).await.unwrap();
    let running = jobs
        .list(&JobQuery {
            status: Some(JobStatus::Running),
            ..JobQuery::default()
        })
        .await
        .unwrap();
    let mail_queue = jobs
        .list(&JobQuery {
            queue: Some(QueueName::parse("mail").unwrap()),
            ..JobQuery::default()
        })
        .await
        .unwrap();

    assert_eq!(ids(&all.items), [mail, newer, older]);
    assert_eq!(all.total, 3);
    assert_eq!(ids(&running.items), [older]);
    assert_eq!((ids(&mail_queue.items), mail_queue.total), (vec![mail], 1));
}

async fn pruning_deletes_only_finished_jobs_older_than_the_cutoff(jobs: &JobStore, _: &Storage) {
    let succeeded = enqueue(jobs, job("work", now())).await;
    let dead = enqueue(jobs, job("work", now())).await;
    let owner = LeaseOwner::generate();
    jobs.claim(&claim_at(owner, 2, now())).await.unwrap();
    jobs.succeed(owner, &[succeeded], now()).await.unwrap();
    jobs.fail(owner, dead, "boom", AfterFailure::Dead, now())
        .await
        .unwrap();
    let recent = enqueue(jobs, job("work", now())).await;
    let owner = LeaseOwner::generate();
    jobs.claim(&claim_at(owner, 1, now())).await.unwrap();
    jobs.succeed(owner, &[recent], now() + SECOND * 10)
        .await
        .unwrap();
    let pending = enqueue(jobs, job("work", now() + SECOND * 100)).await;

    let pruned = jobs.prune(now() + SECOND).await.unwrap();

    let left = jobs.list(&JobQuery::default()).await.unwrap();
    assert_eq!(pruned, 2);
    let mut left = ids(&left.items);
    left.sort();
    let mut expected = vec![recent, pending];
    expected.sort();
    assert_eq!(left, expected);
}

async fn a_job_keeps_the_trace_it_was_enqueued_in(jobs: &JobStore, _: &Storage) {
    let trace: domain::TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        .parse()
        .unwrap();
    let traced = enqueue(
        jobs,
        NewJob {
            trace: Some(trace),
            ..job("work", now() - SECOND * 2)
        },
    )
    .await;
    let untraced = enqueue(jobs, job("work", now() - SECOND)).await;

    let claimed = jobs
        .claim(&claim_at(LeaseOwner::generate(), 2, now()))
        .await
        .unwrap();
    let trace_of = |id: JobId| claimed.iter().find(|job| job.id == id).unwrap().trace;
    assert_eq!(trace_of(traced), Some(trace));
    assert_eq!(
        trace_of(untraced),
        None,
        "no current trace: none is made up"
    );
    assert_eq!(find(jobs, traced).await.trace, Some(trace));
}
