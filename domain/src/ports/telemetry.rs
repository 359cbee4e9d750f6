//! What the service counts for its operators: API.md, "Operations". Adapters record it (the
//! Prometheus adapter renders it for `/metrics`); [`NoTelemetry`] drops it, for tests and
//! for tools that need no metrics.

/// One HTTP request, as its metrics see it.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequestRecord<'a> {
    pub method: &'a str,
    /// The route template (`/api/v1/users/{id}`), never the raw path.
    pub route: &'a str,
    pub status: u16,
    pub seconds: f64,
}

/// How a job attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Succeeded,
    /// Failed; it runs again later.
    Failed,
    /// Failed for good (out of attempts, or a permanent error).
    Dead,
}

impl JobOutcome {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }
}

/// The operator's counters, gauges and histograms. Every method is cheap and never fails:
/// recording a metric must not change what a request or a job does.
pub trait Telemetry: Send + Sync + 'static {
    /// A request arrived (the active-requests gauge goes up).
    fn http_request_started(&self);
    /// A request was answered (the gauge goes down; the duration is recorded).
    fn http_request_finished(&self, request: HttpRequestRecord<'_>);
    /// A rate limit refused a request; `limit` names which (`global`, `auth`, ...).
    fn rate_limit_rejected(&self, limit: &'static str);
    /// A socket.io client connected (`delta` 1) or disconnected (`delta` -1).
    fn sockets_changed(&self, delta: i64);
    /// `count` jobs of `kind` were committed to the queue.
    fn jobs_enqueued(&self, kind: &str, count: u64);
    /// A job attempt of `kind` ended after `seconds`.
    fn job_finished(&self, kind: &str, outcome: JobOutcome, seconds: f64);
    /// Jobs queued or failed and awaiting a retry, as last counted.
    fn jobs_pending(&self, count: u64);
    /// The database pool's connections, as last sampled.
    fn database_connections(&self, idle: u64, used: u64);
    /// A statement group waited `seconds` for a pool connection (whether it got one or not).
    fn database_connection_waited(&self, seconds: f64);
    /// Password hashes and verifications waiting for a hashing thread, now.
    fn password_hash_queue(&self, depth: u64);
    /// A hash or verification took `seconds` of a hashing thread.
    fn password_hashed(&self, seconds: f64);
    /// A job attempt of `kind` started `seconds` after the job became ready to run.
    fn job_started(&self, kind: &str, seconds: f64);
    /// A socket.io event went `In` from a client or `Out` to a room.
    fn socket_event(&self, direction: SocketDirection, event: &'static str);
    /// `component` (`rate_limits`, `socket_io`, `revocations`) lost the state it shares with
    /// the other instances and runs on this instance alone (`degraded`), or shares again.
    fn shared_state_degraded(&self, component: &'static str, degraded: bool);
}

/// Which way a socket.io event went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketDirection {
    In,
    Out,
}

impl SocketDirection {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }
}

/// Records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTelemetry;

impl Telemetry for NoTelemetry {
    fn http_request_started(&self) {}
    fn http_request_finished(&self, _request: HttpRequestRecord<'_>) {}
    fn rate_limit_rejected(&self, _limit: &'static str) {}
    fn sockets_changed(&self, _delta: i64) {}
    fn jobs_enqueued(&self, _kind: &str, _count: u64) {}
    fn job_finished(&self, _kind: &str, _outcome: JobOutcome, _seconds: f64) {}
    fn jobs_pending(&self, _count: u64) {}
    fn database_connections(&self, _idle: u64, _used: u64) {}
    fn database_connection_waited(&self, _seconds: f64) {}
    fn password_hash_queue(&self, _depth: u64) {}
    fn password_hashed(&self, _seconds: f64) {}
    fn job_started(&self, _kind: &str, _seconds: f64) {}
    fn socket_event(&self, _direction: SocketDirection, _event: &'static str) {}
    fn shared_state_degraded(&self, _component: &'static str, _degraded: bool) {}
}
