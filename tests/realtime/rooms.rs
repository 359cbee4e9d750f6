//! `join-room` and `leave-room`: announcements to members, room names, private rooms.

use api_tests::socket_test;
use domain::Role;
use serde_json::{Value, json};

fn refused(error: &str) -> Value {
    json!({ "ok": false, "error": error })
}

socket_test! {
    async fn members_see_who_joins_and_who_leaves_a_room(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;
        let bob_socket = sockets.connect_with_token(transport, &bob.token).await;
        assert_eq!(bob_socket.join("lobby").await, json!({ "ok": true }));
        let bob_joined = bob_socket.next_event("user-joined").await;

        assert_eq!(ann_socket.join("lobby").await, json!({ "ok": true }));
        let joined = bob_socket.next_event("user-joined").await;
        let leave = ann_socket.emit_with_ack("leave-room", &[json!("lobby")]).await;
        let left = bob_socket.next_event("user-left").await;

        assert_eq!(bob_joined, json!({ "userId": bob.id(), "room": "lobby" }));
        assert_eq!(joined, json!({ "userId": ann.id(), "room": "lobby" }));
        assert_eq!(leave, json!({ "ok": true }));
        assert_eq!(left, json!({ "userId": ann.id(), "room": "lobby" }));
        // The joiner and the leaver hear their own announcements too.
        assert_eq!(ann_socket.next_event("user-joined").await, json!({ "userId": ann.id(), "room": "lobby" }));
        assert_eq!(ann_socket.next_event("user-left").await, json!({ "userId": ann.id(), "room": "lobby" }));
    }
}

socket_test! {
    async fn a_socket_that_disconnects_is_announced_as_leaving_each_room_it_joined(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;
        let bob_socket = sockets.connect_with_token(transport, &bob.token).await;
        let bob_again = sockets.connect_with_token(transport, &bob.token).await;
        for room in ["lobby", "news"] {
            assert_eq!(ann_socket.join(room).await, json!({ "ok": true }));
            assert_eq!(bob_socket.join(room).await, json!({ "ok": true }));
        }

        ann_socket.disconnect().await;

        let mut left = vec![
            bob_socket.next_event("user-left").await,
            bob_socket.next_event("user-left").await,
        ];
        left.sort_by_key(|event| event["room"].as_str().unwrap_or_default().to_owned());
        assert_eq!(left, vec![
            json!({ "userId": ann.id(), "room": "lobby" }),
            json!({ "userId": ann.id(), "room": "news" }),
        ]);
        // Not in those rooms, and not told about Ann's private room either.
        bob_again.sync().await;
        assert!(!bob_again.unread_events().await.contains(&"user-left".to_owned()));
    }
}

socket_test! {
    async fn joining_a_room_twice_is_acknowledged_without_a_second_announcement(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;

        assert_eq!(ann_socket.join("lobby").await, json!({ "ok": true }));
        assert_eq!(ann_socket.join("lobby").await, json!({ "ok": true }));
        ann_socket.sync().await;

        let unread = ann_socket.unread_events().await;
        assert_eq!(unread, ["user-joined"]);
    }
}

socket_test! {
    async fn invalid_room_names_are_refused_and_the_socket_stays_connected(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;
        let cases: [(&str, Vec<Value>, &str); 7] = [
            ("join-room", vec![json!("")], "Room name: Must not be empty"),
            ("join-room", vec![json!("a".repeat(65))], "Room name: Must be at most 64 characters"),
            ("join-room", vec![json!("line\nbreak")], "Room name: Must not contain control characters"),
            ("join-room", vec![json!(42)], "Room name must be a string"),
            ("join-room", vec![json!({ "room": "lobby" })], "Room name must be a string"),
            ("join-room", vec![], "Room name must be a string"),
            ("leave-room", vec![json!(null)], "Room name must be a string"),
        ];

        for (event, args, error) in cases {
            let ack = ann_socket.emit_with_ack(event, &args).await;

            assert_eq!(ack, refused(error), "{event} {args:?}");
        }
        assert_eq!(ann_socket.join(&"é".repeat(64)).await, json!({ "ok": true }));
    }
}

socket_test! {
    async fn a_user_may_join_their_own_private_room_and_no_one_elses(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;

        let others = ann_socket.join(&format!("user:{}", bob.id())).await;
        let reserved = ann_socket.join("user:admin").await;
        let own = ann_socket.join(&format!("user:{}", ann.id())).await;

        assert_eq!(others, refused("You may not join another user's private room"));
        assert_eq!(reserved, refused("You may not join another user's private room"));
        assert_eq!(own, json!({ "ok": true }));
    }
}

socket_test! {
    async fn a_user_cannot_leave_their_private_room_or_a_room_they_are_not_in(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;

        let private = ann_socket.emit_with_ack("leave-room", &[json!(format!("user:{}", ann.id()))]).await;
        let never_joined = ann_socket.emit_with_ack("leave-room", &[json!("lobby")]).await;

        assert_eq!(private, refused("You may not leave your private room"));
        assert_eq!(never_joined, refused("You have not joined room lobby"));
    }
}

// socketioxide tells the client it is connected before it runs the connect handler (in a
// spawned task): handlers registered there missed such events now and then under load.
// The gateway registers them in the handshake middleware instead.
socket_test! {
    async fn an_event_sent_the_moment_a_client_is_connected_is_handled(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;

        let ack = sockets.connect_and_emit_at_once(transport, &ann.token, "join-room", &[json!("lobby")]).await;

        assert_eq!(ack, json!({ "ok": true }));
    }
}

socket_test! {
    async fn sockets_that_disconnect_together_are_each_announced_as_leaving(app, sockets, transport) {
        // Each disconnect races the closing of its transport (the client sends its
        // disconnect packet and closes at once): the room must still hear every one.
        const USERS: usize = 3;
        const SOCKETS_PER_USER: usize = 8;
        let ann = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;
        assert_eq!(ann_socket.join("lobby").await, json!({ "ok": true }));
        let mut leavers = Vec::new();
        let mut expected = Vec::new();
        for _ in 0..USERS {
            let user = app.create_user(Role::User).await;
            for _ in 0..SOCKETS_PER_USER {
                let socket = sockets.connect_with_token(transport, &user.token).await;
                assert_eq!(socket.join("lobby").await, json!({ "ok": true }));
                leavers.push(socket);
                expected.push(json!({ "userId": user.id(), "room": "lobby" }));
            }
        }
        ann_socket.drain_events().await;

        futures_util::future::join_all(leavers.iter().map(api_tests::SocketClient::disconnect)).await;

        let mut left = Vec::new();
        for _ in 0..expected.len() {
            left.push(ann_socket.next_event("user-left").await);
        }
        let key = |event: &Value| event["userId"].to_string();
        left.sort_by_key(key);
        expected.sort_by_key(key);
        assert_eq!(left, expected);
    }
}

socket_test! {
    async fn a_socket_that_joins_and_disconnects_at_once_is_announced_joining_then_leaving(app, sockets, transport) {
        // The join is handled before the departure, whichever task runs first: the room
        // never keeps a member who has gone.
        const ROUNDS: usize = 10;
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;
        assert_eq!(ann_socket.join("lobby").await, json!({ "ok": true }));
        ann_socket.drain_events().await;
        for _ in 0..ROUNDS {
            let bob_socket = sockets.connect_with_token(transport, &bob.token).await;

            bob_socket.emit("join-room", &[json!("lobby")]).await;
            bob_socket.disconnect().await;

            let heard = heard_two_events_or_what_came(&ann_socket).await;
            assert_eq!(heard, ["user-joined", "user-left"]);
            ann_socket.drain_events().await;
        }
    }
}

/// The socket's unread events once there are two of them, or whatever came within five
/// seconds.
async fn heard_two_events_or_what_came(socket: &api_tests::SocketClient) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let unread = socket.unread_events().await;
        if unread.len() >= 2 || std::time::Instant::now() > deadline {
            return unread;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
