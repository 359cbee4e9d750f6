//! Connecting: the access token in `auth`, refusals as `connect_error`.

use std::time::Duration;

use api_tests::{Transport, socket_test};
use domain::{Role, UserId};
use serde_json::json;

socket_test! {
    async fn a_client_with_a_valid_token_connects(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;

        let client = sockets.connect(transport, Some(json!({ "token": ann.token }))).await;

        let client = client.expect("the connection is accepted");
        assert!(!client.socket_id.is_empty());
    }
}

socket_test! {
    async fn a_handshake_without_a_token_is_refused_with_authentication_required(app, sockets, transport) {
        for auth in [None, Some(json!({})), Some(json!({ "token": null })), Some(json!({ "token": "" }))] {
            let refused = sockets.connect(transport, auth.clone()).await;

            assert_eq!(refused.err().as_deref(), Some("Authentication required"), "auth: {auth:?}");
        }
    }
}

socket_test! {
    async fn a_handshake_with_a_bad_token_is_refused_with_invalid_token(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let expired = app.token_issued_at(&ann, chrono::Utc::now() - chrono::Duration::hours(1));
        let unknown_user = app.token_for(UserId::generate(), Role::User);
        let tampered = format!("{}x", ann.token);

        for token in [json!("not a jwt"), json!(42), json!(expired), json!(unknown_user), json!(tampered)] {
            let refused = sockets.connect(transport, Some(json!({ "token": token }))).await;

            assert_eq!(refused.err().as_deref(), Some("Invalid token"), "token: {token}");
        }
    }
}

socket_test! {
    postgres_too
    async fn the_token_of_a_deleted_user_is_refused(app, sockets, transport) {
        let admin = app.create_user(Role::Admin).await;
        let ann = app.create_user(Role::User).await;
        sockets.connect_with_token(transport, &ann.token).await;

        app.delete_user(Some(&admin.token), &ann.id()).await.expect(204);
        let refused = sockets.connect(transport, Some(json!({ "token": ann.token }))).await;

        assert_eq!(refused.err().as_deref(), Some("Invalid token"));
    }
}

/// PostgreSQL only: the test drops the app's database under it.
#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_that_cannot_be_checked_is_refused_as_unavailable_not_invalid() {
    let Some(app) = api_tests::TestApp::spawn(api_tests::Backend::Postgres).await else {
        return;
    };
    let sockets = api_tests::SocketDriver::start(&app);
    let ann = app.create_user(Role::User).await;

    app.drop_database().await;
    let refused = sockets
        .connect(Transport::Websocket, Some(json!({ "token": ann.token })))
        .await;

    assert_eq!(
        refused.err().as_deref(),
        Some("Authentication is unavailable, try again later")
    );
}

socket_test! {
    async fn connected_sockets_are_counted_in_the_metrics(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let sockets_now = || async { api_tests::Scrape::of(&app).await.count("socketio_connected_sockets", &[]) };

        let refused = sockets.connect(transport, None).await;
        let client = sockets.connect_with_token(transport, &ann.token).await;
        let connected = sockets_now().await;
        client.disconnect().await;

        assert!(refused.is_err());
        assert_eq!(connected, 1, "the refused handshake is not counted");
        api_tests::eventually("the disconnection is counted", || async {
            (sockets_now().await == 0).then_some(())
        })
        .await;
    }
}

socket_test! {
    async fn socket_events_in_and_out_are_counted_in_the_metrics(app, sockets, transport) {
        let ann = app.create_user(Role::User).await;
        let client = sockets.connect_with_token(transport, &ann.token).await;
        let events = |direction: &'static str, event: &'static str| {
            let app = &app;
            async move {
                api_tests::Scrape::of(app)
                    .await
                    .count("socketio_events_total", &[("direction", direction), ("event", event)])
            }
        };

        client.join("lobby").await;
        client.join("lobby").await;
        client.send_message("lobby", "hello").await;

        assert_eq!(events("in", "join-room").await, 2);
        assert_eq!(events("out", "user-joined").await, 1, "the second join announces nothing");
        assert_eq!(events("in", "message").await, 1);
        assert_eq!(events("out", "message").await, 1);
        client.disconnect().await;
    }
}

/// PostgreSQL behind the fault proxy, so that the handshake's reads are slow enough for the
/// client to leave during them (over raw engine.io long-polling: connect, then close).
#[cfg_attr(
    not(postgres_tests),
    ignore = "TEST_DATABASE_URL was unset at build time"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_during_its_handshake_is_not_counted_once_it_is_dropped() {
    let Some((app, proxy)) = api_tests::TestApp::spawn_behind_proxy(&[]).await else {
        return;
    };
    let ann = app.create_user(Role::User).await;
    let sockets_now = || async {
        api_tests::Scrape::of(&app)
            .await
            .count("socketio_connected_sockets", &[])
    };
    // Past the auth-state caches' second, so the handshake reads the database.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    proxy.set(api_tests::Fault::Latency(Duration::from_millis(300)));
    let http = reqwest::Client::new();
    let opened = http
        .get(app.url("/socket.io/?EIO=4&transport=polling"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("an engine.io session")
        .text()
        .await
        .expect("its open packet");
    let sid = opened
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the session id");
    let session = app.url(&format!("/socket.io/?EIO=4&transport=polling&sid={sid}"));
    for packet in [
        format!("40/events,{}", json!({ "token": ann.token })),
        "1".to_owned(),
    ] {
        let sent = http.post(&session).body(packet).send().await;
        assert!(sent.is_ok_and(|response| response.status().is_success()));
    }

    // The handshake finishes about 1.2 s later (four proxied reads), and the socket is
    // dropped then; it may be counted while it is held, not after.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        sockets_now().await,
        0,
        "a socket that never connected is still counted"
    );
    proxy.set(api_tests::Fault::Pass);
    let sockets = api_tests::SocketDriver::start(&app);
    let client = sockets
        .connect_with_token(Transport::Websocket, &ann.token)
        .await;
    assert_eq!(sockets_now().await, 1);
    client.disconnect().await;
}
