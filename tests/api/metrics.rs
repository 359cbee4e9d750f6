//! `/metrics` (API.md, "Operations"): Prometheus text, scraped and parsed as Prometheus
//! would, on the API listener for loopback peers outside production.

use api_tests::{Backend, Scrape, TestApp, api_test};
use domain::Role;
use reqwest::Method;

api_test! {
    async fn requests_are_counted_by_route_template_method_and_status(app) {
        let user = app.create_user(Role::User).await;
        let series = [
            ("http_request_method", "GET"),
            ("http_route", "/api/v1/users/{id}"),
            ("http_response_status_code", "404"),
        ];
        let before = Scrape::of(&app).await.count("http_server_request_duration_seconds_count", &series);

        for _ in 0..50 {
            let path = format!("/api/v1/users/{}", uuid::Uuid::now_v7());
            app.send(Method::GET, &path, Some(&user.token), None).await.expect(404);
        }
        app.send(Method::GET, "/wp-login.php", None, None).await.expect(404);

        let after = Scrape::of(&app).await;
        assert_eq!(after.count("http_server_request_duration_seconds_count", &series) - before, 50);
        assert!(after.count("http_server_request_duration_seconds_count", &[("http_route", "unmatched")]) >= 1);
        assert!(
            after.0.iter().all(|sample| sample.labels.iter().all(|(_, value)| !value.contains("wp-login"))),
            "raw paths never become labels"
        );
        assert!(after.has("http_server_request_duration_seconds_bucket"), "a histogram, with buckets");
        assert_eq!(after.count("http_server_active_requests", &[]), 1, "the scrape itself");
        assert_eq!(after.count("build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1);
        assert!(after.has("socketio_connected_sockets") && after.has("jobs_pending"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_moves_the_rejections_of_its_limit() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("RATE_LIMIT_MAX", "2")])
        .await
        .unwrap();
    for _ in 0..3 {
        app.send(Method::GET, "/api/v1/auth/me", None, None).await;
    }

    let scrape = Scrape::of(&app).await;

    assert_eq!(
        scrape.count("rate_limit_rejections_total", &[("limit", "global")]),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_not_served_on_the_api_listener_in_production() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("APP_ENV", "production"),
            ("JWT_SECRET", "Zq3vN8kZ2pW7xR4mT9bL6cY1dF5gJ0sAr7Xw"),
        ],
    )
    .await
    .unwrap();

    app.send(Method::GET, "/metrics", None, None)
        .await
        .expect_error(404, "Not found");
}

api_test! {
    async fn a_registration_moves_the_job_counters(app) {
        let welcome = [("kind", "mail.welcome")];
        let succeeded = [("kind", "mail.welcome"), ("outcome", "succeeded")];
        let before = Scrape::of(&app).await;

        app.register(&serde_json::json!({ "email": "counted@example.com", "password": "correct horse battery" }))
            .await
            .expect(201);

        let enqueued = Scrape::of(&app).await.count("jobs_enqueued_total", &welcome);
        assert_eq!(enqueued - before.count("jobs_enqueued_total", &welcome), 1);
        let delivered = api_tests::eventually("the welcome email is delivered", || async {
            let delivered = Scrape::of(&app).await.count("jobs_finished_total", &succeeded);
            (delivered > before.count("jobs_finished_total", &succeeded)).then_some(delivered)
        })
        .await;
        assert_eq!(delivered - before.count("jobs_finished_total", &succeeded), 1);
        assert!(Scrape::of(&app).await.has("job_duration_seconds_bucket"));
        // Where an operator looks next: how long the email waited for a worker, the
        // registration's password hash, and the pool waits of its statements (a database's:
        // memory:// has no pool).
        let after = Scrape::of(&app).await;
        assert_eq!(
            after.count("job_queue_latency_seconds_count", &welcome)
                - before.count("job_queue_latency_seconds_count", &welcome),
            1
        );
        assert!(
            after.count("password_hash_duration_seconds_count", &[])
                > before.count("password_hash_duration_seconds_count", &[])
        );
        assert_eq!(
            after.count("db_client_connection_wait_time_seconds_count", &[])
                > before.count("db_client_connection_wait_time_seconds_count", &[]),
            !app.is_in_memory()
        );
        assert_eq!(after.count("password_hash_queue_depth", &[]), 0, "nothing left queued");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_addr_gives_metrics_a_listener_of_their_own_even_in_production() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("APP_ENV", "production"),
            ("JWT_SECRET", "Zq3vN8kZ2pW7xR4mT9bL6cY1dF5gJ0sAr7Xw"),
            ("METRICS_ADDR", "127.0.0.1:0"),
        ],
    )
    .await
    .unwrap();
    app.send(Method::GET, "/health", None, None)
        .await
        .expect(200);
    let metrics = app.metrics_address.clone().expect("a metrics listener");

    let scrape = Scrape::from_url(&app, &format!("{metrics}/metrics")).await;
    let elsewhere = app
        .client
        .get(format!("{metrics}/api/v1/users"))
        .send()
        .await
        .unwrap();

    assert_eq!(
        scrape.count(
            "http_server_request_duration_seconds_count",
            &[("http_route", "/health")]
        ),
        1
    );
    assert_eq!(
        elsewhere.status().as_u16(),
        404,
        "the metrics listener serves nothing else"
    );
    app.send(Method::GET, "/metrics", None, None)
        .await
        .expect_error(404, "Not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_metrics_addr_the_api_listener_serves_no_metrics() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("METRICS_ADDR", "127.0.0.1:0")])
        .await
        .unwrap();

    app.send(Method::GET, "/metrics", None, None)
        .await
        .expect_error(404, "Not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_api_md_names_is_exposed_with_its_labels() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("AUTH_RATE_LIMIT_MAX", "2")])
        .await
        .unwrap();
    app.register(
        &serde_json::json!({ "email": "named@example.com", "password": "correct horse battery" }),
    )
    .await
    .expect(201);
    for _ in 0..2 {
        app.send(Method::GET, "/api/v1/auth/me", None, None).await;
    }

    let scrape = api_tests::eventually("the welcome job is counted", || async {
        let scrape = Scrape::of(&app).await;
        scrape.has("jobs_finished_total").then_some(scrape)
    })
    .await;

    let labelled = |name: &str, labels: &[&str]| {
        let sample = scrape.0.iter().find(|sample| sample.name == name);
        let sample = sample.unwrap_or_else(|| panic!("{name} is not exposed"));
        for label in labels {
            assert!(
                sample.labels.iter().any(|(key, _)| key == label),
                "{name} lacks {label}"
            );
        }
    };
    labelled(
        "http_server_request_duration_seconds_bucket",
        &[
            "http_request_method",
            "http_route",
            "http_response_status_code",
            "le",
        ],
    );
    labelled("http_server_active_requests", &[]);
    labelled("db_client_connection_count", &["state"]);
    labelled("jobs_enqueued_total", &["kind"]);
    labelled("jobs_finished_total", &["kind", "outcome"]);
    labelled("job_duration_seconds_bucket", &["kind", "le"]);
    labelled("jobs_pending", &[]);
    labelled("socketio_connected_sockets", &[]);
    labelled("rate_limit_rejections_total", &["limit"]);
    labelled("build_info", &["version"]);
    assert_eq!(
        scrape.count("rate_limit_rejections_total", &[("limit", "auth")]),
        1
    );
}
