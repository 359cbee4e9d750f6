//! What the Redis adapter's suites share: the test Redis, or the notice that they are
//! skipped without one.

/// `TEST_REDIS_URL`, or `None` after the suite's SKIPPED notice.
pub(crate) fn test_redis_url() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").ok();
    if url.is_none() {
        eprintln!(
            "\n*** Redis suite SKIPPED: TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)\n"
        );
    }
    url
}
