//! Events published by the use cases: `post-published` to room `posts`,
//! `transfer-received` to the recipient's private room. Their payloads are the REST bodies.

use api_tests::{TestApp, TestUser, socket_test};
use domain::Role;
use reqwest::Method;
use serde_json::json;

socket_test! {
    postgres_too
    async fn a_published_post_is_announced_in_the_posts_room_and_a_draft_is_not(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let carol = app.create_user(Role::User).await;
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;
        let carol_socket = sockets.connect_with_token(transport, &carol.token).await;
        assert_eq!(ann_socket.join("posts").await, json!({ "ok": true }));

        let draft = app.create_post(&bob.token, &json!({ "title": "Draft", "published": false })).await.expect(201);
        ann_socket.sync().await;
        let nothing_for_a_draft = ann_socket.unread_events().await;
        let published = app.create_post(&bob.token, &json!({ "title": "News", "content": "Body", "published": true })).await.expect(201);
        let announced = ann_socket.next_event("post-published").await;

        assert!(!nothing_for_a_draft.contains(&"post-published".to_owned()), "{nothing_for_a_draft:?}");
        assert_eq!(announced, published);
        carol_socket.sync().await;
        assert!(!carol_socket.unread_events().await.contains(&"post-published".to_owned()), "not in room posts");

        // Publishing the draft later announces it too, with its published body.
        let id = draft["id"].as_str().unwrap_or_default();
        let now_published = app
            .send(Method::PUT, &format!("/api/v1/posts/{id}"), Some(&bob.token), Some(&json!({ "published": true })))
            .await
            .expect(200);
        assert_eq!(ann_socket.next_event("post-published").await, now_published);
    }
}

/// Ann with a USD account holding `balance` cents, Bob with an empty one: `(ann, bob,
/// ann's account, bob's account)`.
async fn sender_and_recipient(app: &TestApp, balance: i64) -> (TestUser, TestUser, String, String) {
    let admin = app.create_user(Role::Admin).await;
    let ann = app.create_user(Role::User).await;
    let bob = app.create_user(Role::User).await;
    let from = app
        .funded_account(&ann.token, &admin.token, "USD", balance)
        .await;
    let to = app.funded_account(&bob.token, &admin.token, "USD", 0).await;
    (ann, bob, from, to)
}

socket_test! {
    postgres_too
    async fn a_transfer_is_announced_to_the_recipient_alone(app, sockets, transport) {
        let (ann, bob, from, to) = sender_and_recipient(&app, 10_000).await;
        // Neither joins a room: each socket is in its private room from the start.
        let ann_socket = sockets.connect_with_token(transport, &ann.token).await;
        let bob_socket = sockets.connect_with_token(transport, &bob.token).await;
        let bob_again = sockets.connect_with_token(transport, &bob.token).await;

        let transfer = app.transfer(&ann.token, &from, &to, &json!(2_500), None).await.expect(201);
        let received = bob_socket.next_event("transfer-received").await;
        ann_socket.sync().await;

        assert_eq!(received, transfer);
        assert_eq!(bob_again.next_event("transfer-received").await, transfer, "every socket of the recipient");
        assert!(!ann_socket.unread_events().await.contains(&"transfer-received".to_owned()), "not the sender");
    }
}

socket_test! {
    async fn a_refused_transfer_announces_nothing(app, sockets, transport) {
        let (ann, bob, from, to) = sender_and_recipient(&app, 100).await;
        let bob_socket = sockets.connect_with_token(transport, &bob.token).await;

        app.transfer(&ann.token, &from, &to, &json!(1_000), None).await.expect(422);
        bob_socket.sync().await;

        assert!(!bob_socket.unread_events().await.contains(&"transfer-received".to_owned()));
    }
}
