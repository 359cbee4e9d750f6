//! The database becomes unreachable (through a fault proxy between the app and
//! PostgreSQL): requests that need it answer `503 Service unavailable` within
//! `DATABASE_TIMEOUT_SECONDS` (never a 500, never a hang), readiness is 503, liveness stays
//! 200, and the app recovers by itself when the database is back; transfers under load
//! through a blackhole, reset connections and a real `pg_ctlcluster restart` (of a cluster
//! of the tests' own) lose and duplicate nothing. PostgreSQL only: SQLite is a file, not a
//! peer that can go away.

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

#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
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

#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
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

#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
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

/// One client's view of a run of transfers: what was acknowledged, and every status with the
/// longest wait for it.
#[derive(Default)]
struct ClientLog {
    /// `(transfer id, from, to, amount)` of each acknowledged transfer.
    acknowledged: Vec<(String, usize, usize, i64)>,
    statuses: std::collections::HashMap<u16, u64>,
    slowest: Duration,
    /// When the last 503 came.
    last_unavailable: Option<Instant>,
}

/// Transfers between `accounts` for `run_for`, each with its own idempotency key; a
/// transfer answered 503 is retried with the same key and body until it is answered.
async fn transfer_and_retry(
    app: &TestApp,
    token: &str,
    accounts: &[String],
    client: usize,
    run_for: Duration,
) -> ClientLog {
    let mut log = ClientLog::default();
    let stop = Instant::now() + run_for;
    let mut turn = client;
    while Instant::now() < stop {
        turn += 1;
        let from = turn % accounts.len();
        let to = (from + 1 + client % (accounts.len() - 1)) % accounts.len();
        let amount = i64::try_from(1 + turn % 40).unwrap();
        let key = uuid::Uuid::now_v7().to_string();
        let first_attempt = Instant::now();
        loop {
            // Within the outage and its recovery bound, with slack: a retry loop that
            // never ends fails the test instead of holding it.
            assert!(
                first_attempt.elapsed() < Duration::from_secs(20),
                "a transfer not acknowledged in 20 s"
            );
            let started = Instant::now();
            let response = app
                .transfer(
                    token,
                    &accounts[from],
                    &accounts[to],
                    &serde_json::json!(amount),
                    Some(&key),
                )
                .await;
            log.slowest = log.slowest.max(started.elapsed());
            let status = response.status.as_u16();
            *log.statuses.entry(status).or_default() += 1;
            match status {
                201 => {
                    let id = response.json()["id"].as_str().unwrap().to_owned();
                    log.acknowledged.push((id, from, to, amount));
                    break;
                }
                503 => {
                    log.last_unavailable = Some(Instant::now());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                _ => break,
            }
        }
    }
    log
}

/// The body of `GET path` once the app answers it: a 503 (a pooled connection the outage
/// broke, found only by using it) is retried within the recovery bound of
/// [`eventually`]; any other status but 200 fails the test.
async fn read_once_recovered(app: &TestApp, token: &str, path: &str) -> serde_json::Value {
    eventually(&format!("GET {path} to answer 200"), || async {
        let response = app
            .send(reqwest::Method::GET, path, Some(token), None)
            .await;
        match response.status.as_u16() {
            200 => Some(response.json()),
            503 => None,
            other => panic!("GET {path}: {other} {:?}", response.json()),
        }
    })
    .await
}

/// Every transfer listed in the history of `account`, with how often it is listed.
async fn history(
    app: &TestApp,
    token: &str,
    account: &str,
) -> std::collections::HashMap<String, u32> {
    let mut listed = std::collections::HashMap::new();
    for page in 1.. {
        let body = read_once_recovered(
            app,
            token,
            &format!("/api/v1/accounts/{account}/transfers?limit=100&page={page}"),
        )
        .await;
        let data = body["data"].as_array().unwrap();
        for transfer in data {
            *listed
                .entry(transfer["id"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        if data.len() < 100 {
            break;
        }
    }
    listed
}

/// Eight clients transfer between six accounts for nine seconds while `fault` runs (it
/// starts one second in), retrying every 503 with the same idempotency key; then checks
/// that every answer was a 201 or a 503 within the timeout, that the fault was felt, that
/// money is conserved and that every acknowledged transfer is in both histories exactly
/// once (and nothing else is).
async fn transfers_through(app: &TestApp, fault: impl Future<Output = ()>) {
    const ACCOUNTS: usize = 6;
    const INITIAL: i64 = 100_000;
    let admin = app.create_user(Role::Admin).await;
    let mut accounts = Vec::new();
    for _ in 0..ACCOUNTS {
        accounts.push(
            app.funded_account(&admin.token, &admin.token, "USD", INITIAL)
                .await,
        );
    }

    let clients = (0..8).map(|client| {
        transfer_and_retry(app, &admin.token, &accounts, client, Duration::from_secs(9))
    });
    let fault = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        fault.await;
        Instant::now()
    };
    let (logs, recovered) = tokio::join!(futures_util::future::join_all(clients), fault);

    let mut statuses = std::collections::HashMap::<u16, u64>::new();
    for log in &logs {
        for (status, count) in &log.statuses {
            *statuses.entry(*status).or_default() += count;
        }
        assert!(
            log.slowest < Duration::from_secs(TIMEOUT_SECONDS + 1),
            "a client waited {:?}",
            log.slowest
        );
        // Everything succeeds within 10 s of the database's return.
        if let Some(last) = log.last_unavailable {
            assert!(
                last < recovered + Duration::from_secs(10),
                "a 503 {:?} after the database returned",
                last - recovered
            );
        }
    }
    // Shown with `--nocapture`: what the clients saw.
    println!(
        "statuses {statuses:?}, slowest answer {:?}, last 503 {:?} after the database returned",
        logs.iter().map(|log| log.slowest).max(),
        logs.iter()
            .filter_map(|log| log.last_unavailable)
            .max()
            .map(|last| last.saturating_duration_since(recovered))
    );
    assert!(
        statuses.keys().all(|status| matches!(status, 201 | 503)),
        "{statuses:?}"
    );
    assert!(
        statuses.get(&503).copied().unwrap_or(0) > 0,
        "the outage was felt: {statuses:?}"
    );
    let acknowledged: Vec<_> = logs.into_iter().flat_map(|log| log.acknowledged).collect();
    assert!(
        acknowledged.len() > 50,
        "too few transfers to prove anything: {statuses:?}"
    );

    let mut expected = [INITIAL; ACCOUNTS];
    for (_, from, to, amount) in &acknowledged {
        expected[*from] -= amount;
        expected[*to] += amount;
    }
    for (index, account) in accounts.iter().enumerate() {
        let body =
            read_once_recovered(app, &admin.token, &format!("/api/v1/accounts/{account}")).await;
        assert_eq!(
            body["balance"].as_i64(),
            Some(expected[index]),
            "account {index}"
        );
        let listed = history(app, &admin.token, account).await;
        let involved: Vec<_> = acknowledged
            .iter()
            .filter(|(_, from, to, _)| *from == index || *to == index)
            .collect();
        assert_eq!(
            listed.len(),
            involved.len(),
            "account {index}: a transfer twice, or one not acknowledged"
        );
        assert!(
            involved.iter().all(|(id, ..)| listed.get(id) == Some(&1)),
            "account {index}"
        );
    }
}

/// The load of [`transfers_through`] while the proxy plays `fault` for five seconds, during
/// which readiness is 503.
async fn transfers_through_five_seconds_of(fault: Fault) {
    let Some((app, proxy, _)) = app_behind_proxy().await else {
        return;
    };
    transfers_through(&app, async {
        proxy.set(fault);
        let started = Instant::now();
        // Past the deadline of what was in flight: the instance is not ready.
        tokio::time::sleep(Duration::from_secs(TIMEOUT_SECONDS + 1)).await;
        let readiness = app.readiness().await;
        assert_eq!(readiness.status.as_u16(), 503, "{:?}", readiness.json());
        tokio::time::sleep_until((started + Duration::from_secs(5)).into()).await;
        proxy.set(Fault::Pass);
    })
    .await;
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_through_a_five_second_outage_lose_and_duplicate_nothing() {
    transfers_through_five_seconds_of(Fault::Blackhole).await;
}

#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_through_five_seconds_of_reset_connections_lose_and_duplicate_nothing() {
    transfers_through_five_seconds_of(Fault::Reset).await;
}

#[cfg_attr(
    not(restartable_postgres_tests),
    ignore = "TEST_RESTARTABLE_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_through_a_real_postgresql_restart_lose_and_duplicate_nothing() {
    let timeout = TIMEOUT_SECONDS.to_string();
    let Some(app) =
        TestApp::spawn_on_restartable_postgres(&[("DATABASE_TIMEOUT_SECONDS", &timeout)]).await
    else {
        return;
    };
    let cluster = restartable_cluster();
    transfers_through(&app, async {
        let restarted = tokio::process::Command::new("pg_ctlcluster")
            .args([
                "--skip-systemctl-redirect",
                &cluster.0,
                &cluster.1,
                "restart",
            ])
            .status()
            .await
            .expect("run pg_ctlcluster");
        assert!(restarted.success(), "pg_ctlcluster restart: {restarted}");
    })
    .await;
}

/// The version and name of the cluster behind `TEST_RESTARTABLE_DATABASE_URL` (found by
/// its port in `pg_lsclusters`).
fn restartable_cluster() -> (String, String) {
    let url = url::Url::parse(&std::env::var("TEST_RESTARTABLE_DATABASE_URL").unwrap())
        .expect("a PostgreSQL URL");
    let port = url.port().unwrap_or(5432).to_string();
    let listed = std::process::Command::new("pg_lsclusters")
        .arg("-h")
        .output()
        .expect("run pg_lsclusters");
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|fields| fields.get(2) == Some(&port.as_str()))
        .map(|fields| (fields[0].to_owned(), fields[1].to_owned()))
        .expect("the restartable cluster in pg_lsclusters")
}
