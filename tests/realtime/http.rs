//! The gateway as HTTP: the same port and middleware as the API (request id, CORS, request
//! log) for polling requests and the websocket upgrade, the websocket message size limit,
//! and shutdown.

use std::time::Duration;

use api_tests::{Backend, TestApp, TestResponse, socket_test};
use domain::Role;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const ORIGIN: &str = "https://app.example.com";
/// The key and accept value of RFC 6455's example handshake.
const WEBSOCKET_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const WEBSOCKET_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

async fn app_with_allowed_origin() -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, &[("ALLOWED_ORIGINS", ORIGIN)])
        .await
        .expect("SQLite is always available")
}

/// Opens an engine.io session over long-polling, from `origin`.
async fn polling_handshake(app: &TestApp, origin: &str, request_id: Option<&str>) -> TestResponse {
    let mut request = app
        .client
        .get(app.url("/socket.io/?EIO=4&transport=polling"))
        .header("origin", origin);
    if let Some(request_id) = request_id {
        request = request.header("x-request-id", request_id);
    }
    app.send_raw(request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_request_carries_cors_headers_for_an_allowed_origin_and_a_request_id() {
    let app = app_with_allowed_origin().await;

    let allowed = polling_handshake(&app, ORIGIN, Some("polling-handshake-1")).await;
    let unlisted = polling_handshake(&app, "https://elsewhere.example", None).await;

    assert_eq!(allowed.status, 200);
    assert!(
        String::from_utf8_lossy(&allowed.body).starts_with("0{\"sid\":"),
        "an engine.io open packet"
    );
    assert_eq!(allowed.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(allowed.request_id(), "polling-handshake-1");
    assert_eq!(unlisted.status, 200);
    assert_eq!(unlisted.header("access-control-allow-origin"), None);
    assert!(!unlisted.request_id().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_request_for_an_unknown_session_is_refused_by_socket_io() {
    let app = app_with_allowed_origin().await;

    let response = app
        .send_raw(
            app.client
                .get(app.url("/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAA")),
        )
        .await;

    assert_eq!(response.status, 400);
    assert!(!response.request_id().is_empty());
}

/// Sends a raw websocket upgrade request and returns the connection and the response head.
async fn upgrade(app: &TestApp) -> (TcpStream, String) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let request = format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {WEBSOCKET_KEY}\r\nSec-WebSocket-Version: 13\r\n\
         Origin: {ORIGIN}\r\nx-request-id: websocket-upgrade-1\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the upgrade request");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        stream
            .read_exact(&mut byte)
            .await
            .expect("read the response head");
        head.push(byte[0]);
    }
    (stream, String::from_utf8_lossy(&head).to_lowercase())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_upgrade_passes_through_the_middleware_and_switches_protocols() {
    let app = app_with_allowed_origin().await;

    let (mut stream, head) = upgrade(&app).await;
    let mut open = [0; 8];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut open))
        .await
        .expect("the engine.io open packet in time")
        .expect("read the first frame");

    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(
        head.contains(&format!(
            "sec-websocket-accept: {}",
            WEBSOCKET_ACCEPT.to_lowercase()
        )),
        "{head}"
    );
    assert!(head.contains("x-request-id: websocket-upgrade-1"), "{head}");
    assert!(
        head.contains(&format!("access-control-allow-origin: {ORIGIN}")),
        "{head}"
    );
    // An unmasked text frame whose payload starts with the open packet `0{"sid"`.
    assert_eq!(open[0], 0x81);
    assert_eq!(&open[2..], b"0{\"sid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_message_over_the_size_limit_closes_the_connection_at_its_header() {
    let app = app_with_allowed_origin().await;
    let (mut stream, head) = upgrade(&app).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");

    // A masked text frame announcing 1 MiB; its payload never comes. Without the limit the
    // server would wait for it; with it, the server hangs up at once.
    let mut header = vec![0x81, 0xff];
    header.extend((1_u64 << 20).to_be_bytes());
    header.extend([1, 2, 3, 4]);
    stream
        .write_all(&header)
        .await
        .expect("send the frame header");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;

    assert!(closed.is_ok(), "the server kept the connection open");
}

socket_test! {
    async fn stopping_the_server_disconnects_its_sockets_promptly(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;

        drop(app);
        let reason = ann_socket.next_event("disconnect").await;

        // Either reason makes a socket.io client reconnect (to another instance); the
        // polling transport may see its pending request fail rather than close.
        assert!(reason == "transport close" || reason == "transport error", "{reason}");
    }
}
