//! Several `backend` processes on one PostgreSQL database and one Redis, behind HAProxy
//! configured by `deploy/haproxy.cfg` (with the server lines `deploy/run.sh` appends).
//! Needs `haproxy`, `TEST_DATABASE_URL` and `TEST_REDIS_URL`; without any of them
//! [`Cluster::start`] prints a SKIPPED notice and returns `None`.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use adapter_persistence::testing::TestDatabase;

pub(crate) const ADMIN_EMAIL: &str = "admin@example.com";
pub(crate) const ADMIN_PASSWORD: &str = "admin-password-123";

/// One `backend` process.
pub(crate) struct Instance {
    child: Child,
    /// Its name in the balancer (`instance-1`, …), which is also its cookie value.
    pub(crate) name: String,
}

impl Instance {
    /// Kills the process at once (SIGKILL): no shutdown, no answer to what is in flight.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("kill the instance");
        self.child.wait().expect("reap the instance");
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// See the module documentation.
pub(crate) struct Cluster {
    pub(crate) instances: Vec<Instance>,
    /// The balancer's base URL.
    pub(crate) url: String,
    haproxy: Child,
    _database: TestDatabase,
    _directory: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.haproxy.kill();
        let _ = self.haproxy.wait();
    }
}

fn skipped(what: &str) -> Option<Cluster> {
    eprintln!("\n*** Balancer suite SKIPPED: {what}\n");
    None
}

impl Cluster {
    /// `count` instances behind the balancer, every one of them ready.
    pub(crate) async fn start(count: usize) -> Option<Self> {
        if Command::new("haproxy").arg("-v").output().is_err() {
            return skipped("haproxy is not installed (apt-get install haproxy; .ci/run does)");
        }
        let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
            return skipped("TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)");
        };
        let Some(database) = TestDatabase::postgres().await else {
            return skipped("TEST_DATABASE_URL is not set");
        };
        let directory = tempfile::tempdir().expect("a directory for the cluster");
        let prefix = format!("test:{}:", uuid::Uuid::now_v7());
        let mut config = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/haproxy.cfg"
        ))
        .expect("deploy/haproxy.cfg");
        let mut instances = Vec::new();
        // One after the other: each provisions the administrator if it is missing.
        for index in 1..=count {
            let name = format!("instance-{index}");
            let data = directory.path().join(&name);
            std::fs::create_dir(&data).expect("a data directory");
            let (instance, address) = start_instance(&data, database.url(), &redis, &prefix, name);
            writeln!(config, "    server {0} {address} cookie {0}", instance.name)
                .expect("write to a string");
            instances.push(instance);
        }
        let config_path = directory.path().join("haproxy.cfg");
        std::fs::write(&config_path, config).expect("write the balancer's configuration");
        let bind = free_address();
        let haproxy = Command::new("haproxy")
            .arg("-f")
            .arg(&config_path)
            .arg("-db")
            .env("HAPROXY_BIND", &bind)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy");
        let cluster = Self {
            instances,
            url: format!("http://{bind}"),
            haproxy,
            _database: database,
            _directory: directory,
        };
        cluster.until_every_instance_answers().await;
        Some(cluster)
    }

    /// Waits until requests through the balancer reach every instance.
    async fn until_every_instance_answers(&self) {
        let client = reqwest::Client::new();
        let mut seen = std::collections::HashSet::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while seen.len() < self.instances.len() {
            assert!(
                Instant::now() < deadline,
                "the balancer never reached every instance: {seen:?}"
            );
            if let Ok(response) = client
                .get(format!("{}/health/ready", self.url))
                .send()
                .await
                && response.status() == 200
                && let Some(instance) = instance_cookie(&response)
            {
                seen.insert(instance);
            } else {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The instance a balancer's answer names in its `io_instance` cookie.
pub(crate) fn instance_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("io_instance="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

/// A loopback address nothing listens on (for the balancer).
fn free_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").to_string()
}

fn start_instance(
    data: &std::path::Path,
    database_url: &str,
    redis_url: &str,
    prefix: &str,
    name: String,
) -> (Instance, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backend"))
        .current_dir(data)
        .env_clear()
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", database_url)
        .env("REDIS_URL", redis_url)
        .env("REDIS_KEY_PREFIX", prefix)
        .env(
            "JWT_SECRET",
            "a-secret-shared-by-every-instance-of-the-cluster",
        )
        .env("TRUSTED_PROXIES", "127.0.0.1")
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RATE_LIMIT_MAX", "1000000")
        .env("AUTH_RATE_LIMIT_MAX", "1000000")
        .env("USER_RATE_LIMIT_MAX", "1000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the backend");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let banner = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.starts_with("Serving on "))
        .expect("the instance prints where it serves");
    // Keep reading, so that the instance never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let address = banner["Serving on http://".len()..]
        .split_whitespace()
        .next()
        .expect("an address")
        .to_owned();
    (Instance { child, name }, address)
}
