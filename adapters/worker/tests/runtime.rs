//! The worker runtime against the real job repository, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL: every job runs, poison jobs die without blocking the
//! others, a dead worker's job runs again after its lease, and a stop loses nothing.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adapter_persistence::testing::TestDatabase;
use adapter_persistence::{DieselJobRepository, DieselStore};
use adapter_worker::{Observers, ShutdownReport, WorkerConfig, Workers};
use application::{JobFailure, JobHandler};
use async_trait::async_trait;
use domain::ports::{
    HttpRequestRecord, JobOutcome, JobQueue, JobRepository, NoTraces, SocketDirection, SystemClock,
    Telemetry,
};
use domain::{
    Job, JobId, JobKind, JobPayload, JobQuery, JobStatus, NewJob, PageRequest, QueueName,
    RetryPolicy,
};

/// Generates one test per backend for each scenario.
macro_rules! on_both_backends {
    ($($scenario:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let database = adapter_persistence::testing::TestDatabase::sqlite();
                    super::$scenario(database).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(database) = adapter_persistence::testing::TestDatabase::postgres().await else { return };
                    super::$scenario(database).await;
                }
            )+
        }
    };
}

on_both_backends!(
    every_job_runs_exactly_once,
    a_poison_job_ends_dead_after_its_attempts_without_blocking_the_others,
    a_permanent_failure_is_dead_at_once,
    a_panicking_handler_fails_the_attempt_not_the_worker,
    a_job_whose_worker_dies_mid_run_runs_again_after_its_lease,
    a_job_longer_than_its_lease_runs_once_while_its_worker_lives,
    an_attempt_past_its_timeout_is_cancelled_and_retried,
    a_stop_lets_running_jobs_finish_within_the_grace_period,
    a_stop_after_the_grace_period_releases_the_running_jobs_and_loses_none,
    finished_jobs_are_pruned_after_the_retention_period,
    claiming_backs_off_while_the_database_fails_and_resumes_by_itself,
);

/// What the test handler does, by kind: `work` succeeds, `poison` always fails, `fatal`
/// fails permanently, `panic` panics once, `slow` takes 300 ms, `hang` never finishes its
/// first attempt, `long` takes 1.5 s.
#[derive(Default)]
struct Recorder {
    runs: Mutex<HashMap<JobId, u32>>,
}

impl Recorder {
    fn runs_of(&self, id: JobId) -> u32 {
        self.runs.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    fn record(&self, id: JobId) -> u32 {
        let mut runs = self.runs.lock().unwrap();
        let count = runs.entry(id).or_default();
        *count += 1;
        *count
    }
}

#[async_trait]
impl JobHandler for Recorder {
    fn kinds(&self) -> Vec<JobKind> {
        ["work", "poison", "fatal", "panic", "slow", "hang", "long"]
            .into_iter()
            .map(|kind| JobKind::parse(kind).unwrap())
            .collect()
    }

    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let run = self.record(job.id);
        match job.kind.as_str() {
            "poison" => Err(JobFailure::Retryable(anyhow::anyhow!("poison pill"))),
            "fatal" => Err(JobFailure::Permanent(anyhow::anyhow!("cannot ever work"))),
            "panic" if run == 1 => panic!("handler bug"),
            "slow" => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(())
            }
            "hang" if run == 1 => std::future::pending().await,
            "long" => {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn fast_config(concurrency: usize) -> WorkerConfig {
    WorkerConfig {
        poll_interval: Duration::from_millis(20),
        maintenance_interval: Duration::from_millis(100),
        retry: RetryPolicy {
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
        },
        ..WorkerConfig::with_concurrency(concurrency)
    }
}

/// The job outcomes the runtime reported, by kind.
#[derive(Default)]
struct Outcomes(Mutex<Vec<(String, JobOutcome)>>);

impl Outcomes {
    fn of(&self, kind: &str) -> Vec<JobOutcome> {
        let outcomes = self.0.lock().unwrap();
        outcomes
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, outcome)| *outcome)
            .collect()
    }
}

impl Telemetry for Outcomes {
    fn http_request_started(&self) {}
    fn http_request_finished(&self, _request: HttpRequestRecord<'_>) {}
    fn rate_limit_rejected(&self, _limit: &'static str) {}
    fn sockets_changed(&self, _delta: i64) {}
    fn jobs_enqueued(&self, _kind: &str, _count: u64) {}
    fn job_finished(&self, kind: &str, outcome: JobOutcome, seconds: f64) {
        assert!(seconds >= 0.0);
        self.0.lock().unwrap().push((kind.to_owned(), outcome));
    }
    fn jobs_pending(&self, _count: u64) {}
    fn database_connections(&self, _idle: u64, _used: u64) {}
    fn database_connection_waited(&self, _seconds: f64) {}
    fn password_hash_queue(&self, _depth: u64) {}
    fn password_hashed(&self, _seconds: f64) {}
    fn job_started(&self, _kind: &str, seconds: f64) {
        assert!(seconds >= 0.0);
    }
    fn socket_event(&self, _direction: SocketDirection, _event: &'static str) {}
    fn shared_state_degraded(&self, _component: &'static str, _degraded: bool) {}
}

struct Fixture {
    _database: TestDatabase,
    jobs: Arc<DieselJobRepository>,
    recorder: Arc<Recorder>,
    outcomes: Arc<Outcomes>,
}

impl Fixture {
    async fn new(database: TestDatabase) -> Self {
        let jobs = Arc::new(DieselStore::new(database.connect().await).jobs());
        Self {
            _database: database,
            jobs,
            recorder: Arc::default(),
            outcomes: Arc::default(),
        }
    }

    fn start(&self, config: WorkerConfig) -> Workers {
        self.start_on(self.jobs.clone(), config)
    }

    fn start_on(&self, jobs: Arc<dyn JobRepository>, config: WorkerConfig) -> Workers {
        Workers::start(
            jobs,
            self.recorder.clone(),
            Arc::new(SystemClock),
            Observers {
                telemetry: Arc::clone(&self.outcomes) as Arc<dyn Telemetry>,
                traces: Arc::new(NoTraces),
            },
            config,
        )
    }

    async fn enqueue(&self, kind: &str, max_attempts: u32) -> JobId {
        let job = NewJob::new(
            QueueName::parse("test").unwrap(),
            JobKind::parse(kind).unwrap(),
            JobPayload::from_json("{}".to_owned()),
            chrono::Utc::now(),
        )
        .with_max_attempts(NonZeroU32::new(max_attempts).unwrap());
        let id = job.id;
        self.jobs.enqueue(job).await.unwrap();
        id
    }

    async fn all_jobs(&self) -> Vec<Job> {
        let mut all = Vec::new();
        for page in 1.. {
            let listed = self
                .jobs
                .list(&JobQuery {
                    page: PageRequest::new(Some(page), Some(100)).unwrap(),
                    ..JobQuery::default()
                })
                .await
                .unwrap();
            let last = listed.items.len() < 100;
            all.extend(listed.items);
            if last {
                return all;
            }
        }
        unreachable!()
    }

    async fn job(&self, id: JobId) -> Job {
        self.all_jobs()
            .await
            .into_iter()
            .find(|job| job.id == id)
            .unwrap()
    }

    /// Waits (up to 15 s) until every job satisfies `done`.
    async fn wait_until(&self, what: &str, done: impl Fn(&Job) -> bool) -> Vec<Job> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let jobs = self.all_jobs().await;
            if jobs.iter().all(&done) {
                return jobs;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting until {what}: {jobs:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn succeeded(job: &Job) -> bool {
    job.status == JobStatus::Succeeded
}

async fn every_job_runs_exactly_once(database: TestDatabase) {
    let fixture = Fixture::new(database).await;
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(fixture.enqueue("work", 3).await);
    }

    let workers = fixture.start(fast_config(4));
    fixture.wait_until("all succeeded", succeeded).await;
    workers.shutdown(Duration::from_secs(5)).await;

    assert!(ids.iter().all(|id| fixture.recorder.runs_of(*id) == 1));
}

async fn a_poison_job_ends_dead_after_its_attempts_without_blocking_the_others(
    database: TestDatabase,
) {
    let fixture = Fixture::new(database).await;
    let poison = fixture.enqueue("poison", 3).await;
    for _ in 0..20 {
        fixture.enqueue("work", 3).await;
    }

    let workers = fixture.start(fast_config(2));
    let jobs = fixture
        .wait_until("the poison job is dead and the others succeeded", |job| {
            job.status
                == if job.id == poison {
                    JobStatus::Dead
                } else {
                    JobStatus::Succeeded
                }
        })
        .await;
    workers.shutdown(Duration::from_secs(5)).await;

    let poison = jobs.iter().find(|job| job.id == poison).unwrap();
    assert_eq!(poison.attempts, 3);
    assert_eq!(fixture.recorder.runs_of(poison.id), 3);
    assert_eq!(poison.last_error.as_deref(), Some("poison pill"));
    assert_eq!(
        fixture.outcomes.of("poison"),
        [JobOutcome::Failed, JobOutcome::Failed, JobOutcome::Dead],
        "each attempt is counted with its outcome"
    );
    assert_eq!(fixture.outcomes.of("work"), [JobOutcome::Succeeded; 20]);
}

async fn a_permanent_failure_is_dead_at_once(database: TestDatabase) {
    let fixture = Fixture::new(database).await;
    let fatal = fixture.enqueue("fatal", 10).await;

    let workers = fixture.start(fast_config(1));
    fixture
        .wait_until("dead", |job| job.status == JobStatus::Dead)
        .await;
    workers.shutdown(Duration::from_secs(5)).await;

    assert_eq!(fixture.job(fatal).await.attempts, 1);
}

async fn a_panicking_handler_fails_the_attempt_not_the_worker(database: TestDatabase) {
    let fixture = Fixture::new(database).await;
    let buggy = fixture.enqueue("panic", 3).await;
    let after = fixture.enqueue("work", 3).await;

    let workers = fixture.start(fast_config(1));
    fixture.wait_until("all succeeded", succeeded).await;
    workers.shutdown(Duration::from_secs(5)).await;

    assert_eq!(fixture.job(buggy).await.attempts, 2);
    assert_eq!(fixture.recorder.runs_of(after), 1);
}

async fn a_job_whose_worker_dies_mid_run_runs_again_after_its_lease(database: TestDatabase) {
    let fixture = Fixture::new(database).await;
    let hung = fixture.enqueue("hang", 3).await;
    // The doomed worker's heartbeat dies with it, so its lease runs out.
    let config = WorkerConfig {
        lease: Duration::from_millis(1500),
        ..fast_config(1)
    };
    let doomed = fixture.start(config);
    fixture
        .wait_until("running", |job| job.status == JobStatus::Running)
        .await;

    doomed.abort();
    let started = tokio::time::Instant::now();
    let survivor = fixture.start(config);
    let jobs = fixture.wait_until("succeeded", succeeded).await;
    survivor.shutdown(Duration::from_secs(5)).await;

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "not before the lease expired"
    );
    assert_eq!(jobs[0].attempts, 2);
    assert_eq!(fixture.recorder.runs_of(hung), 2);
}

async fn a_job_longer_than_its_lease_runs_once_while_its_worker_lives(database: TestDatabase) {
    let fixture = Fixture::new(database).await;
    let long = fixture.enqueue("long", 3).await;
    // Five leases long; maintenance (recovery of expired leases) runs every 100 ms.
    let config = WorkerConfig {
        lease: Duration::from_millis(300),
        ..fast_config(1)
    };
    let first = fixture.start(config);
    fixture
        .wait_until("running", |job| job.status == JobStatus::Running)
        .await;
    let second = fixture.start(config);

    let jobs = fixture.wait_until("succeeded", succeeded).await;
    first.shutdown(Duration::from_secs(5)).await;
    second.shutdown(Duration::from_secs(5)).await;

    assert_eq!(jobs[0].attempts, 1, "never claimed again: {jobs:#?}");
    assert_eq!(fixture.recorder.runs_of(long), 1);
}

async fn an_attempt_past_its_timeout_is_cancelled_and_retried(database: TestDatabase) {
    let fixture = Fixture::new(database).await;
    let hung = fixture.enqueue("hang", 3).await;
    let config = WorkerConfig {
        attempt_timeout: Duration::from_millis(200),
        ..fast_config(1)
    };

    let workers = fixture.start(config);
    let jobs = fixture.wait_until("succeeded", succeeded).await;
    workers.shutdown(Duration::from_secs(5)).await;

    assert_eq!(jobs[0].attempts, 2);
    assert_eq!(fixture.recorder.runs_of(hung), 2);
    assert!(
        jobs[0]
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("did not finish within")),
        "{jobs:#?}"
    );
}

async fn a_stop_lets_running_jobs_finish_within_the_grace_period(database: TestDatabase) {
    let fixture = Fixture::new(database).await;
    for _ in 0..6 {
        fixture.enqueue("slow", 3).await;
    }
    let workers = fixture.start(fast_config(2));
    let running = |jobs: &[Job]| {
        jobs.iter()
            .filter(|job| job.status == JobStatus::Running)
            .count()
    };
    while running(&fixture.all_jobs().await) < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let report = workers.shutdown(Duration::from_secs(5)).await;

    let jobs = fixture.all_jobs().await;
    assert_eq!(
        report,
        ShutdownReport {
            finished: 2,
            released: 2
        },
        "the two running attempts finished; the two prefetched jobs went back"
    );
    assert_eq!(jobs.iter().filter(|job| succeeded(job)).count(), 2);
    assert!(
        jobs.iter()
            .filter(|job| !succeeded(job))
            .all(|job| job.status == JobStatus::Queued && job.attempts == 0),
        "the others are queued as if never claimed: {jobs:#?}"
    );
}

async fn a_stop_after_the_grace_period_releases_the_running_jobs_and_loses_none(
    database: TestDatabase,
) {
    let fixture = Fixture::new(database).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(fixture.enqueue("slow", 3).await);
    }
    let workers = fixture.start(fast_config(2));
    while fixture
        .all_jobs()
        .await
        .iter()
        .filter(|job| job.status == JobStatus::Running)
        .count()
        < 2
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let report = workers.shutdown(Duration::ZERO).await;
    let after_stop = fixture.all_jobs().await;
    let restarted = fixture.start(fast_config(2));
    fixture.wait_until("all succeeded", succeeded).await;
    restarted.shutdown(Duration::from_secs(5)).await;

    assert_eq!(report.released, 4, "two cancelled, two prefetched");
    assert!(
        after_stop
            .iter()
            .all(|job| job.status == JobStatus::Queued && job.attempts == 0),
        "released without counting the cancelled attempt: {after_stop:#?}"
    );
    assert!(
        ids.iter()
            .all(|id| (1..=2).contains(&fixture.recorder.runs_of(*id))),
        "every job ran, the cancelled ones once more"
    );
}

async fn finished_jobs_are_pruned_after_the_retention_period(database: TestDatabase) {
    let fixture = Fixture::new(database).await;
    let done = fixture.enqueue("work", 3).await;
    let dead = fixture.enqueue("fatal", 3).await;
    let waiting = NewJob::new(
        QueueName::parse("test").unwrap(),
        JobKind::parse("work").unwrap(),
        JobPayload::from_json("{}".to_owned()),
        chrono::Utc::now() + chrono::Duration::hours(1),
    );
    let waiting_id = waiting.id;
    fixture.jobs.enqueue(waiting).await.unwrap();

    let workers = fixture.start(WorkerConfig {
        retention: Duration::ZERO,
        ..fast_config(2)
    });
    let left = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let jobs = fixture.all_jobs().await;
            if jobs.len() == 1 {
                return jobs;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the finished jobs are pruned");
    workers.shutdown(Duration::from_secs(5)).await;

    assert_eq!(fixture.recorder.runs_of(done), 1);
    assert_eq!(fixture.recorder.runs_of(dead), 1);
    assert_eq!(left[0].id, waiting_id, "a pending job is never pruned");
}

/// The real repository, except that `claim` fails while `down` is set; records when each
/// claim was attempted.
struct Flaky {
    inner: Arc<DieselJobRepository>,
    down: std::sync::atomic::AtomicBool,
    claims: Mutex<Vec<std::time::Instant>>,
}

#[async_trait]
impl JobRepository for Flaky {
    async fn claim(
        &self,
        request: &domain::ports::ClaimRequest,
    ) -> Result<Vec<Job>, domain::ports::RepositoryError> {
        self.claims.lock().unwrap().push(std::time::Instant::now());
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(domain::ports::RepositoryError::unavailable(
                anyhow::anyhow!("the database is unreachable"),
            ));
        }
        self.inner.claim(request).await
    }
    async fn succeed(
        &self,
        owner: domain::ports::LeaseOwner,
        ids: &[JobId],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, domain::ports::RepositoryError> {
        self.inner.succeed(owner, ids, now).await
    }
    async fn fail(
        &self,
        owner: domain::ports::LeaseOwner,
        id: JobId,
        error: &str,
        next: domain::AfterFailure,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, domain::ports::RepositoryError> {
        self.inner.fail(owner, id, error, next, now).await
    }
    async fn release(
        &self,
        owner: domain::ports::LeaseOwner,
        ids: &[JobId],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, domain::ports::RepositoryError> {
        self.inner.release(owner, ids, now).await
    }
    async fn extend_leases(
        &self,
        owner: domain::ports::LeaseOwner,
        ids: &[JobId],
        until: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, domain::ports::RepositoryError> {
        self.inner.extend_leases(owner, ids, until, now).await
    }
    async fn recover_expired(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, domain::ports::RepositoryError> {
        self.inner.recover_expired(now).await
    }
    async fn prune(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, domain::ports::RepositoryError> {
        self.inner.prune(before).await
    }
    async fn wait_for_jobs(&self, timeout: Duration) {
        self.inner.wait_for_jobs(timeout).await;
    }
    async fn list(
        &self,
        query: &JobQuery,
    ) -> Result<domain::Page<Job>, domain::ports::RepositoryError> {
        self.inner.list(query).await
    }
    async fn retry(
        &self,
        id: JobId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Job, domain::ports::RetryJobRecordError> {
        self.inner.retry(id, now).await
    }
}

async fn claiming_backs_off_while_the_database_fails_and_resumes_by_itself(database: TestDatabase) {
    let fixture = Fixture::new(database).await;
    let flaky = Arc::new(Flaky {
        inner: Arc::clone(&fixture.jobs),
        down: std::sync::atomic::AtomicBool::new(true),
        claims: Mutex::default(),
    });
    let id = fixture.enqueue("work", 3).await;

    // A 20 ms poll interval: without backoff, 2 s of outage would be ~100 claims.
    let workers = fixture.start_on(flaky.clone(), fast_config(1));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = flaky.claims.lock().unwrap().clone();
    flaky.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let back = std::time::Instant::now();
    fixture.wait_until("the job succeeded", succeeded).await;
    let resumed_after = back.elapsed();
    workers.shutdown(Duration::from_secs(5)).await;

    assert!(
        (5..=10).contains(&during.len()),
        "claims during the outage: {}",
        during.len()
    );
    let gaps: Vec<_> = during.windows(2).map(|pair| pair[1] - pair[0]).collect();
    assert!(
        gaps.windows(2).all(|pair| pair[1] >= pair[0]),
        "the waits grow: {gaps:?}"
    );
    assert!(
        resumed_after < Duration::from_secs(3),
        "resumed {resumed_after:?} after the database came back"
    );
    assert_eq!(fixture.recorder.runs_of(id), 1);
}
