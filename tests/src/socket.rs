//! Real socket.io clients for the black-box tests: the npm `socket.io-client`, driven
//! through `tests/js/driver.mjs` (one Node.js process per test, any number of clients in
//! it, JSON lines over stdin/stdout).
//!
//! The driver's dependencies are installed by the first test that needs them (`npm ci`
//! from the committed lockfile); without Node.js or npm the tests fail with a message that
//! says so, they are never skipped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::oneshot;

use crate::TestApp;

/// How long a test waits for something that should happen (an event, an ack).
const PATIENCE: Duration = Duration::from_secs(5);
/// Written into `node_modules` after an install: the lockfile it was installed from.
const INSTALL_STAMP: &str = ".installed-from-package-lock.json";

/// How a client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `transports: ["websocket"]`.
    Websocket,
    /// `transports: ["polling"]`: HTTP long-polling only.
    Polling,
    /// socket.io's default: long-polling first, then upgraded to a websocket. Clients
    /// connected this way are only handed to the test once the upgrade is done.
    PollingThenUpgrade,
}

impl Transport {
    fn options(self) -> (Value, bool) {
        match self {
            Self::Websocket => (json!(["websocket"]), false),
            Self::Polling => (json!(["polling"]), false),
            Self::PollingThenUpgrade => (json!(["polling", "websocket"]), true),
        }
    }
}

/// One Node.js process hosting socket.io clients, for one test.
pub struct SocketDriver {
    inner: Arc<Driver>,
    url: String,
    clients: AtomicU64,
}

struct Driver {
    stdin: tokio::sync::Mutex<ChildStdin>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Value>>>,
    next_id: AtomicU64,
    stderr: Arc<Mutex<String>>,
    // Killed when the driver is dropped.
    _child: Child,
}

impl std::fmt::Debug for SocketDriver {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SocketDriver")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl SocketDriver {
    /// Starts a driver whose clients connect to `app`'s `/events` namespace.
    /// Call it inside the test's runtime: it spawns the tasks that read the driver's output.
    pub fn start(app: &TestApp) -> Self {
        let js = js_directory();
        install_once(&js);
        let mut child = Command::new("node")
            .arg(js.join("driver.mjs"))
            .current_dir(&js)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("could not start node for the socket.io tests ({error}); install Node.js 18 or newer")
            });
        let stdin = child.stdin.take().expect("the driver's stdin");
        let stdout = child.stdout.take().expect("the driver's stdout");
        let mut stderr = child.stderr.take().expect("the driver's stderr");
        let driver = Arc::new(Driver {
            stdin: tokio::sync::Mutex::new(stdin),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            stderr: Arc::new(Mutex::new(String::new())),
            _child: child,
        });

        let errors = Arc::clone(&driver.stderr);
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            errors.lock().unwrap().push_str(&text);
        });
        let answers = Arc::downgrade(&driver);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Some(driver) = answers.upgrade() else {
                    return;
                };
                let answer: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|error| json!({ "driverError": format!("{error}: {line}") }));
                let waiting = answer["id"]
                    .as_u64()
                    .and_then(|id| driver.pending.lock().unwrap().remove(&id));
                if let Some(waiting) = waiting {
                    let _ = waiting.send(answer);
                }
            }
        });

        Self {
            inner: driver,
            url: format!("{}/events", app.address),
            clients: AtomicU64::new(0),
        }
    }

    /// A new client's name and the driver command that connects it.
    fn connect_command(&self, transport: Transport, auth: Option<&Value>) -> (String, Value) {
        let name = format!("client-{}", self.clients.fetch_add(1, Ordering::Relaxed));
        let (transports, upgrade) = transport.options();
        let command = json!({
            "cmd": "connect",
            "client": name,
            "url": self.url,
            "transports": transports,
            "upgrade": upgrade,
            "auth": auth,
            "timeoutMs": PATIENCE.as_millis(),
        });
        (name, command)
    }

    /// Connects a client with this `auth` payload (`None`: no auth at all). `Err` is the
    /// `connect_error` message the client received.
    pub async fn connect(
        &self,
        transport: Transport,
        auth: Option<Value>,
    ) -> Result<SocketClient, String> {
        let (name, command) = self.connect_command(transport, auth.as_ref());
        let answer = self.inner.request(command).await;
        if answer["ok"] != true {
            return Err(answer["error"].as_str().unwrap_or_default().to_owned());
        }
        let client = SocketClient {
            driver: Arc::clone(&self.inner),
            name,
            socket_id: answer["socketId"].as_str().unwrap_or_default().to_owned(),
        };
        let (opened_on, now_on) = match transport {
            Transport::Websocket => ("websocket", "websocket"),
            Transport::Polling => ("polling", "polling"),
            Transport::PollingThenUpgrade => ("polling", "websocket"),
        };
        assert_eq!(
            answer["openedOn"], opened_on,
            "the transport the session opened on"
        );
        let transport_now = if transport == Transport::PollingThenUpgrade {
            client.wait_for_upgrade().await
        } else {
            answer["transport"].as_str().unwrap_or_default().to_owned()
        };
        assert_eq!(
            transport_now, now_on,
            "the client's transport after connecting"
        );
        Ok(client)
    }

    /// Connects a client with `token` that emits `event` with `args` the moment it is
    /// connected, in the same tick, and returns that event's acknowledgement.
    pub async fn connect_and_emit_at_once(
        &self,
        transport: Transport,
        token: &str,
        event: &str,
        args: &[Value],
    ) -> Value {
        let (_, mut command) = self.connect_command(transport, Some(&json!({ "token": token })));
        command["firstEmit"] = json!({ "event": event, "args": args });
        let answer = self.inner.request(command).await;
        assert_eq!(answer["ok"], true, "the connection was refused: {answer}");
        answer["firstAck"].clone()
    }

    /// Connects a client authenticated with `token`, which must be accepted.
    pub async fn connect_with_token(&self, transport: Transport, token: &str) -> SocketClient {
        self.connect(transport, Some(json!({ "token": token })))
            .await
            .unwrap_or_else(|error| panic!("the connection was refused: {error}"))
    }
}

impl Driver {
    async fn request(&self, mut command: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        command["id"] = json!(id);
        let (answer_sender, answer) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, answer_sender);
        let mut line = command.to_string();
        line.push('\n');
        let written = self.stdin.lock().await.write_all(line.as_bytes()).await;
        let answer = match written {
            Ok(()) => tokio::time::timeout(PATIENCE * 2, answer).await,
            Err(error) => panic!("the socket driver is gone ({error}): {}", self.stderr()),
        };
        match answer {
            Ok(Ok(answer)) if answer.get("driverError").is_some() => {
                panic!("the socket driver failed: {}", answer["driverError"])
            }
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => panic!("the socket driver exited: {}", self.stderr()),
            Err(elapsed) => panic!("the socket driver did not answer {command} ({elapsed})"),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// One connected socket.io client.
pub struct SocketClient {
    driver: Arc<Driver>,
    name: String,
    pub socket_id: String,
}

impl std::fmt::Debug for SocketClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SocketClient")
            .field("socket_id", &self.socket_id)
            .finish_non_exhaustive()
    }
}

impl SocketClient {
    /// Emits `event` with `args` and returns the acknowledgement's first argument.
    pub async fn emit_with_ack(&self, event: &str, args: &[Value]) -> Value {
        let answer = self
            .driver
            .request(json!({
                "cmd": "emit",
                "client": self.name,
                "event": event,
                "args": args,
                "ack": true,
                "timeoutMs": PATIENCE.as_millis(),
            }))
            .await;
        assert!(
            answer.get("ack").is_some(),
            "no acknowledgement of {event}: {answer}"
        );
        answer["ack"].clone()
    }

    /// Emits `event` without asking for an acknowledgement.
    pub async fn emit(&self, event: &str, args: &[Value]) {
        self.driver
            .request(json!({ "cmd": "emit", "client": self.name, "event": event, "args": args, "ack": false }))
            .await;
    }

    /// `join-room`, returning the acknowledgement.
    pub async fn join(&self, room: &str) -> Value {
        self.emit_with_ack("join-room", &[json!(room)]).await
    }

    /// `message`, returning the acknowledgement.
    pub async fn send_message(&self, room: &str, message: &str) -> Value {
        self.emit_with_ack("message", &[json!({ "room": room, "message": message })])
            .await
    }

    /// The first argument of the oldest unread `event`, waiting for it if need be.
    pub async fn next_event(&self, event: &str) -> Value {
        let answer = self
            .driver
            .request(json!({ "cmd": "next", "client": self.name, "event": event, "timeoutMs": PATIENCE.as_millis() }))
            .await;
        assert!(
            answer.get("timeout").is_none(),
            "no {event} event arrived within {PATIENCE:?}"
        );
        answer["args"][0].clone()
    }

    /// The names of every event received and not yet read, oldest first.
    pub async fn unread_events(&self) -> Vec<String> {
        self.event_names("received").await
    }

    /// The names of every event received and not yet read, oldest first; all of them are
    /// read now.
    pub async fn drain_events(&self) -> Vec<String> {
        self.event_names("drain").await
    }

    /// The driver command `cmd` (`received` or `drain`) and the event names it answers.
    async fn event_names(&self, cmd: &str) -> Vec<String> {
        let answer = self
            .driver
            .request(json!({ "cmd": cmd, "client": self.name }))
            .await;
        serde_json::from_value(answer["events"].clone()).expect("a list of event names")
    }

    /// Waits until everything the server sent this client before now has arrived: the
    /// server answers an acknowledged event on the same ordered channel as its other
    /// packets, so once the ack is back, an earlier broadcast would be in the queue too.
    /// Used before asserting that something did *not* arrive. (Costs one rate-limit token:
    /// the event is a harmless `leave-room` of a room nobody joins.)
    pub async fn sync(&self) {
        let ack = self
            .emit_with_ack("leave-room", &[json!("sync-barrier")])
            .await;
        assert_eq!(ack["ok"], false, "the barrier room is never joined");
    }

    /// The transport once the client's upgrade is done (or its transport after waiting).
    pub async fn wait_for_upgrade(&self) -> String {
        let answer = self
            .driver
            .request(
                json!({ "cmd": "upgrade", "client": self.name, "timeoutMs": PATIENCE.as_millis() }),
            )
            .await;
        answer["transport"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn disconnect(&self) {
        self.driver
            .request(json!({ "cmd": "disconnect", "client": self.name }))
            .await;
    }
}

fn js_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Installs the driver's npm dependencies once per test process, and only when
/// `node_modules` is missing or was installed from another lockfile.
///
/// Test processes may run at once (several test binaries, or `cargo test` twice), so the
/// install cannot write into `node_modules` in place: each process installs into a
/// directory of its own and renames the result into place. A rename is atomic, so a test
/// sees either no `node_modules` or a complete one, and there is no lock to go stale when
/// a run is killed half-way.
fn install_once(js: &Path) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let lockfile = std::fs::read(js.join("package-lock.json")).expect("read tests/js/package-lock.json");
        let target = js.join("node_modules");
        if std::fs::read(target.join(INSTALL_STAMP)).is_ok_and(|stamp| stamp == lockfile) {
            return;
        }
        let staging = js.join(format!(".install-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).expect("create a staging directory for npm ci");
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(js.join(file), staging.join(file)).expect("copy the npm manifest");
        }
        let output = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&staging)
            .output()
            .unwrap_or_else(|error| panic!("could not run npm for the socket.io tests ({error}); install Node.js 18+ with npm"));
        assert!(
            output.status.success(),
            "npm ci in tests/js failed; the socket.io tests need the npm registry once:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::write(staging.join("node_modules").join(INSTALL_STAMP), &lockfile).expect("stamp node_modules");
        // An outdated install is moved aside (into the staging directory, removed below).
        let _ = std::fs::rename(&target, staging.join("outdated"));
        let installed = std::fs::rename(staging.join("node_modules"), &target);
        let current = std::fs::read(target.join(INSTALL_STAMP)).is_ok_and(|stamp| stamp == lockfile);
        let _ = std::fs::remove_dir_all(&staging);
        assert!(
            current,
            "could not put tests/js/node_modules in place: {installed:?}"
        );
    });
}
