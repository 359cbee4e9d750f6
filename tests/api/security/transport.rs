//! The transport: bodies counted as read whatever the protocol, deadlines for slow clients,
//! the connection cap, and hyper's own refusals as JSON.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use api_tests::{Backend, TestApp};
use bytes::Bytes;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// An HTTP/2 (prior knowledge) connection to the app.
async fn http2(app: &TestApp) -> (h2::client::SendRequest<Bytes>, u32) {
    let stream = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let (sender, mut connection) = h2::client::handshake(stream).await.unwrap();
    // The server's SETTINGS arrive with the first exchange; drive the connection until then.
    let ready = sender.clone().ready();
    let sender = tokio::select! {
        ready = ready => ready.unwrap(),
        _ = &mut connection => panic!("the connection closed"),
    };
    let mut probe = sender.clone();
    let (response, _) = probe
        .send_request(
            http::Request::get(app.url("/health")).body(()).unwrap(),
            true,
        )
        .unwrap();
    let response = tokio::select! {
        response = response => response.unwrap(),
        _ = &mut connection => panic!("the connection closed"),
    };
    assert_eq!(response.status(), 200);
    let max_streams = connection.max_concurrent_send_streams();
    tokio::spawn(connection);
    (sender, u32::try_from(max_streams).unwrap())
}

/// Sends `prefix` as a JSON body over HTTP/2 without declaring its length, then leaves the
/// stream open: the answer must come from what was read, not from the end of the body.
async fn post_unbounded_http2_body(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    prefix: Vec<u8>,
) -> (u16, serde_json::Value) {
    let (mut sender, _) = http2(app).await;
    let mut request = http::Request::post(app.url(path)).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let (response, mut body) = sender
        .send_request(request.body(()).unwrap(), false)
        .unwrap();
    body.reserve_capacity(prefix.len());
    body.send_data(Bytes::from(prefix), false).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), response)
        .await
        .expect("answered while the body was still open")
        .unwrap();
    let status = response.status().as_u16();
    let mut received = response.into_body();
    let mut bytes = Vec::new();
    while let Some(chunk) = received.data().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_bodies_over_the_limit_are_refused_after_the_limit_without_reading_the_rest() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let author = app.create_user(domain::Role::User).await;
    let twenty_kib = format!(
        r#"{{"email":"a@example.com","password":"{}"#,
        "x".repeat(20 * 1024)
    )
    .into_bytes();
    // Posts have the one larger limit (the longest post: about 392 KiB).
    let half_a_mib = format!(r#"{{"title":"t","content":"{}"#, "x".repeat(512 * 1024)).into_bytes();

    let (login, login_body) =
        post_unbounded_http2_body(&app, "/api/v1/auth/login", None, twenty_kib).await;
    let (post, _) =
        post_unbounded_http2_body(&app, "/api/v1/posts", Some(&author.token), half_a_mib).await;

    assert_eq!(login, 413);
    assert_eq!(login_body["error"], "Payload too large");
    assert_eq!(post, 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_bodies_within_the_limit_are_read_and_streams_per_connection_are_capped() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("HTTP2_MAX_CONCURRENT_STREAMS", "16")])
        .await
        .unwrap();
    let (mut sender, max_streams) = http2(&app).await;
    let (response, mut body) = sender
        .send_request(
            http::Request::post(app.url("/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body(())
                .unwrap(),
            false,
        )
        .unwrap();
    body.send_data(
        Bytes::from_static(br#"{"email":"nobody@example.com","password":"wrong password"}"#),
        true,
    )
    .unwrap();

    assert_eq!(response.await.unwrap().status(), 401);
    assert_eq!(max_streams, 16);
}

/// Reads until the server closes the connection (or `limit` passes); returns what it sent.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> String {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(limit, async {
        let mut buffer = [0_u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(count) => received.extend_from_slice(&buffer[..count]),
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server kept the connection open for {limit:?}"
    );
    String::from_utf8_lossy(&received).into_owned()
}

async fn slow_client_app() -> TestApp {
    TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("HTTP_HEADER_TIMEOUT_SECONDS", "1"),
            ("HTTP_BODY_TIMEOUT_SECONDS", "1"),
            ("HTTP_IDLE_TIMEOUT_SECONDS", "2"),
            ("HTTP_MAX_CONNECTIONS", "4"),
        ],
    )
    .await
    .unwrap()
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_headers_a_partial_body_and_a_silent_connection_are_cut_off() {
    let app = slow_client_app().await;

    let mut partial_headers = connect(&app).await;
    partial_headers
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut partial_body = connect(&app).await;
    partial_body
        .write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"email\":")
        .await
        .unwrap();
    let mut silent = connect(&app).await;
    let started = Instant::now();

    read_until_closed(&mut partial_headers, Duration::from_secs(4)).await;
    let answer = read_until_closed(&mut partial_body, Duration::from_secs(4)).await;
    read_until_closed(&mut silent, Duration::from_secs(5)).await;

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""error":"Request timeout""#), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_holding_every_connection_slot_do_not_lock_others_out_for_long() {
    let app = slow_client_app().await;
    let mut hogs = Vec::new();
    for _ in 0..4 {
        let mut hog = connect(&app).await;
        hog.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
        hogs.push(hog);
    }
    let started = Instant::now();

    let health = tokio::time::timeout(Duration::from_secs(5), app.health()).await;

    assert_eq!(
        health
            .expect("answered once the hogs were cut off")
            .status
            .as_u16(),
        200
    );
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the cap let a fifth connection in at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_request_does_not_hold_shutdown_past_the_header_deadline() {
    let mut app = slow_client_app().await;
    let mut partial = connect(&app).await;
    partial
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();

    tokio::time::timeout(Duration::from_secs(5), app.stop())
        .await
        .expect("stopped within the header deadline");

    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// Sends raw bytes on a new connection and returns the whole answer.
async fn raw_exchange(app: &TestApp, request: &[u8]) -> String {
    let mut stream = connect(app).await;
    stream.write_all(request).await.unwrap();
    read_until_closed(&mut stream, Duration::from_secs(5)).await
}

fn json_body_of(answer: &str) -> serde_json::Value {
    let (_, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not a JSON body: {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_hyper_refuses_by_itself_get_the_json_error_body() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let many_headers = (0..150).fold(String::new(), |mut headers, index| {
        let _ = write!(headers, "x-filler-{index}: {index}\r\n");
        headers
    });
    let long_uri = format!("/{}", "a".repeat(70_000));
    for (request, status, message) in [
        (
            "GET /health HTTP/1.1\r\nhost: x\r\nthis is not a header\r\n\r\n".to_owned(),
            400,
            "Bad request",
        ),
        (
            format!("GET /health HTTP/1.1\r\nhost: x\r\n{many_headers}\r\n"),
            431,
            "Request header fields too large",
        ),
        (
            format!("GET {long_uri} HTTP/1.1\r\nhost: x\r\n\r\n"),
            414,
            "URI too long",
        ),
    ] {
        let answer = raw_exchange(&app, request.as_bytes()).await;

        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{}",
            &answer[..answer.len().min(200)]
        );
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{answer}"
        );
        let body = json_body_of(&answer);
        assert_eq!(body["error"], message);
        assert!(answer.contains(&format!(
            "x-request-id: {}",
            body["requestId"].as_str().unwrap()
        )));
    }
}
