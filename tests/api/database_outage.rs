//! The database becomes unreachable (through a fault proxy between the app and
//! PostgreSQL): requests that need it answer `503 Service unavailable` within
//! `DATABASE_TIMEOUT_SECONDS` (never a 500, never a hang), readiness is 503, liveness stays
//! 200, and the app recovers by itself when the database is back. PostgreSQL only: SQLite
//! is a file, not a peer that can go away.

use std::time::{Duration, Instant};

use api_tests::{Fault, FaultProxy, TestApp, TestUser, eventually};
use domain::Role;

const TIMEOUT_SECONDS: u64 = 2;

async fn app_behind_proxy() -> Option<(TestApp, FaultProxy, TestUser)> {
    let (app, proxy) =
        TestApp::spawn_behind_proxy(&[("DATABASE_TIMEOUT_SECONDS", &TIMEOUT_SECONDS.to_string())])
            .await?;
    let ann = app.create_user(Role::User).await;
    app.get_user(Some(&ann.token), &ann.id()).await.expect(200);
    Some((app, proxy, ann))
}

/// Sends `GET /users/{id}` (which reads the database) and checks it is a 503 that came
/// within the timeout, with a second of slack.
async fn expect_unavailable_in_time(app: &TestApp, ann: &TestUser) {
    let started = Instant::now();
    let response = app.get_user(Some(&ann.token), &ann.id()).await;
    let elapsed = started.elapsed();
    expect_503(&response);
    assert!(
        elapsed < Duration::from_secs(TIMEOUT_SECONDS + 1),
        "answered after {elapsed:?}"
    );
}

/// A 503 `Service unavailable` (in the test environment, with the cause in `details`).
fn expect_503(response: &api_tests::TestResponse) {
    assert_eq!(response.status.as_u16(), 503, "{:?}", response.json());
    assert_eq!(response.json()["error"], "Service unavailable");
}

async fn expect_recovery(app: &TestApp, ann: &TestUser, proxy: &FaultProxy) {
    proxy.set(Fault::Pass);
    let started = Instant::now();
    eventually("the API to answer again", || async {
        (app.get_user(Some(&ann.token), &ann.id())
            .await
            .status
            .as_u16()
            == 200)
            .then_some(())
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "recovered after {:?}",
        started.elapsed()
    );
    app.readiness().await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_database_answers_503_in_time_and_the_app_recovers() {
    let Some((app, proxy, ann)) = app_behind_proxy().await else {
        return;
    };

    proxy.set(Fault::Blackhole);

    // Several at once: more than one pooled connection is cut short, none hangs.
    let requests: Vec<_> = (0..4)
        .map(|_| expect_unavailable_in_time(&app, &ann))
        .collect();
    futures_util::future::join_all(requests).await;
    let readiness = app.readiness().await;
    assert_eq!(readiness.status.as_u16(), 503, "{:?}", readiness.json());
    app.health().await.expect(200);
    expect_recovery(&app, &ann, &proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_resets_connections_answers_503_and_the_app_recovers() {
    let Some((app, proxy, ann)) = app_behind_proxy().await else {
        return;
    };

    proxy.set(Fault::Reset);

    for _ in 0..3 {
        expect_unavailable_in_time(&app, &ann).await;
    }
    assert_eq!(app.readiness().await.status.as_u16(), 503);
    expect_recovery(&app, &ann, &proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_short_by_an_outage_is_answered_503_and_can_be_retried() {
    let Some((app, proxy, ann)) = app_behind_proxy().await else {
        return;
    };
    let body = serde_json::json!({ "title": "Written once", "published": false });

    proxy.set(Fault::Blackhole);
    let started = Instant::now();
    let refused = app.create_post(&ann.token, &body).await;
    expect_503(&refused);
    assert!(started.elapsed() < Duration::from_secs(TIMEOUT_SECONDS + 1));
    expect_recovery(&app, &ann, &proxy).await;

    app.create_post(&ann.token, &body).await.expect(201);
}
