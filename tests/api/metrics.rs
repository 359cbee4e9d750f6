//! `/metrics` (API.md, "Operations"): Prometheus text, scraped and parsed as Prometheus
//! would, on the API listener for loopback peers outside production.
#![allow(
    clippy::float_cmp,
    reason = "the samples compared are counts, exact in an f64"
)]

use api_tests::{Backend, TestApp, api_test};
use domain::Role;
use reqwest::Method;

/// One sample line: `name{label="value",...} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// Parses one line of the Prometheus text format (version 0.0.4): comments are skipped; a
/// label value is a quoted string with `\\`, `\"` and `\n` escapes, and may hold any
/// other character, braces included.
fn parse_line(line: &str) -> Option<Sample> {
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    let name_end = line.find(['{', ' ']).expect("a metric name");
    let name = line[..name_end].to_owned();
    let mut labels = Vec::new();
    let mut rest = &line[name_end..];
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inner.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after_key) = inner.split_once("=\"").expect("label=\"value\"");
            let mut value = String::new();
            let mut characters = after_key.char_indices();
            let end = loop {
                match characters.next().expect("a closed label value") {
                    (_, '\\') => match characters.next().expect("an escape").1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    (index, '"') => break index,
                    (_, other) => value.push(other),
                }
            };
            labels.push((key.trim_start_matches(',').to_owned(), value));
            inner = &after_key[end + 1..];
        }
    }
    let value = rest.split_whitespace().next().expect("a value");
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number.parse().expect("a number"),
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// The samples of one scrape.
struct Scrape(Vec<Sample>);

impl Scrape {
    async fn of(app: &TestApp) -> Self {
        let response = app.send(Method::GET, "/metrics", None, None).await;
        assert_eq!(response.status.as_u16(), 200);
        assert!(
            response
                .header("content-type")
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        let text = String::from_utf8(response.body.clone()).unwrap();
        Self(text.lines().filter_map(parse_line).collect())
    }

    /// The sum of the series `name` whose labels include `labels`; 0 when there is none.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|sample| sample.name == name)
            .filter(|sample| {
                labels
                    .iter()
                    .all(|(key, value)| sample.labels.iter().any(|(k, v)| k == key && v == value))
            })
            .map(|sample| sample.value)
            .sum()
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|sample| sample.name == name)
    }
}

#[test]
fn the_parser_reads_braces_and_escapes_inside_label_values() {
    let sample =
        parse_line(r#"x_bucket{route="/u/{id}",note="a \"q\" \\ b",le="+Inf"} 3"#).unwrap();
    assert_eq!(sample.name, "x_bucket");
    assert_eq!(sample.labels[0], ("route".to_owned(), "/u/{id}".to_owned()));
    assert_eq!(sample.labels[1].1, r#"a "q" \ b"#);
    assert_eq!(sample.labels[2].1, "+Inf");
    assert!((sample.value - 3.0).abs() < f64::EPSILON);
    assert!(parse_line("# TYPE x counter").is_none());
}

api_test! {
    async fn requests_are_counted_by_route_template_method_and_status(app) {
        let user = app.create_user(Role::User).await;
        let series = [
            ("http_request_method", "GET"),
            ("http_route", "/api/v1/users/{id}"),
            ("http_response_status_code", "404"),
        ];
        let before = Scrape::of(&app).await.value("http_server_request_duration_seconds_count", &series);

        for _ in 0..50 {
            let path = format!("/api/v1/users/{}", uuid::Uuid::now_v7());
            app.send(Method::GET, &path, Some(&user.token), None).await.expect(404);
        }
        app.send(Method::GET, "/wp-login.php", None, None).await.expect(404);

        let after = Scrape::of(&app).await;
        assert_eq!(after.value("http_server_request_duration_seconds_count", &series) - before, 50.0);
        assert!(after.value("http_server_request_duration_seconds_count", &[("http_route", "unmatched")]) >= 1.0);
        assert!(
            after.0.iter().all(|sample| sample.labels.iter().all(|(_, value)| !value.contains("wp-login"))),
            "raw paths never become labels"
        );
        assert!(after.has("http_server_request_duration_seconds_bucket"), "a histogram, with buckets");
        assert_eq!(after.value("http_server_active_requests", &[]), 1.0, "the scrape itself");
        assert_eq!(after.value("build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);
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
        scrape.value("rate_limit_rejections_total", &[("limit", "global")]),
        1.0
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
