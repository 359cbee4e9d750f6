//! The service as it is deployed for several instances: `backend` processes on one
//! PostgreSQL database and one Redis, behind HAProxy with `deploy/haproxy.cfg`.
//!
//! - socket.io long-polling works through the balancer because its cookie keeps each
//!   engine.io session on one instance (and fails without it, which shows the requests do
//!   spread over the instances); rooms span the instances; websockets upgrade through it.
//! - An instance killed (SIGKILL) under transfer load: clients that retry what was not
//!   acknowledged, with the same `Idempotency-Key`, lose and duplicate nothing.
//!
//! Skipped with a notice without `haproxy`, `TEST_DATABASE_URL` or `TEST_REDIS_URL`.

mod balancer {
    pub(crate) mod cluster;
    pub(crate) mod polling;
}

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use balancer::cluster::{ADMIN_EMAIL, ADMIN_PASSWORD, Cluster};
use balancer::polling::{Polling, Refused};
use serde_json::{Value, json};

/// `POST <path>` through the balancer; the status and the JSON body.
async fn post(
    client: &reqwest::Client,
    cluster: &Cluster,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut request = client.post(format!("{}{path}", cluster.url)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .expect("a request through the balancer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(client: &reqwest::Client, cluster: &Cluster, path: &str, token: &str) -> Value {
    let response = client
        .get(format!("{}{path}", cluster.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("a request through the balancer");
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("a JSON body")
}

async fn register(client: &reqwest::Client, cluster: &Cluster, email: &str) -> (String, String) {
    let (status, body) = post(
        client,
        cluster,
        "/api/v1/auth/register",
        None,
        &json!({ "email": email, "password": "a-long-password-123" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    (
        body["user"]["id"].as_str().expect("a user id").to_owned(),
        body["accessToken"].as_str().expect("a token").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_long_polling_goes_through_the_balancer_to_the_instance_holding_its_session() {
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let client = reqwest::Client::new();
    let (ann_id, ann_token) = register(&client, &cluster, "ann@example.com").await;
    let (bob_id, bob_token) = register(&client, &cluster, "bob@example.com").await;

    let mut ann = Polling::open(&cluster.url, true).await;
    ann.connect(&ann_token).await;
    assert_eq!(
        ann.emit_with_ack("join-room", &json!("lobby")).await,
        json!({ "ok": true })
    );
    // Bob's session on the other instance (the balancer takes turns).
    let mut bob = Polling::open(&cluster.url, true).await;
    while bob.instance == ann.instance {
        bob = Polling::open(&cluster.url, true).await;
    }
    bob.connect(&bob_token).await;
    assert_eq!(
        bob.emit_with_ack("join-room", &json!("lobby")).await,
        json!({ "ok": true })
    );
    assert_eq!(
        bob.emit_with_ack("message", &json!({ "room": "lobby", "message": "hi Ann" }))
            .await,
        json!({ "ok": true })
    );

    assert_eq!(
        ann.next_event("user-joined").await,
        json!({ "userId": ann_id, "room": "lobby" })
    );
    assert_eq!(
        ann.next_event("user-joined").await,
        json!({ "userId": bob_id, "room": "lobby" })
    );
    let message = ann.next_event("message").await;
    assert_eq!(
        (&message["userId"], &message["message"]),
        (&json!(bob_id), &json!("hi Ann"))
    );

    // Without the cookie, the requests of one session take turns over the instances, and
    // the one that does not hold the session refuses it.
    let stray = Polling::open(&cluster.url, false).await;
    let mut refusals = Vec::new();
    for _ in 0..4 {
        if let Err(Refused(status, body)) = stray.send("40/events,{}").await {
            refusals.push((status, body));
        }
    }
    assert!(
        refusals
            .iter()
            .any(|(status, body)| *status == 400 && body.contains("Session ID unknown")),
        "a session reached an instance that does not hold it: {refusals:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_upgrades_through_the_balancer() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let Some(cluster) = Cluster::start(2).await else {
        return;
    };
    let address = cluster.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect to the balancer");
    stream
        .write_all(
            format!(
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {address}\r\n\
                 Upgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("send the upgrade");
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    // The 101 answer, then engine.io's open packet in the first websocket frame.
    while !String::from_utf8_lossy(&received).contains("\"sid\"") {
        assert!(
            Instant::now() < deadline,
            "{}",
            String::from_utf8_lossy(&received)
        );
        let mut buffer = [0; 1024];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("the balancer answers")
            .expect("read");
        assert!(read > 0, "closed: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{text}"
    );
}

/// What one client saw: acknowledged transfers (id, amount) and every status it got.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<(String, i64)>,
    statuses: HashMap<String, u32>,
    slowest_acknowledgement: Duration,
}

/// One client of the load: transfers of 1..=100 cents from `from` to `to` until `until`,
/// each retried with its key until it is acknowledged (connection errors and 5xx are
/// retried; anything else fails the test).
struct LoadClient {
    url: String,
    token: String,
    from: String,
    to: String,
    index: i64,
    seen: Arc<Mutex<Seen>>,
}

impl LoadClient {
    async fn run(self, until: Instant) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        let mut round = 0_i64;
        while Instant::now() < until {
            round += 1;
            let amount = (self.index * 31 + round * 7) % 100 + 1;
            let key = uuid::Uuid::now_v7().to_string();
            let started = Instant::now();
            while !self.attempt(&client, &key, amount, started).await {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// One attempt; whether it was acknowledged.
    async fn attempt(
        &self,
        client: &reqwest::Client,
        key: &str,
        amount: i64,
        started: Instant,
    ) -> bool {
        let sent = client
            .post(format!("{}/api/v1/transfers", self.url))
            .bearer_auth(&self.token)
            .header("idempotency-key", key)
            .json(&json!({ "fromAccountId": self.from, "toAccountId": self.to, "amount": amount }))
            .send()
            .await;
        let (label, answer) = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                (status.to_string(), Some((status, body)))
            }
            Err(error) if error.is_timeout() => ("no answer in 10 s".to_owned(), None),
            Err(_) => ("connection failed".to_owned(), None),
        };
        let mut seen = self.seen.lock().unwrap();
        *seen.statuses.entry(label).or_default() += 1;
        match answer {
            Some((201, body)) => {
                let id = body["id"].as_str().expect("a transfer id").to_owned();
                seen.acknowledged.push((id, amount));
                seen.slowest_acknowledgement = seen.slowest_acknowledgement.max(started.elapsed());
                true
            }
            Some((status, body)) if status < 500 => panic!("transfer refused: {status} {body}"),
            _ => false,
        }
    }
}

/// Every transfer listed in the history of `account`, with how often it is listed.
async fn history(
    client: &reqwest::Client,
    cluster: &Cluster,
    token: &str,
    account: &str,
) -> HashMap<String, u32> {
    let mut listed = HashMap::new();
    for page in 1.. {
        let body = get(
            client,
            cluster,
            &format!("/api/v1/accounts/{account}/transfers?limit=100&page={page}"),
            token,
        )
        .await;
        let data = body["data"].as_array().expect("a page of transfers");
        for transfer in data {
            *listed
                .entry(transfer["id"].as_str().expect("an id").to_owned())
                .or_default() += 1;
        }
        if data.len() < 100 {
            return listed;
        }
    }
    listed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_under_load_loses_and_duplicates_no_acknowledged_write() {
    let Some(mut cluster) = Cluster::start(2).await else {
        return;
    };
    let client = reqwest::Client::new();
    let credentials = json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD });
    let (status, login) = post(&client, &cluster, "/api/v1/auth/login", None, &credentials).await;
    assert_eq!(status, 200, "{login}");
    let admin = login["accessToken"]
        .as_str()
        .expect("the admin's token")
        .to_owned();
    let (_, ann) = register(&client, &cluster, "ann@example.com").await;
    let (_, bob) = register(&client, &cluster, "bob@example.com").await;
    let mut accounts = Vec::new();
    for token in [&ann, &bob] {
        let (status, account) = post(
            &client,
            &cluster,
            "/api/v1/accounts",
            Some(token),
            &json!({ "currency": "USD" }),
        )
        .await;
        assert_eq!(status, 201, "{account}");
        accounts.push(account["id"].as_str().expect("an account id").to_owned());
    }
    let initial = 10_000_000;
    let deposit_path = format!("/api/v1/accounts/{}/deposits", accounts[0]);
    let (status, deposit) = post(
        &client,
        &cluster,
        &deposit_path,
        Some(&admin),
        &json!({ "amount": initial }),
    )
    .await;
    assert_eq!(status, 201, "{deposit}");

    let seen = Arc::new(Mutex::new(Seen::default()));
    let until = Instant::now() + Duration::from_secs(5);
    let clients: Vec<_> = (0..4)
        .map(|index| {
            tokio::spawn(
                LoadClient {
                    url: cluster.url.clone(),
                    token: ann.clone(),
                    from: accounts[0].clone(),
                    to: accounts[1].clone(),
                    index,
                    seen: Arc::clone(&seen),
                }
                .run(until),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_kill = seen.lock().unwrap().acknowledged.len();
    cluster.instances[0].kill();
    for client in clients {
        tokio::time::timeout(Duration::from_secs(30), client)
            .await
            .expect("every transfer acknowledged in time")
            .expect("a load client");
    }

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let after_kill = seen.acknowledged.len() - before_kill;
    eprintln!(
        "transfers acknowledged: {} ({before_kill} before the kill, {after_kill} after); answers: {:?}; slowest acknowledgement {:?}",
        seen.acknowledged.len(),
        seen.statuses,
        seen.slowest_acknowledgement
    );
    assert!(
        before_kill > 0 && after_kill > 0,
        "load on both sides of the kill"
    );
    assert!(
        seen.statuses
            .keys()
            .all(|label| label == "201" || label.starts_with('5') || label == "connection failed"),
        "{:?}",
        seen.statuses
    );
    let moved: i64 = seen.acknowledged.iter().map(|(_, amount)| amount).sum();
    let mut balances = Vec::new();
    for account in &accounts {
        let body = get(
            &client,
            &cluster,
            &format!("/api/v1/accounts/{account}"),
            &admin,
        )
        .await;
        balances.push(body["balance"].as_i64().expect("a balance"));
    }
    assert_eq!(
        balances,
        [initial - moved, moved],
        "every acknowledged transfer applied once, nothing else"
    );
    for account in &accounts {
        let listed = history(&client, &cluster, &admin, account).await;
        for (id, _) in &seen.acknowledged {
            assert_eq!(
                listed.get(id),
                Some(&1),
                "transfer {id} in the history of {account}"
            );
        }
        // (A deposit is not a transfer: it is not listed.)
        assert_eq!(
            listed.len(),
            seen.acknowledged.len(),
            "nothing unacknowledged in {account}"
        );
    }
}
