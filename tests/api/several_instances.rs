//! Two instances of the app on one PostgreSQL database, as behind a balancer: a job
//! enqueued through one is picked up by an idle worker of the other at once (LISTEN/NOTIFY,
//! not polling), and each job runs once across both.

use std::time::{Duration, Instant};

use api_tests::{Backend, PASSWORD, TestApp, eventually};
use serde_json::json;

fn welcome_emails(app: &TestApp) -> usize {
    app.outbox()
        .iter()
        .filter(|message| message.contains("Subject: Welcome!"))
        .count()
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_enqueued_on_one_instance_is_run_by_an_idle_worker_of_another_within_a_second() {
    let Some(enqueuer) = TestApp::spawn_with(Backend::Postgres, &[("JOB_WORKERS", "0")]).await
    else {
        return;
    };
    // Polling alone would take up to 30 s.
    let worker = enqueuer
        .spawn_another(&[("JOB_WORKERS", "2"), ("JOB_POLL_INTERVAL_MS", "30000")])
        .await;
    // The worker's listener is up once its first idle wait began; give it that moment.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    enqueuer
        .register(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .await
        .expect(201);
    eventually("the other instance to send the welcome email", || async {
        (welcome_emails(&worker) == 1).then_some(())
    })
    .await;

    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "delivered after {elapsed:?}"
    );
    assert_eq!(welcome_emails(&enqueuer), 0, "the enqueuer has no workers");
    drop(worker);
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_spread_over_two_instances_give_exactly_one_email_each() {
    let Some(first) = TestApp::spawn_with(Backend::Postgres, &[]).await else {
        return;
    };
    let second = first.spawn_another(&[]).await;

    let registrations = (0..20).map(|n| {
        let instance = if n % 2 == 0 { &first } else { &second };
        async move {
            instance
                .register(&json!({ "email": format!("user{n}@example.com"), "password": PASSWORD }))
                .await
                .expect(201);
        }
    });
    futures_util::future::join_all(registrations).await;

    eventually("20 welcome emails over both instances", || async {
        (welcome_emails(&first) + welcome_emails(&second) >= 20).then_some(())
    })
    .await;
    // Nothing more arrives: no job ran twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(welcome_emails(&first) + welcome_emails(&second), 20);
    let mut recipients: Vec<String> = first
        .outbox()
        .into_iter()
        .chain(second.outbox())
        .filter_map(|message| {
            message
                .lines()
                .find_map(|line| line.strip_prefix("To: ").map(str::to_owned))
        })
        .collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 20, "{recipients:?}");
    drop(second);
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_reconnects_after_its_connection_is_reset() {
    let Some((worker, proxy)) =
        TestApp::spawn_behind_proxy(&[("JOB_WORKERS", "2"), ("JOB_POLL_INTERVAL_MS", "30000")])
            .await
    else {
        return;
    };
    let enqueuer = worker.spawn_another(&[("JOB_WORKERS", "0")]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Every connection through the proxy is cut, the listener's included, and new ones
    // are refused for a while.
    proxy.set(api_tests::Fault::Reset);
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.set(api_tests::Fault::Pass);
    // The listener's backoff is at most a few seconds here.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let started = Instant::now();
    eventually("a registration once the database is back", || async {
        let response = enqueuer
            .register(&json!({ "email": "ann@example.com", "password": PASSWORD }))
            .await;
        (response.status.as_u16() == 201).then_some(())
    })
    .await;
    eventually(
        "the reconnected listener's worker to send the email",
        || async { (welcome_emails(&worker) == 1).then_some(()) },
    )
    .await;

    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "delivered after {elapsed:?}"
    );
    drop(enqueuer);
}

/// `meta.total` of a search for "lee" on `app`, one item per page (so the page cannot show
/// the total and it is counted, or reused from the instance's cache).
async fn lee_total(app: &TestApp, token: &str) -> u64 {
    app.list_users(Some(token), "search=lee&limit=1")
        .await
        .expect(200)["meta"]["total"]
        .as_u64()
        .expect("a total")
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_total_reflects_another_instances_write_within_three_seconds() {
    let Some(first) = TestApp::spawn_with(Backend::Postgres, &[]).await else {
        return;
    };
    let second = first.spawn_another(&[]).await;
    let caller = first.create_user(domain::Role::User).await;
    for email in ["ann.lee@example.com", "bob.lee@example.com"] {
        first
            .create_user_with(email, None, domain::Role::User)
            .await;
    }
    // Both instances count the term now, and keep the count.
    assert_eq!(lee_total(&first, &caller.token).await, 2);
    assert_eq!(lee_total(&second, &caller.token).await, 2);

    second
        .register(&json!({ "email": "cy.lee@example.com", "password": PASSWORD }))
        .await
        .expect(201);
    let written = Instant::now();

    // The writing instance forgets its count at once; the other within the bound that
    // README.md ("Running several instances") states.
    assert_eq!(lee_total(&second, &caller.token).await, 3);
    eventually(
        "the other instance's total to count the new user",
        || async { (lee_total(&first, &caller.token).await == 3).then_some(()) },
    )
    .await;
    let lag = written.elapsed();
    assert!(lag <= Duration::from_secs(3), "the total lagged {lag:?}");
}
