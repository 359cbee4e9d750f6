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

/// `GET /api/v1/users` with `token`, as a client at `address` behind the trusted proxy.
fn users_from(app: &TestApp, token: &str, address: &str) -> reqwest::RequestBuilder {
    app.client
        .get(app.url("/api/v1/users"))
        .bearer_auth(token)
        .header("x-forwarded-for", address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_requests_count_against_one_limit_whatever_their_address() {
    let app = app_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("RATE_LIMIT_MAX", "100"),
        ("USER_RATE_LIMIT_MAX", "3"),
    ])
    .await;
    let ann = app.create_user(domain::Role::User).await;
    let bob = app.create_user(domain::Role::User).await;

    for (address, remaining) in [
        ("192.0.2.1", "2"),
        ("198.51.100.2", "1"),
        ("203.0.113.3", "0"),
    ] {
        let response = app.send_raw(users_from(&app, &ann.token, address)).await;
        assert_eq!(response.status.as_u16(), 200);
        assert_eq!(
            response.header("ratelimit-policy"),
            Some("3;w=900"),
            "the user limit is the closest"
        );
        assert_eq!(response.header("ratelimit-remaining"), Some(remaining));
    }
    let refused = app
        .send_raw(users_from(&app, &ann.token, "192.0.2.99"))
        .await;

    refused.expect_error(429, "Too many requests");
    assert!(refused.header("retry-after").is_some());
    // Another user at the same addresses, and anonymous requests, are not held back.
    let bobs = app
        .send_raw(users_from(&app, &bob.token, "192.0.2.1"))
        .await;
    assert_eq!(bobs.status.as_u16(), 200);
    assert_eq!(bobs.header("ratelimit-remaining"), Some("2"));
    let anonymous = app
        .send_raw(
            app.client
                .get(app.url("/api/v1/users"))
                .header("x-forwarded-for", "192.0.2.1"),
        )
        .await;
    anonymous.expect_error(401, "Authentication required");
    assert_eq!(anonymous.header("ratelimit-limit"), Some("100"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_headers_describe_the_limit_closest_to_exhaustion() {
    let app = app_with(&[("RATE_LIMIT_MAX", "5"), ("USER_RATE_LIMIT_MAX", "50")]).await;
    let ann = app.create_user(domain::Role::User).await;

    let response = app.list_users(Some(&ann.token), "").await;

    assert_eq!(
        response.header("ratelimit-limit"),
        Some("5"),
        "the client's limit is nearer"
    );
    assert_eq!(response.header("ratelimit-remaining"), Some("4"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_does_not_verify_counts_for_no_user() {
    let app = app_with(&[("RATE_LIMIT_MAX", "100"), ("USER_RATE_LIMIT_MAX", "1")]).await;

    for _ in 0..3 {
        let response = app.list_users(Some("not.a.token"), "").await;
        response.expect_error(401, "Invalid token");
        assert_eq!(response.header("ratelimit-limit"), Some("100"));
    }
}
