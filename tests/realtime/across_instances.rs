//! Two instances with one `REDIS_URL` (on one database): sessions ended through one
//! instance disconnect the user's sockets on the other within a second, and the other
//! refuses the old token at once. Needs `TEST_REDIS_URL` (skipped with a notice without).

use std::time::{Duration, Instant};

use api_tests::{Backend, PASSWORD, SocketDriver, TestApp, Transport, text};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_all_through_one_instance_disconnects_the_users_sockets_on_another() {
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        eprintln!(
            "\n*** Redis suite SKIPPED: TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)\n"
        );
        return;
    };
    let prefix = format!("test:{}:", uuid::Uuid::now_v7());
    let variables = [
        ("REDIS_URL", redis.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    let first = TestApp::spawn_with(Backend::Sqlite, &variables)
        .await
        .unwrap();
    let second = first.spawn_another(&variables).await;
    let session = first
        .register(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .await
        .expect(201);
    let token = text(&session, "accessToken");
    let sockets = SocketDriver::start(&second);
    let over_websocket = sockets
        .connect_with_token(Transport::Websocket, token)
        .await;
    let over_polling = sockets.connect_with_token(Transport::Polling, token).await;
    // Both instances' listeners are subscribed by now (they subscribe as they start).
    tokio::time::sleep(Duration::from_millis(200)).await;

    let since = Instant::now();
    assert_eq!(first.logout_all(Some(token)).await.status.as_u16(), 204);

    for socket in [&over_websocket, &over_polling] {
        assert_eq!(
            socket.next_event("session-revoked").await,
            json!({ "reason": "logged-out-everywhere" })
        );
        assert_eq!(
            socket.next_event("disconnect").await,
            json!("io server disconnect")
        );
    }
    let elapsed = since.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "disconnected after {elapsed:?}"
    );
    second
        .me(Some(token))
        .await
        .expect_error(401, "Invalid token");
    drop(second);
}
