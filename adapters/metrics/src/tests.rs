use super::*;

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn a_request_is_one_observation_of_its_route_in_buckets() {
    let telemetry = PrometheusTelemetry::new("1.2.3");
    telemetry.http_request_started();
    telemetry.http_request_finished(HttpRequestRecord {
        method: "GET",
        route: "/api/v1/users/{id}",
        status: 200,
        seconds: 0.003,
    });

    let text = telemetry.render();
    let series = r#"http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/api/v1/users/{id}",http_response_status_code="200",le="0.005"}"#;
    assert_eq!(sample(&text, series), Some(1.0), "{text}");
    assert_eq!(sample(&text, "http_server_active_requests"), Some(0.0));
    assert_eq!(sample(&text, r#"build_info{version="1.2.3"}"#), Some(1.0));
}

#[test]
fn requests_of_one_series_accumulate_and_other_series_stay_apart() {
    let telemetry = PrometheusTelemetry::new("1");
    let request = |method, status| HttpRequestRecord {
        method,
        route: "/health",
        status,
        seconds: 0.001,
    };
    for _ in 0..3 {
        telemetry.http_request_finished(request("GET", 200));
    }
    telemetry.http_request_finished(request("GET", 500));
    telemetry.http_request_finished(request("HEAD", 200));

    let text = telemetry.render();
    let count = |method: &str, status: &str| {
        sample(
            &text,
            &format!(
                r#"http_server_request_duration_seconds_count{{http_request_method="{method}",http_route="/health",http_response_status_code="{status}"}}"#
            ),
        )
    };
    assert_eq!(count("GET", "200"), Some(3.0), "{text}");
    assert_eq!(count("GET", "500"), Some(1.0));
    assert_eq!(count("HEAD", "200"), Some(1.0));
}

#[test]
fn two_registries_count_apart() {
    let first = PrometheusTelemetry::new("1");
    let second = PrometheusTelemetry::new("1");
    first.rate_limit_rejected("global");

    assert_eq!(
        sample(
            &first.render(),
            r#"rate_limit_rejections_total{limit="global"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &second.render(),
            r#"rate_limit_rejections_total{limit="global"}"#
        ),
        None
    );
}

#[test]
fn jobs_and_sockets_and_the_pool_are_counted_with_their_labels() {
    let telemetry = PrometheusTelemetry::new("1");
    telemetry.jobs_enqueued("mail.welcome", 2);
    telemetry.job_finished("mail.welcome", JobOutcome::Dead, 0.2);
    telemetry.sockets_changed(1);
    telemetry.sockets_changed(1);
    telemetry.sockets_changed(-1);
    telemetry.jobs_pending(7);
    telemetry.database_connections(3, 2);

    let text = telemetry.render();
    assert_eq!(
        sample(&text, r#"jobs_enqueued_total{kind="mail.welcome"}"#),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"jobs_finished_total{kind="mail.welcome",outcome="dead"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"job_duration_seconds_count{kind="mail.welcome"}"#),
        Some(1.0)
    );
    assert_eq!(sample(&text, "socketio_connected_sockets"), Some(1.0));
    assert_eq!(sample(&text, "jobs_pending"), Some(7.0));
    assert_eq!(
        sample(&text, r#"db_client_connection_count{state="used"}"#),
        Some(2.0)
    );
}
