//! The socket.io bus (the pub/sub driver under socketioxide-redis's adapter) against a real
//! Redis (`TEST_REDIS_URL`; these tests say SKIPPED and pass nothing when it is unset), and
//! what it does when Redis cannot be reached.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapter_redis::{RedisConfig, SocketIoBus};
use domain::ports::NoTelemetry;
use futures_util::StreamExt as _;
use socketioxide_redis::drivers::Driver as _;

fn bus_on(url: &str, prefix: &str) -> SocketIoBus {
    SocketIoBus::new(
        &RedisConfig {
            url: url.to_owned(),
            timeout: Duration::from_millis(500),
            key_prefix: prefix.to_owned(),
        },
        Arc::new(NoTelemetry),
    )
    .expect("a valid Redis URL")
}

/// Two buses (two instances) on the test Redis with channels of their own, or `None`.
fn two_buses() -> Option<(SocketIoBus, SocketIoBus)> {
    let url = common::test_redis_url()?;
    let prefix = format!(
        "test:{}:{:?}:",
        std::process::id(),
        std::time::SystemTime::now()
    );
    Some((bus_on(&url, &prefix), bus_on(&url, &prefix)))
}

#[tokio::test]
async fn a_message_published_by_one_instance_reaches_the_subscribers_of_another_in_order() {
    let Some((publisher, subscriber)) = two_buses() else {
        return;
    };
    let channel = format!("{}-request#/events#", subscriber.channel_prefix());
    let mut stream = subscriber.subscribe(channel.clone(), 16).await.unwrap();

    for payload in [b"one".to_vec(), b"two".to_vec()] {
        publisher.publish(channel.clone(), payload).await.unwrap();
    }
    let mut received = Vec::new();
    for _ in 0..2 {
        let message = tokio::time::timeout(Duration::from_secs(2), stream.next())
            .await
            .expect("delivered within 2 s")
            .expect("the stream is open");
        received.push(message);
    }

    assert_eq!(
        received,
        [
            (channel.clone(), b"one".to_vec()),
            (channel.clone(), b"two".to_vec())
        ]
    );
    assert_eq!(
        publisher.num_serv(&channel).await.unwrap(),
        1,
        "one instance listens"
    );
    subscriber.unsubscribe(channel.clone()).await.unwrap();
    assert_eq!(publisher.num_serv(&channel).await.unwrap(), 0);
}

#[tokio::test]
async fn an_unreachable_redis_neither_fails_nor_holds_up_publishing_and_subscribing() {
    // Nothing listens on port 1.
    let bus = bus_on("redis://127.0.0.1:1/0", "unreachable:");

    let started = Instant::now();
    let subscribed = bus.subscribe("a-channel".to_owned(), 4).await;
    let published = [
        bus.publish("a-channel".to_owned(), b"lost".to_vec()).await,
        bus.publish("a-channel".to_owned(), b"lost".to_vec()).await,
    ];
    let counted = bus.num_serv("a-channel").await;

    assert!(subscribed.is_ok(), "subscribes when Redis is back");
    assert!(
        published.iter().all(Result::is_ok),
        "local delivery must go on"
    );
    assert!(
        counted.is_err(),
        "a request awaiting other instances is told"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
