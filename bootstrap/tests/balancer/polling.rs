//! A socket.io client over engine.io long-polling, written out (protocol v4): every packet
//! is an HTTP request of its own, which is what makes the balancer's stickiness matter.
//! The `io_instance` cookie the balancer sets on the handshake is sent back on every later
//! request when the session is `sticky`, as a browser (or the npm client with
//! `withCredentials`) does.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;

/// engine.io's separator between the packets of one polling payload.
const SEPARATOR: char = '\u{1e}';
const NAMESPACE: &str = "/events";

pub(crate) struct Polling {
    client: reqwest::Client,
    url: String,
    cookie: Option<String>,
    /// The instance holding the session, from the balancer's cookie.
    pub(crate) instance: String,
    next_ack: u64,
    unread: VecDeque<String>,
}

/// A polling request the server refused (status and body).
#[derive(Debug)]
pub(crate) struct Refused(pub u16, pub String);

impl Polling {
    /// Opens an engine.io session through the balancer at `base`.
    pub(crate) async fn open(base: &str, sticky: bool) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        let url = format!("{base}/socket.io/?EIO=4&transport=polling");
        let response = client.get(&url).send().await.expect("the handshake");
        assert_eq!(response.status(), 200, "the handshake");
        let instance = super::cluster::instance_cookie(&response).expect("the balancer's cookie");
        let body = response.text().await.expect("the handshake's body");
        let open: Value = serde_json::from_str(body.strip_prefix('0').expect("an open packet"))
            .expect("the open packet's JSON");
        let sid = open["sid"].as_str().expect("a session id");
        Self {
            client,
            url: format!("{url}&sid={sid}"),
            cookie: sticky.then(|| format!("io_instance={instance}")),
            instance,
            next_ack: 1,
            unread: VecDeque::new(),
        }
    }

    fn request(&self, method: reqwest::Method) -> reqwest::RequestBuilder {
        let request = self.client.request(method, &self.url);
        match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    /// Sends one packet.
    pub(crate) async fn send(&self, packet: &str) -> Result<(), Refused> {
        let response = self
            .request(reqwest::Method::POST)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(packet.to_owned())
            .send()
            .await
            .expect("a polling POST");
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if status == 200 {
            Ok(())
        } else {
            Err(Refused(status, body))
        }
    }

    /// One long-poll: the packets the server had (or the first that arrives).
    pub(crate) async fn poll(&self) -> Result<Vec<String>, Refused> {
        let response = self
            .request(reqwest::Method::GET)
            .send()
            .await
            .expect("a polling GET");
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if status != 200 {
            return Err(Refused(status, body));
        }
        Ok(body.split(SEPARATOR).map(str::to_owned).collect())
    }

    /// The next socket.io packet of the namespace starting with `kind` (`40`, `42`, `43`),
    /// without it; packets of other kinds wait in `unread`.
    async fn next_packet(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            if let Some(index) = self.unread.iter().position(|packet| wanted(packet)) {
                return self.unread.remove(index).expect("the packet found");
            }
            let packets = self
                .poll()
                .await
                .expect("a long-poll to the session's instance");
            self.unread.extend(packets);
        }
    }

    /// Joins the namespace with `token`.
    pub(crate) async fn connect(&mut self, token: &str) {
        let auth = serde_json::json!({ "token": token });
        self.send(&format!("40{NAMESPACE},{auth}"))
            .await
            .expect("the CONNECT packet");
        let prefix = format!("40{NAMESPACE},");
        let connected = self.next_packet(|packet| packet.starts_with(&prefix)).await;
        assert!(connected.contains("\"sid\""), "connected: {connected}");
    }

    /// Emits `event` with `argument` and returns the acknowledgement's first argument.
    pub(crate) async fn emit_with_ack(&mut self, event: &str, argument: &Value) -> Value {
        let id = self.next_ack;
        self.next_ack += 1;
        let arguments = serde_json::json!([event, argument]);
        self.send(&format!("42{NAMESPACE},{id}{arguments}"))
            .await
            .expect("an EVENT packet");
        let prefix = format!("43{NAMESPACE},{id}[");
        let ack = self.next_packet(|packet| packet.starts_with(&prefix)).await;
        let arguments: Value =
            serde_json::from_str(&ack[prefix.len() - 1..]).expect("the ack's arguments");
        arguments[0].clone()
    }

    /// The first argument of the next `event` the server sends.
    pub(crate) async fn next_event(&mut self, event: &str) -> Value {
        let prefix = format!("42{NAMESPACE},[\"{event}\"");
        let packet = self.next_packet(|packet| packet.starts_with(&prefix)).await;
        let arguments: Value = serde_json::from_str(&packet[format!("42{NAMESPACE},").len()..])
            .expect("the event's arguments");
        arguments[1].clone()
    }
}
