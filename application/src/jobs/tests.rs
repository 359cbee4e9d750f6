//! Use-case tests of the email jobs and the job administration, with mocked ports.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use domain::ports::{
    AccountEmail, MailError, MockAccountMailer, MockClock, MockJobRepository, MockUserRepository,
    RepositoryError, RetryJobRecordError,
};
use domain::{
    Actor, Email, Job, JobId, JobKind, JobPayload, JobQuery, JobStatus, NewJob, OpaqueToken, Page,
    PageRequest, Role, User, UserId, UserName,
};

use super::*;

/// The welcome job of `user_id`, with a verification link valid for a day.
fn welcome(user_id: UserId) -> domain::NewJob {
    welcome_email_job(
        user_id,
        &OpaqueToken::new("verify-me".to_owned()),
        now() + chrono::Duration::days(1),
        now(),
    )
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    Arc::new(clock)
}

fn user(id: UserId) -> User {
    User {
        id,
        email: Email::parse("ann@example.com").unwrap(),
        name: Some(UserName::parse("Ann").unwrap()),
        role: Role::User,
        email_verified: false,
        created_at: now(),
        updated_at: now(),
    }
}

/// The stored form of a new job, as a worker claims it.
fn claimed(job: NewJob) -> Job {
    Job {
        id: job.id,
        queue: job.queue,
        kind: job.kind,
        payload: job.payload,
        status: JobStatus::Running,
        attempts: 1,
        max_attempts: job.max_attempts.get(),
        run_at: job.run_at,
        last_error: None,
        created_at: job.created_at,
        updated_at: job.created_at,
        trace: job.trace,
    }
}

fn mail_jobs(users: MockUserRepository, mailer: MockAccountMailer) -> MailJobs {
    MailJobs::new(Arc::new(users), Arc::new(mailer), clock())
}

fn users_with(id: UserId) -> MockUserRepository {
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .withf(move |wanted| *wanted == id)
        .returning(|id| Ok(Some(user(id))));
    users
}

#[tokio::test]
async fn the_welcome_job_mails_the_user_as_stored_when_it_runs() {
    let id = UserId::generate();
    let mut mailer = MockAccountMailer::new();
    mailer
        .expect_send()
        .withf(move |email| {
            matches!(email, AccountEmail::Welcome { user, verification: Some(link) }
                if user.id == id && link.token.expose() == "verify-me")
        })
        .times(1)
        .returning(|_| Ok(()));

    let result = mail_jobs(users_with(id), mailer)
        .run(&claimed(welcome(id)))
        .await;

    assert!(result.is_ok());
}

#[tokio::test]
async fn the_reset_job_mails_the_token_with_its_expiry() {
    let id = UserId::generate();
    let expires_at = now() + chrono::Duration::minutes(30);
    let mut mailer = MockAccountMailer::new();
    mailer
        .expect_send()
        .withf(move |email| {
            matches!(email, AccountEmail::PasswordReset { user, token, expires_at: at }
                if user.id == id && token.expose() == "tok" && *at == expires_at)
        })
        .times(1)
        .returning(|_| Ok(()));
    let job = password_reset_email_job(id, &OpaqueToken::new("tok".to_owned()), expires_at, now());

    assert!(
        mail_jobs(users_with(id), mailer)
            .run(&claimed(job))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_reset_link_that_expired_before_it_could_be_sent_is_dropped() {
    let job = password_reset_email_job(
        UserId::generate(),
        &OpaqueToken::new("tok".to_owned()),
        now() - chrono::Duration::seconds(1),
        now() - chrono::Duration::minutes(31),
    );

    let result = mail_jobs(MockUserRepository::new(), MockAccountMailer::new())
        .run(&claimed(job))
        .await;

    assert!(
        result.is_ok(),
        "succeeds without reading the user or mailing"
    );
}

#[tokio::test]
async fn the_email_of_a_deleted_user_is_dropped() {
    let mut users = MockUserRepository::new();
    users.expect_find_by_id().returning(|_| Ok(None));

    let result = mail_jobs(users, MockAccountMailer::new())
        .run(&claimed(welcome(UserId::generate())))
        .await;

    assert!(result.is_ok());
}

#[tokio::test]
async fn a_mail_server_that_is_down_makes_the_attempt_retryable() {
    let id = UserId::generate();
    let mut mailer = MockAccountMailer::new();
    mailer
        .expect_send()
        .returning(|_| Err(MailError::Transient(anyhow::anyhow!("connection refused"))));

    let result = mail_jobs(users_with(id), mailer)
        .run(&claimed(welcome(id)))
        .await;

    assert!(matches!(result, Err(JobFailure::Retryable(_))));
}

#[tokio::test]
async fn a_refused_recipient_fails_the_job_permanently() {
    let id = UserId::generate();
    let mut mailer = MockAccountMailer::new();
    mailer
        .expect_send()
        .returning(|_| Err(MailError::Permanent(anyhow::anyhow!("550 no such user"))));

    let result = mail_jobs(users_with(id), mailer)
        .run(&claimed(welcome(id)))
        .await;

    assert!(matches!(result, Err(JobFailure::Permanent(_))));
}

#[tokio::test]
async fn a_storage_failure_while_reading_the_user_is_retryable() {
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(|_| Err(RepositoryError(anyhow::anyhow!("pool timeout"))));

    let result = mail_jobs(users, MockAccountMailer::new())
        .run(&claimed(welcome(UserId::generate())))
        .await;

    assert!(matches!(result, Err(JobFailure::Retryable(_))));
}

#[tokio::test]
async fn a_malformed_payload_or_an_unknown_kind_fails_permanently() {
    let mut malformed = claimed(welcome(UserId::generate()));
    malformed.payload = JobPayload::from_json(r#"{"userId":42}"#.to_owned());
    let mut unknown = claimed(welcome(UserId::generate()));
    unknown.kind = JobKind::parse("mail.newsletter").unwrap();
    let jobs = mail_jobs(MockUserRepository::new(), MockAccountMailer::new());

    assert!(matches!(
        jobs.run(&malformed).await,
        Err(JobFailure::Permanent(_))
    ));
    assert!(matches!(
        jobs.run(&unknown).await,
        Err(JobFailure::Permanent(_))
    ));
}

#[test]
fn the_mail_handler_claims_exactly_the_kinds_it_runs() {
    let kinds = mail_jobs(MockUserRepository::new(), MockAccountMailer::new()).kinds();
    let names: Vec<&str> = kinds.iter().map(JobKind::as_str).collect();

    assert_eq!(
        names,
        [
            "mail.welcome",
            "mail.password-reset",
            "mail.email-verification",
            "mail.password-changed"
        ]
    );
}

fn admin() -> Actor {
    Actor {
        user_id: UserId::generate(),
        role: Role::Admin,
    }
}

fn member() -> Actor {
    Actor {
        user_id: UserId::generate(),
        role: Role::User,
    }
}

fn admin_service(jobs: MockJobRepository) -> JobAdminService {
    JobAdminService::new(Arc::new(jobs), clock())
}

#[tokio::test]
async fn only_admins_list_or_retry_jobs() {
    let service = admin_service(MockJobRepository::new());

    assert!(matches!(
        service.list(member(), JobQuery::default()).await,
        Err(ListJobsError::Forbidden)
    ));
    assert!(matches!(
        service.retry(member(), JobId::generate()).await,
        Err(RetryJobError::Forbidden)
    ));
}

#[tokio::test]
async fn an_admin_lists_jobs_with_the_filters_given() {
    let mut jobs = MockJobRepository::new();
    jobs.expect_list()
        .withf(|query| query.status == Some(JobStatus::Dead))
        .returning(|query| {
            Ok(Page {
                items: Vec::new(),
                request: query.page,
                total: 0,
            })
        });
    let query = JobQuery {
        page: PageRequest::default(),
        status: Some(JobStatus::Dead),
        queue: None,
    };

    let page = admin_service(jobs).list(admin(), query).await.unwrap();

    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn a_retry_reports_why_the_repository_refused_it() {
    for (refusal, expected) in [
        (RetryJobRecordError::NotFound, "not found"),
        (
            RetryJobRecordError::NotRetryable(JobStatus::Running),
            "running",
        ),
        (RetryJobRecordError::DuplicatePending, "same work"),
    ] {
        let mut jobs = MockJobRepository::new();
        let mut refusal = Some(refusal);
        jobs.expect_retry()
            .returning(move |_, _| Err(refusal.take().expect("called once")));

        let error = admin_service(jobs)
            .retry(admin(), JobId::generate())
            .await
            .unwrap_err();

        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[tokio::test]
async fn a_retried_job_is_returned_as_requeued() {
    let job = claimed(welcome(UserId::generate()));
    let requeued = Job {
        status: JobStatus::Queued,
        attempts: 0,
        ..job.clone()
    };
    let mut jobs = MockJobRepository::new();
    jobs.expect_retry()
        .withf(move |id, at| *id == job.id && *at == now())
        .returning(move |_, _| Ok(requeued.clone()));

    let retried = admin_service(jobs).retry(admin(), job.id).await.unwrap();

    assert_eq!(retried.status, JobStatus::Queued);
}
