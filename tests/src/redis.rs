//! The test Redis (`TEST_REDIS_URL`) for the suites of several instances: a URL, a fault
//! proxy in front of it, and a key prefix of the test's own (so tests share database 15
//! without seeing each other's keys or channels).

use crate::FaultProxy;

/// The test Redis URL, or `None` after the suite's SKIPPED notice.
#[must_use]
pub fn test_redis() -> Option<String> {
    if let Ok(url) = std::env::var("TEST_REDIS_URL") {
        return Some(url);
    }
    eprintln!(
        "\n*** Redis suite SKIPPED: TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)\n"
    );
    None
}

/// A fault proxy in front of the test Redis, and the Redis URL through it; `None` (after
/// the notice) without `TEST_REDIS_URL`.
pub async fn proxied_redis() -> Option<(FaultProxy, String)> {
    let redis = url::Url::parse(&test_redis()?).expect("TEST_REDIS_URL is a Redis URL");
    let upstream = tokio::net::lookup_host((
        redis
            .host_str()
            .expect("a host in TEST_REDIS_URL")
            .to_owned(),
        redis.port().unwrap_or(6379),
    ))
    .await
    .expect("the test Redis's host resolves")
    .next()
    .expect("an address for the test Redis");
    let proxy = FaultProxy::start(upstream).await;
    let proxied = format!("redis://{}{}", proxy.address(), redis.path());
    Some((proxy, proxied))
}

/// A `REDIS_KEY_PREFIX` no other test uses.
#[must_use]
pub fn unique_redis_prefix() -> String {
    format!("test:{}:", uuid::Uuid::now_v7())
}
