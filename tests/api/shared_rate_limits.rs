//! Two instances with one `REDIS_URL` on one PostgreSQL database count a client's
//! requests, and a user's from any address, together; while Redis does not answer
//! (blackholed by a fault proxy) each keeps serving and counts in process, says so in
//! `shared_state_degraded`, and both count together again once Redis is back. Needs
//! `TEST_REDIS_URL` and `TEST_DATABASE_URL` (skipped with a notice without).

use std::time::{Duration, Instant};

use api_tests::{
    Backend, Fault, FaultProxy, Scrape, TestApp, eventually, proxied_redis, unique_redis_prefix,
};
use domain::Role;

/// Two instances on one PostgreSQL database whose rate limits go through a proxy to the
/// test Redis, with keys of their own; `None` without `TEST_REDIS_URL`.
async fn two_instances(limit: &str) -> Option<(TestApp, TestApp, FaultProxy)> {
    two_instances_with(&[("RATE_LIMIT_MAX", limit)]).await
}

async fn two_instances_with(settings: &[(&str, &str)]) -> Option<(TestApp, TestApp, FaultProxy)> {
    let (proxy, proxied) = proxied_redis().await?;
    let prefix = unique_redis_prefix();
    let mut variables = vec![
        ("REDIS_URL", proxied.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    variables.extend_from_slice(settings);
    let first = TestApp::spawn_with(Backend::Postgres, &variables).await?;
    let second = first.spawn_another(&variables).await;
    Some((first, second, proxy))
}

fn remaining(response: &api_tests::TestResponse) -> Option<&str> {
    response.header("ratelimit-remaining")
}

#[cfg_attr(
    not(all(postgres_tests, redis_tests)),
    ignore = "TEST_DATABASE_URL and TEST_REDIS_URL were not both set at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_requests_on_two_instances_count_against_one_limit() {
    let Some((first, second, _proxy)) = two_instances("4").await else {
        return;
    };

    let mut seen = Vec::new();
    for instance in [&first, &second, &first, &second] {
        let response = instance.list_users(None, "").await;
        response.expect_error(401, "Authentication required");
        seen.push(remaining(&response).unwrap().to_owned());
    }
    let refused = first.list_users(None, "").await;

    assert_eq!(seen, ["3", "2", "1", "0"]);
    refused.expect_error(429, "Too many requests");
    drop(second);
}

#[cfg_attr(
    not(all(postgres_tests, redis_tests)),
    ignore = "TEST_DATABASE_URL and TEST_REDIS_URL were not both set at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_requests_on_two_instances_from_several_addresses_count_against_one_limit() {
    let Some((first, second, _proxy)) = two_instances_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("RATE_LIMIT_MAX", "100"),
        ("USER_RATE_LIMIT_MAX", "3"),
    ])
    .await
    else {
        return;
    };
    let ann = first.create_user(Role::User).await;
    let users_from = |instance: &TestApp, address: &str| {
        instance
            .client
            .get(instance.url("/api/v1/users"))
            .bearer_auth(&ann.token)
            .header("x-forwarded-for", address)
    };

    let mut seen = Vec::new();
    for (instance, address) in [
        (&first, "192.0.2.1"),
        (&second, "198.51.100.2"),
        (&first, "203.0.113.3"),
    ] {
        let response = instance.send_raw(users_from(instance, address)).await;
        assert_eq!(response.status.as_u16(), 200);
        seen.push(remaining(&response).unwrap().to_owned());
    }
    let refused = second.send_raw(users_from(&second, "192.0.2.99")).await;

    assert_eq!(seen, ["2", "1", "0"]);
    refused.expect_error(429, "Too many requests");
}

/// `shared_state_degraded{component="rate_limits"}` on `app`.
async fn degraded(app: &TestApp) -> f64 {
    Scrape::of(app)
        .await
        .value("shared_state_degraded", &[("component", "rate_limits")])
}

#[cfg_attr(
    not(all(postgres_tests, redis_tests)),
    ignore = "TEST_DATABASE_URL and TEST_REDIS_URL were not both set at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_silent_each_instance_counts_alone_and_both_share_again_after() {
    let Some((first, second, proxy)) = two_instances("1000").await else {
        return;
    };
    first.list_users(None, "").await;
    assert_eq!(
        remaining(&second.list_users(None, "").await),
        Some("998"),
        "shared"
    );

    proxy.set(Fault::Blackhole);
    let started = Instant::now();
    let during = [
        first.list_users(None, "").await,
        second.list_users(None, "").await,
    ];
    let slowest = started.elapsed();

    for response in &during {
        response.expect_error(401, "Authentication required");
        assert!(remaining(response).is_some(), "still limited, in process");
    }
    assert!(slowest < Duration::from_secs(3), "{slowest:?}");
    // Counted apart: each instance's own memory starts from its first fallback hit.
    assert_eq!(remaining(&during[0]), Some("999"));
    assert_eq!(remaining(&during[1]), Some("999"));
    assert!(
        degraded(&first).await > 0.5,
        "the gauge says it counts alone"
    );

    proxy.set(Fault::Pass);
    eventually("the two instances to count together again", || async {
        let one: u32 = remaining(&first.list_users(None, "").await)?.parse().ok()?;
        let other: u32 = remaining(&second.list_users(None, "").await)?
            .parse()
            .ok()?;
        // Shared counters: the second sees the first's hit.
        (one == other + 1 && one < 998).then_some(())
    })
    .await;
    assert!(
        degraded(&first).await < 0.5,
        "the gauge says it shares again"
    );
    drop(second);
}
