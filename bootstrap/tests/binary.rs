//! The `backend` executable itself: start-up on the embedded defaults, the docs URL printed,
//! SIGTERM handled gracefully, subcommands, configuration errors naming the variable, and a
//! worker process killed mid-delivery (on SQLite, and on PostgreSQL with
//! `TEST_DATABASE_URL`).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use adapter_persistence::testing::TestDatabase;

mod otlp_receiver;

fn backend(directory: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backend"));
    command
        .current_dir(directory)
        .env_clear()
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// `backend` on `database` (`DATABASE_URL`), or on the embedded default under `directory`.
fn backend_on(directory: &std::path::Path, database: Option<&str>) -> Command {
    let mut command = backend(directory);
    if let Some(url) = database {
        command.env("DATABASE_URL", url);
    }
    command
}

/// A started `backend`, killed when the test ends, even by a failed assertion (a process left
/// running would outlive the test run).
struct Running(Child);

impl std::ops::Deref for Running {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads stdout until the "Serving on" line and returns the base URL.
fn wait_for_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    // Log lines share stdout; the banner is the line that starts with "Serving on".
    let line = BufReader::new(stdout)
        .lines()
        .map(|line| line.expect("readable stdout"))
        .find(|line| line.starts_with("Serving on "))
        .expect("the server prints where it serves");
    let url = line["Serving on ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(line.contains(&format!("docs at {url}/docs")), "{line}");
    url
}

/// A plain HTTP/1.1 request with extra `headers` (each line ending in CRLF) and `body`,
/// returning the raw response.
fn http(url: &str, method: &str, path: &str, headers: &str, body: &str) -> String {
    use std::io::{Read as _, Write as _};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\n{headers}content-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn http_get(url: &str, path: &str) -> String {
    http(url, "GET", path, "", "")
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return status;
        }
        assert!(
            started.elapsed() < limit,
            "the process did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_server_starts_on_the_defaults_serves_and_stops_cleanly_on_sigterm() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = backend(directory.path())
        .env("ADMIN_EMAIL", "admin@example.com")
        .env("ADMIN_PASSWORD", "admin-password-123")
        .spawn()
        .map(Running)
        .unwrap();

    let url = wait_for_url(&mut child);
    let readiness = http_get(&url, "/health/ready");
    assert!(readiness.starts_with("HTTP/1.1 200"), "{readiness}");
    assert!(readiness.contains(r#""status":"ready""#), "{readiness}");
    assert!(
        directory.path().join("data/app.db").exists(),
        "the SQLite file lives under ./data"
    );
    assert!(
        directory.path().join("data/jwt-secret").exists(),
        "the development secret is kept"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
}

#[test]
fn migrate_applies_the_migrations_and_exits() {
    let directory = tempfile::tempdir().unwrap();

    let output = backend(directory.path()).arg("migrate").output().unwrap();

    assert!(output.status.success(), "{output:?}");
    assert!(directory.path().join("data/app.db").exists());
}

#[test]
fn a_bad_setting_stops_the_start_with_its_name() {
    let directory = tempfile::tempdir().unwrap();

    let output = backend(directory.path())
        .env("PORT", "eighty")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("invalid PORT"),
        "{output:?}"
    );
}

#[test]
fn production_refuses_to_start_without_a_jwt_secret() {
    let directory = tempfile::tempdir().unwrap();

    let output = backend(directory.path())
        .env("APP_ENV", "production")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("invalid JWT_SECRET"),
        "{output:?}"
    );
}

#[test]
fn an_unknown_subcommand_prints_the_usage() {
    let directory = tempfile::tempdir().unwrap();

    let output = backend(directory.path())
        .arg("frobnicate")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: backend"));
}

fn http_post_json(url: &str, path: &str, body: &str) -> String {
    http(
        url,
        "POST",
        path,
        "content-type: application/json\r\n",
        body,
    )
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_with_timeout(child, Duration::from_secs(10))
}

fn outbox_messages(directory: &std::path::Path) -> usize {
    std::fs::read_dir(directory.join("data/outbox")).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
            .count()
    })
}

/// Registers a user through a server that only enqueues (`JOB_WORKERS=0`), then stops it:
/// the welcome email waits in the queue of `database` (default: the one under `directory`).
fn queue_a_welcome_email(directory: &std::path::Path, database: Option<&str>) {
    let mut server = backend_on(directory, database)
        .env("JOB_WORKERS", "0")
        .spawn()
        .map(Running)
        .unwrap();
    let url = wait_for_url(&mut server);
    let registered = http_post_json(
        &url,
        "/api/v1/auth/register",
        r#"{"email":"ann@example.com","password":"long enough password"}"#,
    );
    assert!(registered.starts_with("HTTP/1.1 201"), "{registered}");
    assert!(terminate(&mut server).success());
}

#[test]
fn the_worker_command_delivers_what_an_enqueue_only_server_queued() {
    let directory = tempfile::tempdir().unwrap();
    queue_a_welcome_email(directory.path(), None);
    assert_eq!(
        outbox_messages(directory.path()),
        0,
        "JOB_WORKERS=0 only enqueues"
    );

    // A port that was free a moment ago, for the worker's metrics listener.
    let metrics = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut worker = backend(directory.path())
        .arg("worker")
        .env("METRICS_ADDR", metrics.to_string())
        .spawn()
        .map(Running)
        .unwrap();
    let started = Instant::now();
    while outbox_messages(directory.path()) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the worker did not send the welcome email"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The attempt is counted as it returns, a moment after the file is written.
    let counted = r#"jobs_finished_total{kind="mail.welcome",outcome="succeeded"} 1"#;
    let mut scraped = http_get(&format!("http://{metrics}"), "/metrics");
    while !scraped.contains(counted) && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        scraped = http_get(&format!("http://{metrics}"), "/metrics");
    }
    let status = terminate(&mut worker);

    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    assert_eq!(outbox_messages(directory.path()), 1);
    assert!(
        scraped.contains(counted),
        "the worker's own metrics listener counts what it ran:\n{scraped}"
    );
}

/// Runs the `worker` command with `variable` set and checks that it exits with 1 and says
/// `why` on stderr.
fn expect_worker_refusal(variable: (&str, &str), why: &str) {
    let directory = tempfile::tempdir().unwrap();

    let output = backend(directory.path())
        .arg("worker")
        .env(variable.0, variable.1)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(why),
        "{output:?}"
    );
}

#[test]
fn the_worker_command_refuses_to_run_without_workers() {
    expect_worker_refusal(("JOB_WORKERS", "0"), "JOB_WORKERS is 0");
}

#[test]
fn the_worker_command_refuses_storage_in_memory() {
    expect_worker_refusal(
        ("DATABASE_URL", "memory://"),
        "memory:// lives in one process",
    );
}

#[test]
fn on_memory_the_server_serves_registers_and_writes_no_database_file() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = backend(directory.path())
        .env("DATABASE_URL", "memory://")
        .spawn()
        .map(Running)
        .unwrap();

    let url = wait_for_url(&mut child);
    let readiness = http_get(&url, "/health/ready");
    assert!(readiness.starts_with("HTTP/1.1 200"), "{readiness}");
    assert!(readiness.contains(r#""database":"up""#), "{readiness}");
    let registered = http_post_json(
        &url,
        "/api/v1/auth/register",
        r#"{"email":"ann@example.com","password":"correct horse battery"}"#,
    );
    assert!(registered.starts_with("HTTP/1.1 201"), "{registered}");
    let status = terminate(&mut child);

    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    assert!(!directory.path().join("data/app.db").exists());
}

#[test]
fn in_json_mode_every_line_the_process_writes_is_a_json_object() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = backend(directory.path())
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .spawn()
        .map(Running)
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut lines = stdout.lines().map(|line| line.expect("readable stdout"));
    let listening: serde_json::Value = lines
        .by_ref()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(&line)
                .unwrap_or_else(|_| panic!("not JSON: {line}"))
        })
        .find(|line| line["message"] == "listening")
        .expect("a listening line");
    let url = format!("http://{}", listening["address"].as_str().unwrap());
    assert!(http_get(&url, "/health").starts_with("HTTP/1.1 200"));

    let status = terminate(&mut child);

    assert!(status.success(), "{status:?}");
    for line in lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(&line).is_ok(),
            "not JSON: {line}"
        );
    }
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    for line in stderr.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON on stderr: {line}"
        );
    }
}

#[test]
fn a_configuration_error_in_json_mode_is_a_json_line() {
    let directory = tempfile::tempdir().unwrap();
    let output = backend(directory.path())
        .env("LOG_FORMAT", "json")
        .env("PORT", "eighty")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let line: serde_json::Value = serde_json::from_str(stderr.trim()).expect("a JSON line");
    assert_eq!(line["variable"], "PORT");
}

/// The first span of `trace` named `name`.
fn span_in(receiver: &otlp_receiver::Receiver, trace: &str, name: &str) -> otlp_receiver::Span {
    receiver.wait_for(Duration::from_secs(15), |span| {
        span.trace_id == trace && span.name == name
    })
}

#[test]
fn spans_are_exported_over_otlp_with_the_trace_of_the_traceparent() {
    const HEALTH_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const REGISTRATION_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
    let receiver = otlp_receiver::Receiver::start();
    let directory = tempfile::tempdir().unwrap();
    let mut child = backend(directory.path())
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{}", receiver.address),
        )
        .env("OTEL_SERVICE_NAME", "backend-under-test")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .spawn()
        .map(Running)
        .unwrap();
    let url = wait_for_url(&mut child);

    let health = http(
        &url,
        "GET",
        "/health",
        &format!("traceparent: 00-{HEALTH_TRACE}-00f067aa0ba902b7-01\r\n"),
        "",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let registration = http(
        &url,
        "POST",
        "/api/v1/auth/register",
        &format!(
            "content-type: application/json\r\ntraceparent: 00-{REGISTRATION_TRACE}-b7ad6b7169203331-01\r\n"
        ),
        r#"{"name":"Traced","email":"traced@example.com","password":"password-123"}"#,
    );
    assert!(registration.starts_with("HTTP/1.1 201"), "{registration}");

    let request = span_in(&receiver, HEALTH_TRACE, "GET /health");
    assert_eq!(
        request.parent_span_id, "00f067aa0ba902b7",
        "the caller's span"
    );
    assert_eq!(request.kind, otlp_receiver::SERVER);
    assert_eq!(request.service_name, "backend-under-test");
    assert_eq!(request.attributes["http.route"], "/health");
    assert_eq!(request.attributes["http.response.status_code"], "200");

    // The registration: its request, use case and statement group, and the welcome email's
    // job, all in the caller's trace.
    let request = span_in(&receiver, REGISTRATION_TRACE, "POST /api/v1/auth/register");
    assert_eq!(request.parent_span_id, "b7ad6b7169203331");
    let use_case = span_in(&receiver, REGISTRATION_TRACE, "AuthService.register");
    assert_eq!(use_case.parent_span_id, request.span_id);
    let insert = span_in(&receiver, REGISTRATION_TRACE, "db users.insert");
    assert_eq!(insert.parent_span_id, use_case.span_id);
    assert_eq!(insert.kind, otlp_receiver::CLIENT);
    assert_eq!(insert.attributes["db.system.name"], "sqlite");
    let job = span_in(&receiver, REGISTRATION_TRACE, "job mail.welcome");
    assert_eq!(job.kind, otlp_receiver::CONSUMER);
    assert_eq!(job.parent_span_id, insert.span_id, "enqueued by the insert");
    span_in(&receiver, REGISTRATION_TRACE, "MailJobs.run");
    // The workers' polling and maintenance make no traces of their own.
    let roots: Vec<_> = receiver
        .spans()
        .into_iter()
        .filter(|span| span.name.starts_with("db ") && span.parent_span_id.is_empty())
        .map(|span| span.name)
        .collect();
    assert!(roots.is_empty(), "statement groups as traces: {roots:?}");

    assert!(terminate(&mut child).success());
}

#[test]
fn a_collector_that_never_answers_slows_no_request_and_holds_no_stop_for_long() {
    let collector = otlp_receiver::blackhole();
    let directory = tempfile::tempdir().unwrap();
    let mut child = backend(directory.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}"))
        .env("OTEL_BSP_SCHEDULE_DELAY", "10")
        .env("OTEL_BSP_MAX_QUEUE_SIZE", "64")
        .spawn()
        .map(Running)
        .unwrap();
    let url = wait_for_url(&mut child);

    // Enough spans to fill the queue many times over while its sender waits on the
    // collector.
    let started = Instant::now();
    for _ in 0..500 {
        let response = http_get(&url, "/health");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "500 requests took {took:?}");

    // The spans still queued get five seconds at the stop, not the exporter's ten.
    let stopping = Instant::now();
    assert!(terminate(&mut child).success());
    assert!(
        stopping.elapsed() < Duration::from_secs(8),
        "{:?}",
        stopping.elapsed()
    );
}

#[test]
fn an_otlp_endpoint_other_than_http_is_refused_by_name() {
    let directory = tempfile::tempdir().unwrap();

    let output = backend(directory.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("invalid OTEL_EXPORTER_OTLP_ENDPOINT"),
        "{output:?}"
    );
}

#[test]
fn a_worker_killed_mid_delivery_leaves_its_email_to_another_after_the_lease() {
    a_worker_killed_mid_delivery(None);
}

#[test]
fn on_postgresql_a_worker_killed_mid_delivery_leaves_its_email_to_another_after_the_lease() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(TestDatabase::postgres()) else {
        return; // TestDatabase printed the SKIPPED notice.
    };
    a_worker_killed_mid_delivery(Some(database.url()));
}

/// A worker process killed (SIGKILL) while it holds a delivery: another worker process
/// delivers the email once the dead one's lease has run out, and only once.
fn a_worker_killed_mid_delivery(database: Option<&str>) {
    let directory = tempfile::tempdir().unwrap();
    queue_a_welcome_email(directory.path(), database);

    // A mail server that accepts and never speaks: the first worker's delivery hangs in
    // the greeting, mid-attempt, holding the job's lease.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let worker = |smtp: Option<String>| {
        let mut command = backend_on(directory.path(), database);
        command
            .arg("worker")
            .env("JOB_LEASE_SECONDS", "2")
            .env("SMTP_TIMEOUT_SECONDS", "60");
        if let Some(smtp) = smtp {
            command.env("SMTP_URL", smtp);
        }
        command.spawn().map(Running).unwrap()
    };
    let mut doomed = worker(Some(format!("smtp://{}", silent.local_addr().unwrap())));
    silent.set_nonblocking(true).unwrap();
    let started = Instant::now();
    let _held_open = loop {
        match silent.accept() {
            Ok((connection, _)) => break connection,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "the first worker never tried to deliver"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => panic!("accept: {error}"),
        }
    };
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let killed = Instant::now();

    // The second delivers to the outbox once the dead worker's lease has run out.
    let mut survivor = worker(None);
    while outbox_messages(directory.path()) == 0 {
        assert!(
            killed.elapsed() < Duration::from_secs(15),
            "the job was not recovered from the killed worker"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let recovered_after = killed.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    assert!(terminate(&mut survivor).success());

    assert!(
        recovered_after >= Duration::from_millis(1500),
        "not before the lease ran out: {recovered_after:?}"
    );
    assert_eq!(outbox_messages(directory.path()), 1, "delivered once");
}
