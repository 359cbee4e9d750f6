//! The request log as an operator reads it: this test binary captures the app's JSON log
//! lines (a process-wide subscriber, so it is a binary of its own) and looks for each
//! request's line.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use api_tests::{Backend, TestApp};
use reqwest::Method;
use serde_json::Value;

/// Every log line written since the subscriber was installed.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs production's JSON subscriber, writing into the capture, once.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let installed = adapter_tracing::install_writing_to(
            &adapter_tracing::TracingConfig {
                format: adapter_tracing::LogFormat::Json,
                otlp: None,
            },
            move || writer.clone(),
        )
        .expect("no exporter to build");
        drop(installed);
        captured
    })
}

/// The lines with this message so far, parsed.
fn lines_saying(captured: &Captured, message: &str) -> Vec<Value> {
    let bytes = captured.0.lock().unwrap().clone();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == message)
        .collect()
}

/// The "request served" lines so far, parsed.
fn request_lines(captured: &Captured) -> Vec<Value> {
    lines_saying(captured, "request served")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_line_carries_the_trace_id_of_its_traceparent_or_a_new_one() {
    let captured = captured();
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let traced = app
        .client
        .get(app.url("/health"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    let untraced = app.send(Method::GET, "/health/ready", None, None).await;

    let lines = request_lines(captured);
    let line_of = |request_id: &str| {
        lines
            .iter()
            .find(|line| line["request_id"] == request_id)
            .cloned()
            .unwrap_or_else(|| panic!("no log line for request {request_id}"))
    };
    let traced = line_of(traced.headers()["x-request-id"].to_str().unwrap());
    let untraced = line_of(untraced.request_id());

    assert_eq!(traced["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(traced["path"], "/health");
    let new_trace = untraced["trace_id"].as_str().unwrap();
    assert_eq!(new_trace.len(), 32);
    assert!(new_trace.bytes().all(|digit| digit.is_ascii_hexdigit()));
    assert_ne!(new_trace, "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_welcome_email_is_sent_in_the_trace_of_the_registration_that_queued_it() {
    const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
    let captured = captured();
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let registered = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("traceparent", format!("00-{TRACE_ID}-b7ad6b7169203331-01"))
        .json(&serde_json::json!({
            "name": "Traced",
            "email": "traced@example.com",
            "password": "password-123",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let sent = loop {
        let sent = lines_saying(captured, "job succeeded")
            .into_iter()
            .find(|line| line["kind"] == "mail.welcome" && line["trace_id"] == TRACE_ID);
        if let Some(sent) = sent {
            break sent;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no welcome email job in trace {TRACE_ID}: {:?}",
            lines_saying(captured, "job succeeded")
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(sent["attempt"], 1);
    let registration = request_lines(captured)
        .into_iter()
        .find(|line| line["path"] == "/api/v1/auth/register")
        .expect("the registration's log line");
    assert_eq!(registration["trace_id"], TRACE_ID);
}
