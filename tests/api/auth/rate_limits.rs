//! Per-client rate limits: headers, 429, and who the client is behind proxies.

use api_tests::{Backend, TestApp};
use serde_json::json;

async fn app_with(variables: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, variables)
        .await
        .expect("SQLite is always available")
}

fn login_request(app: &TestApp) -> reqwest::RequestBuilder {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": "nobody@example.com", "password": "not the password" }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limited_routes_carry_the_ratelimit_headers() {
    let app = app_with(&[
        ("RATE_LIMIT_MAX", "50"),
        ("RATE_LIMIT_WINDOW_SECONDS", "600"),
    ])
    .await;

    let response = app.list_users(None, "").await;

    assert_eq!(response.header("ratelimit-policy"), Some("50;w=600"));
    assert_eq!(response.header("ratelimit-limit"), Some("50"));
    assert_eq!(response.header("ratelimit-remaining"), Some("49"));
    let reset: u64 = response.header("ratelimit-reset").unwrap().parse().unwrap();
    assert!((1..=600).contains(&reset));
    assert!(
        app.health().await.header("ratelimit-limit").is_none(),
        "health checks are not limited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_routes_have_their_own_stricter_limit_and_answer_429_beyond_it() {
    let app = app_with(&[("RATE_LIMIT_MAX", "100"), ("AUTH_RATE_LIMIT_MAX", "3")]).await;

    for remaining in ["2", "1", "0"] {
        let response = app.send_raw(login_request(&app)).await;
        assert_eq!(response.status.as_u16(), 401);
        assert_eq!(response.header("ratelimit-limit"), Some("3"));
        assert_eq!(response.header("ratelimit-remaining"), Some(remaining));
    }
    let refused = app.send_raw(login_request(&app)).await;

    refused.expect_error(429, "Too many requests");
    assert!(
        refused
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    app.list_users(None, "").await.expect(401); // other routes still answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = app_with(&[
        ("AUTH_RATE_LIMIT_MAX", "1"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let from = |client: &str| login_request(&app).header("x-forwarded-for", client);

    app.send_raw(from("198.51.100.1")).await.expect(401);
    app.send_raw(from("198.51.100.1")).await.expect(429);

    app.send_raw(from("198.51.100.2")).await.expect(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_peer_cannot_escape_its_limit_by_forging_forwarded_for() {
    let app = app_with(&[("AUTH_RATE_LIMIT_MAX", "1")]).await;
    let from = |client: &str| login_request(&app).header("x-forwarded-for", client);

    app.send_raw(from("198.51.100.1")).await.expect(401);

    app.send_raw(from("198.51.100.2")).await.expect(429);
}
