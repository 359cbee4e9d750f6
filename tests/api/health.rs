//! `/health` and `/health/ready`.

use api_tests::api_test;

api_test! {
    async fn liveness_answers_healthy_with_a_timestamp(app) {
        let response = app.health().await;

        let body = response.expect(200);
        assert_eq!(body["status"], "healthy");
        let timestamp = body["timestamp"].as_str().expect("a timestamp string");
        assert!(chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(), "not RFC 3339: {timestamp}");
    }
}

api_test! {
    async fn readiness_reports_the_database_up(app) {
        let response = app.readiness().await;

        assert_eq!(response.expect(200), serde_json::json!({ "status": "ready", "checks": { "database": "up" } }));
    }
}

/// PostgreSQL only: a SQLite file cannot be taken away from a running process.
#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_503_while_liveness_stays_200_when_the_database_is_gone() {
    let Some(app) = api_tests::TestApp::spawn(api_tests::Backend::Postgres).await else {
        return;
    };

    app.drop_database().await;

    let readiness = app.readiness().await;
    let body = readiness.expect(503);
    assert_eq!(
        body,
        serde_json::json!({
            "error": "Service unavailable",
            "requestId": readiness.request_id(),
            "details": { "status": "unavailable", "checks": { "database": "down" } }
        })
    );
    app.health().await.expect(200);
}
