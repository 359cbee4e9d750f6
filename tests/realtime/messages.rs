//! `message`: delivery to the room's members only, validation, the per-socket rate limit.

use api_tests::{SocketClient, SocketDriver, TestApp, Transport, socket_test};
use domain::Role;
use futures_util::future::join_all;
use serde_json::{Value, json};

/// A new user's socket in room `lobby` (one rate-limit token spent).
async fn one_member_of_the_lobby(
    app: &TestApp,
    sockets: &SocketDriver,
    transport: Transport,
) -> SocketClient {
    let user = app.create_user(Role::User).await;
    let socket = sockets.connect_with_token(transport, &user.token).await;
    assert_eq!(socket.join("lobby").await, json!({ "ok": true }));
    socket
}

/// Two users' sockets, both in room `lobby`.
async fn two_members_of_the_lobby(
    app: &TestApp,
    sockets: &SocketDriver,
    transport: Transport,
) -> (SocketClient, SocketClient) {
    (
        one_member_of_the_lobby(app, sockets, transport).await,
        one_member_of_the_lobby(app, sockets, transport).await,
    )
}

fn is_millisecond_utc_timestamp(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
        && text.len() == "2026-11-24T15:38:12.123Z".len()
        && text.ends_with('Z')
}

socket_test! {
    async fn a_message_reaches_the_members_of_the_room_and_no_one_else(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let carol = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;
        let bob_socket = sockets.connect_with_token(transport, &bob.token).await;
        let carol_socket = sockets.connect_with_token(transport, &carol.token).await;
        ann_socket.join("lobby").await;
        bob_socket.join("lobby").await;
        carol_socket.join("elsewhere").await;

        let ack = ann_socket.send_message("lobby", "hello, lobby").await;
        let delivered = bob_socket.next_event("message").await;
        carol_socket.sync().await;

        assert_eq!(ack, json!({ "ok": true }));
        let timestamp = delivered["timestamp"].as_str().unwrap_or_default().to_owned();
        assert!(is_millisecond_utc_timestamp(&timestamp), "{timestamp}");
        assert_eq!(
            delivered,
            json!({ "userId": ann.id(), "room": "lobby", "message": "hello, lobby", "timestamp": timestamp })
        );
        assert_eq!(ann_socket.next_event("message").await, delivered, "the sender gets its own message");
        assert!(!carol_socket.unread_events().await.contains(&"message".to_owned()));
    }
}

socket_test! {
    async fn a_message_to_a_room_the_sender_has_not_joined_is_refused(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;
        let bob_socket = sockets.connect_with_token(transport, &bob.token).await;
        bob_socket.join("lobby").await;

        let ack = ann_socket.send_message("lobby", "let me in").await;
        bob_socket.sync().await;

        assert_eq!(ack, json!({ "ok": false, "error": "You have not joined room lobby" }));
        assert!(!bob_socket.unread_events().await.contains(&"message".to_owned()));
    }
}

socket_test! {
    async fn malformed_and_out_of_bounds_messages_are_refused_and_nothing_is_delivered(app, sockets, transport) {
        let ann_socket = one_member_of_the_lobby(&app, &sockets, transport).await;
        let cases: [(Vec<Value>, &str); 7] = [
            (vec![json!({ "room": "lobby", "message": "" })], "Message: Must not be empty"),
            (vec![json!({ "room": "lobby", "message": "a".repeat(2001) })], "Message: Must be at most 2000 characters"),
            (vec![json!({ "room": "lobby", "message": 7 })], "Message must be a string"),
            (vec![json!({ "room": "", "message": "hi" })], "Room name: Must not be empty"),
            (vec![json!({ "room": "lobby", "message": "hi", "userId": "someone else" })], "Only room and message are allowed"),
            (vec![json!("hi")], "Expected an object {room, message}"),
            (vec![], "Expected an object {room, message}"),
        ];

        for (args, error) in cases {
            let ack = ann_socket.emit_with_ack("message", &args).await;

            assert_eq!(ack, json!({ "ok": false, "error": error }), "{args:?}");
        }
        ann_socket.sync().await;
        assert!(!ann_socket.unread_events().await.contains(&"message".to_owned()));
    }
}

socket_test! {
    async fn a_message_of_two_thousand_characters_is_delivered_whole(app, sockets, transport) {
        let ann_socket = one_member_of_the_lobby(&app, &sockets, transport).await;
        let longest = "ü".repeat(2000);

        let ack = ann_socket.send_message("lobby", &longest).await;

        assert_eq!(ack, json!({ "ok": true }));
        assert_eq!(ann_socket.next_event("message").await["message"], json!(longest));
    }
}

socket_test! {
    async fn messages_sent_back_to_back_are_delivered_in_the_order_sent(app, sockets, transport) {
        let (ann_socket, bob_socket) = two_members_of_the_lobby(&app, &sockets, transport).await;
        let texts: Vec<String> = (0..8).map(|n| format!("message {n}")).collect();

        // Sent without waiting for each acknowledgement.
        let acks = join_all(texts.iter().map(|text| ann_socket.send_message("lobby", text))).await;
        let mut received = Vec::new();
        for _ in &texts {
            received.push(bob_socket.next_event("message").await["message"].as_str().unwrap_or_default().to_owned());
        }

        assert!(acks.iter().all(|ack| *ack == json!({ "ok": true })), "{acks:?}");
        assert_eq!(received, texts);
    }
}

socket_test! {
    async fn messages_over_the_rate_limit_are_refused_and_not_delivered(app, sockets, transport) {
        let (ann_socket, bob_socket) = two_members_of_the_lobby(&app, &sockets, transport).await;

        // 1 token went to join-room; the burst is 10, refilled at 5 a second.
        let texts: Vec<String> = (0..15).map(|n| format!("flood {n}")).collect();
        let acks = join_all(texts.iter().map(|text| ann_socket.send_message("lobby", text))).await;
        bob_socket.sync().await;

        let accepted = acks.iter().filter(|ack| **ack == json!({ "ok": true })).count();
        let refused = acks.iter().filter(|ack| **ack == json!({ "ok": false, "error": "Too many messages: slow down" })).count();
        assert_eq!(accepted + refused, 15, "{acks:?}");
        assert!((9..=10).contains(&accepted), "accepted {accepted} of 15 at once");
        let delivered = bob_socket.unread_events().await.iter().filter(|event| *event == "message").count();
        assert_eq!(delivered, accepted);
    }
}
