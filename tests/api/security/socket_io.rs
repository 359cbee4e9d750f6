//! socket.io against an attacker, in raw engine.io frames (long-polling, so every byte is
//! under the test's control): announced attachments, malformed and multibyte packets, and
//! more sockets than one user may hold.

use std::sync::atomic::{AtomicUsize, Ordering};

use api_tests::{Backend, SocketDriver, TestApp, Transport};
use domain::Role;
use serde_json::json;

/// Panics anywhere in this process since the hook was installed (the server's tasks run
/// in the test process).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// Opens an engine.io session over polling; returns its id. (Over engine.io every socket.io
/// packet is an engine.io message: `4` followed by the socket.io packet.)
async fn open_session(app: &TestApp) -> String {
    let body = app
        .client
        .get(app.url("/socket.io/?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let open: serde_json::Value =
        serde_json::from_str(body.strip_prefix('0').expect("an open packet")).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

async fn post_packet(app: &TestApp, sid: &str, packet: &[u8]) -> u16 {
    app.client
        .post(app.url(&format!("/socket.io/?EIO=4&transport=polling&sid={sid}")))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(packet.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Whether the server closes the session: a poll is refused, or carries a close packet,
/// before a poll has to wait for news (which only an open session does).
async fn session_closes(app: &TestApp, sid: &str) -> bool {
    let poll = app.url(&format!("/socket.io/?EIO=4&transport=polling&sid={sid}"));
    for _ in 0..5 {
        let Ok(response) = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            app.client.get(&poll).send(),
        )
        .await
        else {
            return false;
        };
        let response = response.unwrap();
        if response.status() != 200 {
            return true;
        }
        let body = response.text().await.unwrap_or_default();
        if body.split('\u{1e}').any(|packet| packet == "1") {
            return true;
        }
    }
    false
}

/// Opens a session, connects it to `/events` as `token`'s user, sends `packet`; returns
/// the session id.
async fn attack(app: &TestApp, token: &str, packet: &[u8]) -> String {
    let sid = open_session(app).await;
    post_packet(
        app,
        &sid,
        format!(r#"40/events,{{"token":"{token}"}}"#).as_bytes(),
    )
    .await;
    post_packet(app, &sid, packet).await;
    sid
}

/// The server still serves: `/health`, and a new client over `transport`; and nothing in
/// the process panicked since `panics_before` was read.
async fn still_serving(app: &TestApp, token: &str, transport: Transport, panics_before: usize) {
    assert_eq!(app.health().await.status.as_u16(), 200);
    SocketDriver::start(app)
        .connect_with_token(transport, token)
        .await;
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        panics_before,
        "a panic while under attack"
    );
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_packet_announcing_100000_attachments_closes_its_connection_and_nothing_else() {
    count_panics();
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let ann = app.create_user(Role::User).await;
    let panics_before = PANICS.load(Ordering::SeqCst);
    let resident_before = resident_bytes();

    for _ in 0..50 {
        let sid = attack(
            &app,
            &ann.token,
            br#"45100000-/events,["message",{"_placeholder":true,"num":0}]"#,
        )
        .await;
        assert!(
            session_closes(&app, &sid).await,
            "the attacker's session survived"
        );
    }

    still_serving(&app, &ann.token, Transport::Websocket, panics_before).await;
    let growth = resident_bytes().saturating_sub(resident_before);
    assert!(
        growth < 32 * 1024 * 1024,
        "resident memory grew by {growth} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multibyte_and_truncated_packets_neither_panic_nor_stop_the_server() {
    count_panics();
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let ann = app.create_user(Role::User).await;
    let panics_before = PANICS.load(Ordering::SeqCst);

    for packet in [
        "€".as_bytes(),
        "4€".as_bytes(),
        "42€".as_bytes(),
        "40/évents,".as_bytes(),
        "451-€".as_bytes(),
        "4".as_bytes(),
        "42/events,[\"message\"".as_bytes(),
        &b"4\xe2\x82"[..],
        "\u{1e}€\u{1e}".as_bytes(),
        "b€".as_bytes(),
    ] {
        attack(&app, &ann.token, packet).await;
    }

    still_serving(&app, &ann.token, Transport::Polling, panics_before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_holds_at_most_the_configured_number_of_sockets() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("REALTIME_MAX_SOCKETS_PER_USER", "2")])
        .await
        .unwrap();
    let ann = app.create_user(Role::User).await;
    let bob = app.create_user(Role::User).await;
    let sockets = SocketDriver::start(&app);
    let first = sockets
        .connect_with_token(Transport::Websocket, &ann.token)
        .await;
    let _second = sockets
        .connect_with_token(Transport::Polling, &ann.token)
        .await;

    let third = sockets
        .connect(Transport::Websocket, Some(json!({ "token": ann.token })))
        .await;

    assert_eq!(
        third.err().as_deref(),
        Some("Too many connections for this user")
    );
    sockets
        .connect_with_token(Transport::Websocket, &bob.token)
        .await;
    first.disconnect().await;
    api_tests::eventually("a slot is given back on disconnect", || async {
        sockets
            .connect(Transport::Websocket, Some(json!({ "token": ann.token })))
            .await
            .ok()
    })
    .await;
}
