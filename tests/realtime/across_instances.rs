//! Two instances with one `REDIS_URL` on one PostgreSQL database (API.md, "Several
//! instances"): a socket on one instance hears the room events and broadcasts caused
//! through the other; sessions ended through one instance disconnect the user's sockets on
//! the other within a second, and the other refuses the old token at once; while Redis
//! does not answer each instance delivers to its own sockets, and both share again after.
//! Needs `TEST_REDIS_URL` and `TEST_DATABASE_URL` (skipped with a notice without).

use std::time::{Duration, Instant};

use api_tests::{
    Backend, Fault, PASSWORD, Scrape, SocketClient, SocketDriver, TestApp, Transport, eventually,
    proxied_redis, test_redis, text, unique_redis_prefix,
};
use domain::Role;
use serde_json::{Value, json};

use crate::revocation::expect_revoked;

/// Two instances on one PostgreSQL database, sharing the Redis at `redis`.
async fn two_instances(redis: &str) -> Option<(TestApp, TestApp)> {
    let prefix = unique_redis_prefix();
    let variables = [("REDIS_URL", redis), ("REDIS_KEY_PREFIX", prefix.as_str())];
    let first = TestApp::spawn_with(Backend::Postgres, &variables).await?;
    let second = first.spawn_another(&variables).await;
    Some((first, second))
}

fn ok() -> Value {
    json!({ "ok": true })
}

#[cfg_attr(
    not(all(postgres_tests, redis_tests)),
    ignore = "TEST_DATABASE_URL and TEST_REDIS_URL were not both set at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_on_one_instance_hears_room_events_and_broadcasts_caused_through_another() {
    let Some(redis) = test_redis() else { return };
    let Some((first, second)) = two_instances(&redis).await else {
        return;
    };
    let admin = first.create_user(Role::Admin).await;
    let ann = first.create_user(Role::User).await;
    let bob = first.create_user(Role::User).await;
    let carol = first.create_user(Role::User).await;
    let on_first = SocketDriver::start(&first);
    let on_second = SocketDriver::start(&second);
    // Ann listens on the second instance, over long-polling; Bob and Carol talk on the
    // first, over websocket.
    let ann_socket = on_second
        .connect_with_token(Transport::Polling, &ann.token)
        .await;
    let bob_socket = on_first
        .connect_with_token(Transport::Websocket, &bob.token)
        .await;
    let carol_socket = on_first
        .connect_with_token(Transport::Websocket, &carol.token)
        .await;
    for room in ["lobby", "posts"] {
        assert_eq!(ann_socket.join(room).await, ok());
    }
    ann_socket.drain_events().await;

    assert_eq!(bob_socket.join("lobby").await, ok());
    assert_eq!(
        ann_socket.next_event("user-joined").await,
        json!({ "userId": bob.id(), "room": "lobby" })
    );
    assert_eq!(bob_socket.send_message("lobby", "hello from A").await, ok());
    let message = ann_socket.next_event("message").await;
    assert_eq!(
        (&message["userId"], &message["room"], &message["message"]),
        (&json!(bob.id()), &json!("lobby"), &json!("hello from A"))
    );
    assert_eq!(
        bob_socket
            .emit_with_ack("leave-room", &[json!("lobby")])
            .await,
        ok()
    );
    assert_eq!(
        ann_socket.next_event("user-left").await,
        json!({ "userId": bob.id(), "room": "lobby" })
    );
    assert_eq!(carol_socket.join("lobby").await, ok());
    ann_socket.next_event("user-joined").await;
    carol_socket.disconnect().await;
    assert_eq!(
        ann_socket.next_event("user-left").await,
        json!({ "userId": carol.id(), "room": "lobby" }),
        "a disconnect on the first instance"
    );

    let published = first
        .create_post(
            &bob.token,
            &json!({ "title": "News", "content": "Body", "published": true }),
        )
        .await
        .expect(201);
    assert_eq!(ann_socket.next_event("post-published").await, published);

    let from = first
        .funded_account(&bob.token, &admin.token, "USD", 10_000)
        .await;
    let to = first
        .funded_account(&ann.token, &admin.token, "USD", 0)
        .await;
    let transfer = first
        .transfer(&bob.token, &from, &to, &json!(2_500), None)
        .await
        .expect(201);
    assert_eq!(ann_socket.next_event("transfer-received").await, transfer);
    // Each event once: nothing else is waiting.
    ann_socket.sync().await;
    assert_eq!(ann_socket.unread_events().await, Vec::<String>::new());
}

/// Sends messages from `sender` into the lobby until `listener` hears one (paced under the
/// sockets' rate limit), and returns how long that took. The sockets of `others` have
/// read everything then.
async fn until_heard(
    sender: &SocketClient,
    listener: &SocketClient,
    others: &[&SocketClient],
) -> Duration {
    let since = Instant::now();
    listener.drain_events().await;
    loop {
        assert!(
            since.elapsed() < Duration::from_secs(15),
            "no message crossed the instances"
        );
        assert_eq!(sender.send_message("lobby", "anyone there?").await, ok());
        tokio::time::sleep(Duration::from_millis(250)).await;
        listener.sync().await;
        if listener
            .drain_events()
            .await
            .contains(&"message".to_owned())
        {
            break;
        }
    }
    let elapsed = since.elapsed();
    for socket in others {
        socket.sync().await;
        socket.drain_events().await;
    }
    elapsed
}

#[cfg_attr(
    not(all(postgres_tests, redis_tests)),
    ignore = "TEST_DATABASE_URL and TEST_REDIS_URL were not both set at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_silent_each_instance_delivers_to_its_own_sockets_and_both_share_again_after()
 {
    let Some((proxy, redis)) = proxied_redis().await else {
        return;
    };
    let Some((first, second)) = two_instances(&redis).await else {
        return;
    };
    let ann = first.create_user(Role::User).await;
    let bob = first.create_user(Role::User).await;
    let on_first = SocketDriver::start(&first);
    let on_second = SocketDriver::start(&second);
    let ann_socket = on_second
        .connect_with_token(Transport::Websocket, &ann.token)
        .await;
    let bob_socket = on_first
        .connect_with_token(Transport::Websocket, &bob.token)
        .await;
    let bob_again = on_first
        .connect_with_token(Transport::Websocket, &bob.token)
        .await;
    for socket in [&ann_socket, &bob_socket, &bob_again] {
        assert_eq!(socket.join("lobby").await, ok());
    }
    until_heard(&bob_socket, &ann_socket, &[&bob_socket, &bob_again]).await;

    proxy.set(Fault::Blackhole);
    let since = Instant::now();
    // Bob's room on his own instance still works, without waiting on Redis.
    assert_eq!(bob_socket.send_message("lobby", "local only").await, ok());
    let local = bob_again.next_event("message").await;
    assert!(
        since.elapsed() < Duration::from_secs(3),
        "{:?}",
        since.elapsed()
    );
    assert_eq!(local["message"], json!("local only"));
    eventually("the gateway to say it runs alone", || async {
        let degraded = Scrape::of(&first)
            .await
            .value("shared_state_degraded", &[("component", "socket_io")]);
        (degraded > 0.5).then_some(())
    })
    .await;
    ann_socket.sync().await;
    let unread = ann_socket.drain_events().await;

    proxy.set(Fault::Pass);
    let resumed = until_heard(&bob_socket, &ann_socket, &[&bob_socket, &bob_again]).await;

    assert!(
        !unread.iter().any(|event| event == "message"),
        "nothing crossed while Redis was silent: {unread:?}"
    );
    assert!(resumed < Duration::from_secs(10), "{resumed:?}");
    eventually("the gateway to say it shares again", || async {
        let degraded = Scrape::of(&first)
            .await
            .value("shared_state_degraded", &[("component", "socket_io")]);
        (degraded < 0.5).then_some(())
    })
    .await;
    drop(second);
}

#[cfg_attr(
    not(all(postgres_tests, redis_tests)),
    ignore = "TEST_DATABASE_URL and TEST_REDIS_URL were not both set at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_all_through_one_instance_disconnects_the_users_sockets_on_another() {
    let Some(redis) = test_redis() else { return };
    let Some((first, second)) = two_instances(&redis).await else {
        return;
    };
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
        expect_revoked(socket, "logged-out-everywhere", since).await;
    }
    second
        .me(Some(token))
        .await
        .expect_error(401, "Invalid token");
    drop(second);
}
