//! Prometheus metrics: the [`Telemetry`] port recorded into a registry of this app's own, and
//! rendered in the Prometheus text format for `/metrics` (API.md, "Operations").
//!
//! The registry is an instance, not the `metrics` crate's process-wide recorder: two apps in
//! one process (the black-box tests start dozens) count apart, and nothing is recorded by
//! accident from code that was not handed a [`Telemetry`].

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::{PoisonError, RwLock};

use domain::ports::{HttpRequestRecord, JobOutcome, SocketDirection, Telemetry};
use metrics::{Key, Label, Level, Metadata, Recorder as _};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// OpenTelemetry's default buckets for HTTP server durations, in seconds.
const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
/// Job attempts: an email takes from milliseconds (outbox) to the SMTP timeout.
const JOB_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

const METADATA: Metadata<'static> = Metadata::new("backend", Level::INFO, None);

/// One series of the request histogram, kept so that a request after the first finds its
/// histogram without building its labels again.
struct RequestSeries {
    method: Box<str>,
    route: Box<str>,
    status: u16,
    histogram: metrics::Histogram,
}

/// See the crate documentation.
pub struct PrometheusTelemetry {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Registered once; updated on every request.
    active_requests: metrics::Gauge,
    /// Registered once: recorded on every statement group and every password hash.
    connection_wait: metrics::Histogram,
    hash_duration: metrics::Histogram,
    hash_queue: metrics::Gauge,
    /// The request histogram's series, by the hash of their labels.
    requests: RwLock<HashMap<u64, Vec<RequestSeries>>>,
    hasher: RandomState,
}

impl std::fmt::Debug for PrometheusTelemetry {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PrometheusTelemetry")
            .finish_non_exhaustive()
    }
}

impl PrometheusTelemetry {
    /// A registry with the histograms' buckets set and `build_info{version}` at 1.
    ///
    /// # Panics
    /// Never in practice: the bucket lists are constant and not empty.
    #[must_use]
    pub fn new(version: &str) -> Self {
        let recorder = [
            ("http_server_request_duration_seconds", HTTP_BUCKETS),
            ("db_client_connection_wait_time_seconds", HTTP_BUCKETS),
            ("password_hash_duration_seconds", HTTP_BUCKETS),
            ("job_duration_seconds", JOB_BUCKETS),
            ("job_queue_latency_seconds", JOB_BUCKETS),
        ]
        .into_iter()
        .try_fold(PrometheusBuilder::new(), |builder, (name, buckets)| {
            builder.set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets)
        })
        .expect("constant, non-empty buckets")
        .build_recorder();
        let handle = recorder.handle();
        let active_requests =
            recorder.register_gauge(&Key::from_name("http_server_active_requests"), &METADATA);
        let unlabelled = |name| Key::from_name(name);
        let telemetry = Self {
            connection_wait: recorder.register_histogram(
                &unlabelled("db_client_connection_wait_time_seconds"),
                &METADATA,
            ),
            hash_duration: recorder
                .register_histogram(&unlabelled("password_hash_duration_seconds"), &METADATA),
            hash_queue: recorder
                .register_gauge(&unlabelled("password_hash_queue_depth"), &METADATA),
            recorder,
            handle,
            active_requests,
            requests: RwLock::default(),
            hasher: RandomState::new(),
        };
        telemetry
            .gauge(
                "build_info",
                vec![Label::new("version", version.to_owned())],
            )
            .set(1.0);
        for name in [
            "http_server_active_requests",
            "socketio_connected_sockets",
            "jobs_pending",
            "password_hash_queue_depth",
        ] {
            telemetry.gauge(name, Vec::new()).set(0.0);
        }
        telemetry
    }

    /// The Prometheus text exposition of every metric.
    #[must_use]
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Drains histogram samples into their buckets; call it every few seconds, so that memory
    /// stays bounded between scrapes.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> metrics::Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    fn gauge(&self, name: &'static str, labels: Vec<Label>) -> metrics::Gauge {
        self.recorder
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
    }

    fn histogram(&self, name: &'static str, labels: Vec<Label>) -> metrics::Histogram {
        self.recorder
            .register_histogram(&Key::from_parts(name, labels), &METADATA)
    }

    /// Records `request` in its series: found under a read lock after the first request of
    /// its method, route and status, which registers it.
    fn record_request(&self, request: HttpRequestRecord<'_>) {
        let hash = self
            .hasher
            .hash_one((request.method, request.route, request.status));
        let matches = |series: &RequestSeries| {
            series.status == request.status
                && *series.method == *request.method
                && *series.route == *request.route
        };
        {
            let requests = self.requests.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(series) = requests
                .get(&hash)
                .and_then(|bucket| bucket.iter().find(|series| matches(series)))
            {
                series.histogram.record(request.seconds);
                return;
            }
        }
        let labels = vec![
            Label::new("http_request_method", request.method.to_owned()),
            Label::new("http_route", request.route.to_owned()),
            Label::new("http_response_status_code", request.status.to_string()),
        ];
        let histogram = self.histogram("http_server_request_duration_seconds", labels);
        histogram.record(request.seconds);
        let mut requests = self
            .requests
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let bucket = requests.entry(hash).or_default();
        if !bucket.iter().any(matches) {
            bucket.push(RequestSeries {
                method: request.method.into(),
                route: request.route.into(),
                status: request.status,
                histogram,
            });
        }
    }
}

impl Telemetry for PrometheusTelemetry {
    fn http_request_started(&self) {
        self.active_requests.increment(1.0);
    }

    fn http_request_finished(&self, request: HttpRequestRecord<'_>) {
        self.active_requests.decrement(1.0);
        self.record_request(request);
    }

    fn rate_limit_rejected(&self, limit: &'static str) {
        self.counter(
            "rate_limit_rejections_total",
            vec![Label::new("limit", limit)],
        )
        .increment(1);
    }

    fn shared_state_degraded(&self, component: &'static str, degraded: bool) {
        self.gauge(
            "shared_state_degraded",
            vec![Label::new("component", component)],
        )
        .set(if degraded { 1.0 } else { 0.0 });
    }

    fn sockets_changed(&self, delta: i64) {
        #[expect(clippy::cast_precision_loss, reason = "a delta of one socket")]
        self.gauge("socketio_connected_sockets", Vec::new())
            .increment(delta as f64);
    }

    fn jobs_enqueued(&self, kind: &str, count: u64) {
        self.counter(
            "jobs_enqueued_total",
            vec![Label::new("kind", kind.to_owned())],
        )
        .increment(count);
    }

    fn job_finished(&self, kind: &str, outcome: JobOutcome, seconds: f64) {
        let kind = Label::new("kind", kind.to_owned());
        self.counter(
            "jobs_finished_total",
            vec![kind.clone(), Label::new("outcome", outcome.as_str())],
        )
        .increment(1);
        self.histogram("job_duration_seconds", vec![kind])
            .record(seconds);
    }

    fn jobs_pending(&self, count: u64) {
        #[expect(clippy::cast_precision_loss, reason = "a gauge; exact below 2^53")]
        self.gauge("jobs_pending", Vec::new()).set(count as f64);
    }

    fn database_connections(&self, idle: u64, used: u64) {
        for (state, count) in [("idle", idle), ("used", used)] {
            #[expect(clippy::cast_precision_loss, reason = "a pool's size")]
            self.gauge(
                "db_client_connection_count",
                vec![Label::new("state", state)],
            )
            .set(count as f64);
        }
    }

    fn database_connection_waited(&self, seconds: f64) {
        self.connection_wait.record(seconds);
    }

    fn password_hash_queue(&self, depth: u64) {
        #[expect(clippy::cast_precision_loss, reason = "a gauge; exact below 2^53")]
        self.hash_queue.set(depth as f64);
    }

    fn password_hashed(&self, seconds: f64) {
        self.hash_duration.record(seconds);
    }

    fn job_started(&self, kind: &str, seconds: f64) {
        self.histogram(
            "job_queue_latency_seconds",
            vec![Label::new("kind", kind.to_owned())],
        )
        .record(seconds);
    }

    fn socket_event(&self, direction: SocketDirection, event: &'static str) {
        self.counter(
            "socketio_events_total",
            vec![
                Label::new("direction", direction.as_str()),
                Label::new("event", event),
            ],
        )
        .increment(1);
    }
}

#[cfg(test)]
mod tests;
