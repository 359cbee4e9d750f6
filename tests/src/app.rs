//! `TestApp`: the real application on port 0, one helper per endpoint.

use std::collections::HashMap;
use std::sync::Arc;

use adapter_crypto::{Argon2Hasher, JwtConfig, JwtTokens, RandomTokens};
use adapter_persistence::testing::TestDatabase;
use bootstrap::{App, Settings};
use chrono::Utc;
use domain::ports::{
    JobRepository, OpaqueTokenGenerator as _, PasswordHasher as _, SessionRepository,
    TokenIssuer as _, UserRepository,
};
use domain::{
    Actor, ClientInfo, Email, Job, JobQuery, NewRefreshToken, NewSession, NewUser, PageRequest,
    Password, PasswordHash, Role, SessionId, User, UserId, UserName,
};
use reqwest::Method;
use secrecy::SecretSlice;
use serde_json::Value;
use tokio::sync::{OnceCell, oneshot};

use crate::fault_proxy::FaultProxy;
use crate::response::TestResponse;

/// The secret the test apps sign tokens with.
/// (Strong enough for `APP_ENV=production`, which refuses patterned secrets.)
pub const JWT_SECRET: &str = "hQ3vN8kZ2pW7xR4mT9bL6cY1dF5gJ0sA-fixture-key";
/// The password of every user made by [`TestApp::create_user`].
pub const PASSWORD: &str = "correct horse battery staple";

/// One argon2 hash of [`PASSWORD`] per process: seeding users need not pay for hashing.
static PASSWORD_HASH: OnceCell<PasswordHash> = OnceCell::const_new();

/// Which storage the app under test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// `DATABASE_URL=memory://`.
    Memory,
}

/// A user arranged directly in the database, with a valid access token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub user: User,
    pub token: String,
    /// The session the token belongs to.
    pub session: SessionId,
}

impl TestUser {
    #[must_use]
    pub fn id(&self) -> String {
        self.user.id.to_string()
    }
}

/// The application under test, serving on a free port until dropped.
pub struct TestApp {
    pub address: String,
    /// `http://` and the `METRICS_ADDR` listener's address, when the test configured one.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    jobs: Arc<dyn JobRepository>,
    tokens: JwtTokens,
    shutdown: Option<oneshot::Sender<()>>,
    running: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// What `DATABASE_URL` the app was given (another instance may share it).
    database_url: String,
    // Dropped last (fields drop in order): the database outlives the server using it.
    data_dir: tempfile::TempDir,
    /// `None` for a second instance on another app's database.
    database: Option<TestDatabase>,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TestApp")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl TestApp {
    /// Starts the app on `backend`; `None` for PostgreSQL when `TEST_DATABASE_URL` is unset.
    /// (A second instance on the memory of another cannot be had: see [`Self::spawn_another`].)
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts the app with extra (or overriding) configuration variables.
    pub async fn spawn_with(backend: Backend, variables: &[(&str, &str)]) -> Option<Self> {
        let database = match backend {
            Backend::Sqlite => TestDatabase::sqlite(),
            Backend::Postgres => TestDatabase::postgres().await?,
            Backend::Memory => return Some(Self::start(None, "memory://", variables).await),
        };
        let url = database.url().to_owned();
        Some(Self::start(Some(database), &url, variables).await)
    }

    /// Another instance of the app on this one's database (as a second process behind a
    /// balancer would be), with its own port, data directory and outbox. It must be
    /// dropped before this one, which owns the database.
    pub async fn spawn_another(&self, variables: &[(&str, &str)]) -> Self {
        assert_ne!(
            self.database_url, "memory://",
            "memory:// lives in one process: no other instance can share it"
        );
        Self::start(None, &self.database_url, variables).await
    }

    /// Starts the app on a new database of the PostgreSQL cluster that the tests may restart
    /// (`TEST_RESTARTABLE_DATABASE_URL`, made by `tests/restartable-postgres.sh`; `None`
    /// with a notice without it).
    pub async fn spawn_on_restartable_postgres(variables: &[(&str, &str)]) -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_RESTARTABLE_DATABASE_URL") else {
            eprintln!(
                "\n*** Restartable PostgreSQL suite SKIPPED: TEST_RESTARTABLE_DATABASE_URL is not set \
                 (bash tests/restartable-postgres.sh prints it; .ci/run sets it)\n"
            );
            return None;
        };
        let database = TestDatabase::empty_postgres_at(&admin_url).await;
        let url = database.url().to_owned();
        Some(Self::start(Some(database), &url, variables).await)
    }

    /// Starts the app on PostgreSQL (`None` when `TEST_DATABASE_URL` is unset), reaching it
    /// through a [`FaultProxy`] that the test controls.
    pub async fn spawn_behind_proxy(variables: &[(&str, &str)]) -> Option<(Self, FaultProxy)> {
        let database = TestDatabase::postgres().await?;
        let mut url = url::Url::parse(database.url()).expect("a PostgreSQL URL");
        let proxy = FaultProxy::in_front_of(&url, 5432).await;
        url.set_ip_host(proxy.address().ip()).expect("an IP host");
        url.set_port(Some(proxy.address().port())).expect("a port");
        let app = Self::start(Some(database), url.as_str(), variables).await;
        Some((app, proxy))
    }

    async fn start(
        database: Option<TestDatabase>,
        database_url: &str,
        variables: &[(&str, &str)],
    ) -> Self {
        init_logging();
        let data_dir = tempfile::tempdir().expect("create a data directory");
        let mut environment: HashMap<String, String> = [
            ("APP_ENV", "test"),
            ("HOST", "127.0.0.1"),
            ("PORT", "0"),
            ("DATABASE_URL", database_url),
            ("DATABASE_MAX_CONNECTIONS", "5"),
            ("JWT_SECRET", JWT_SECRET),
            ("JOB_WORKERS", "2"),
            // Failed jobs retry within a test's patience.
            ("JOB_RETRY_BASE_MS", "100"),
            ("JOB_RETRY_MAX_SECONDS", "1"),
            ("JOB_POLL_INTERVAL_MS", "50"),
            // Out of the way unless a test sets its own.
            ("RATE_LIMIT_MAX", "1000000"),
            ("AUTH_RATE_LIMIT_MAX", "1000000"),
            ("USER_RATE_LIMIT_MAX", "1000000"),
            ("PUBLIC_URL", "https://app.example.com"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
        environment.insert("DATA_DIR".to_owned(), data_dir.path().display().to_string());
        environment.insert(
            "MAIL_OUTBOX_DIR".to_owned(),
            data_dir.path().join("outbox").display().to_string(),
        );
        for (key, value) in variables {
            environment.insert((*key).to_owned(), (*value).to_owned());
        }
        let settings = Settings::from_lookup(|name| environment.get(name).cloned())
            .expect("valid test settings");

        let app = App::build(&settings).await.expect("build the app");
        let address = format!("http://{}", app.address());
        let metrics_address = app
            .metrics_address()
            .map(|address| format!("http://{address}"));
        let users = app.storage().users();
        let sessions = app.storage().sessions();
        let jobs = app.storage().jobs();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));

        Self {
            address,
            metrics_address,
            client: reqwest::Client::builder()
                .build()
                .expect("build an HTTP client"),
            users,
            sessions,
            jobs,
            tokens: JwtTokens::new(&JwtConfig {
                secret: SecretSlice::from(JWT_SECRET.as_bytes().to_vec()),
                issuer: settings.jwt_issuer.clone(),
                audience: settings.jwt_audience.clone(),
                access_ttl_seconds: settings.jwt_access_ttl_seconds,
            }),
            shutdown: Some(shutdown),
            running: Some(running),
            database_url: database_url.to_owned(),
            data_dir,
            database,
        }
    }

    /// Whether the app keeps its state in memory (`memory://`): no database, no pool.
    #[must_use]
    pub fn is_in_memory(&self) -> bool {
        self.database_url == "memory://"
    }

    // ----------------------------------------------------------------- arranging data

    /// Stores a user with `role` (password [`PASSWORD`]) and mints its access token.
    pub async fn create_user(&self, role: Role) -> TestUser {
        let id = UserId::generate();
        let email = format!("{}-{}@example.com", role.as_str(), &id.to_string()[24..]);
        self.create_user_with(&email, Some("Test User"), role).await
    }

    /// Stores a user with this email, name and role (password [`PASSWORD`]).
    pub async fn create_user_with(&self, email: &str, name: Option<&str>, role: Role) -> TestUser {
        let password_hash = PASSWORD_HASH
            .get_or_init(|| async {
                Argon2Hasher::new(1)
                    .hash(&Password::parse(PASSWORD).unwrap())
                    .await
                    .expect("hash the test password")
            })
            .await
            .clone();
        let user = self
            .users
            .insert(NewUser {
                id: UserId::generate(),
                email: Email::parse(email).expect("a valid test email"),
                name: name.map(|name| UserName::parse(name).expect("a valid test name")),
                role,
                password_hash,
                created_at: domain::ports::Clock::now(&domain::ports::SystemClock),
                email_verified: false,
                email_verification: None,
                outbox: domain::Outbox::empty(),
            })
            .await
            .expect("insert the test user");
        let session = self.start_session(user.id).await;
        let token = self.sign(user.id, role, session, Utc::now());
        TestUser {
            user,
            token,
            session,
        }
    }

    /// Stores a live session for the user (as a login would), without a usable refresh
    /// token.
    async fn start_session(&self, user_id: UserId) -> SessionId {
        let now = Utc::now();
        let session = SessionId::generate();
        let (_, token_hash) = RandomTokens.generate();
        self.sessions
            .start(
                NewSession {
                    id: session,
                    user_id,
                    client: ClientInfo::default(),
                    created_at: now,
                    expires_at: now + chrono::Duration::days(1),
                },
                NewRefreshToken {
                    id: uuid::Uuid::now_v7(),
                    user_id,
                    family_id: session,
                    token_hash,
                    created_at: now,
                    expires_at: now + chrono::Duration::days(1),
                },
            )
            .await
            .expect("start a test session");
        session
    }

    fn sign(
        &self,
        user_id: UserId,
        role: Role,
        session: SessionId,
        issued_at: chrono::DateTime<Utc>,
    ) -> String {
        self.tokens
            .issue(
                Actor { user_id, role },
                session,
                domain::SessionVersion::INITIAL,
                issued_at,
            )
            .expect("sign a test token")
            .token
    }

    /// A correctly signed access token of `user`'s session issued at `issued_at` (to test
    /// expiry).
    #[must_use]
    pub fn token_issued_at(&self, user: &TestUser, issued_at: chrono::DateTime<Utc>) -> String {
        self.sign(user.user.id, user.user.role, user.session, issued_at)
    }

    /// A correctly signed access token for any id and role, in a session that does not
    /// exist, at session version 0 (it never authenticates: for unknown users).
    #[must_use]
    pub fn token_for(&self, user_id: UserId, role: Role) -> String {
        self.sign(user_id, role, SessionId::generate(), Utc::now())
    }

    /// Makes the database unreachable for the running app (PostgreSQL only): the database
    /// is dropped, its connections terminated.
    pub async fn drop_database(&self) {
        self.database
            .as_ref()
            .expect("the instance that owns the database")
            .drop_now()
            .await;
    }

    /// The messages in the mail outbox, oldest first, as a mail client shows them
    /// (quoted-printable decoded).
    #[must_use]
    pub fn outbox(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.data_dir.path().join("outbox")) else {
            return Vec::new();
        };
        let mut names: Vec<_> = entries
            .map(|entry| entry.expect("read the outbox").path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|path| {
                decode_quoted_printable(&std::fs::read_to_string(path).expect("read a message"))
            })
            .collect()
    }

    /// Waits (up to 10 s) until the outbox holds at least `count` messages; returns them
    /// all, oldest first.
    pub async fn wait_for_outbox(&self, count: usize) -> Vec<String> {
        eventually(&format!("{count} messages in the outbox"), || async {
            let messages = self.outbox();
            (messages.len() >= count).then_some(messages)
        })
        .await
    }

    /// Waits until `count` reset emails to `email` are in the outbox; returns their tokens,
    /// oldest first.
    pub async fn reset_tokens_for(&self, email: &str, count: usize) -> Vec<String> {
        eventually(&format!("{count} reset emails to {email}"), || async {
            let tokens: Vec<String> = self
                .outbox()
                .iter()
                .filter(|message| message.contains(&format!("To: {email}")))
                .filter_map(|message| reset_token_in(message))
                .collect();
            (tokens.len() >= count).then_some(tokens)
        })
        .await
    }

    /// Waits for a reset email to `email` and returns the token of the latest.
    pub async fn reset_token_for(&self, email: &str) -> String {
        let mut tokens = self.reset_tokens_for(email, 1).await;
        tokens.pop().expect("at least one token")
    }

    /// Every job in the queue, newest first (up to 100).
    pub async fn jobs(&self) -> Vec<Job> {
        self.jobs
            .list(&JobQuery {
                page: PageRequest::new(Some(1), Some(100)).expect("a valid page"),
                ..JobQuery::default()
            })
            .await
            .expect("list the jobs")
            .items
    }

    // ----------------------------------------------------------------- endpoints

    pub async fn register(&self, body: &Value) -> TestResponse {
        self.send(Method::POST, "/api/v1/auth/register", None, Some(body))
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        let body = serde_json::json!({ "email": email, "password": password });
        self.send(Method::POST, "/api/v1/auth/login", None, Some(&body))
            .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> TestResponse {
        let body = serde_json::json!({ "refreshToken": refresh_token });
        self.send(Method::POST, "/api/v1/auth/refresh", None, Some(&body))
            .await
    }

    pub async fn logout(&self, token: Option<&str>, refresh_token: &str) -> TestResponse {
        let body = serde_json::json!({ "refreshToken": refresh_token });
        self.send(Method::POST, "/api/v1/auth/logout", token, Some(&body))
            .await
    }

    pub async fn me(&self, token: Option<&str>) -> TestResponse {
        self.send(Method::GET, "/api/v1/auth/me", token, None).await
    }

    pub async fn request_password_reset(&self, email: &str) -> TestResponse {
        let body = serde_json::json!({ "email": email });
        self.send(
            Method::POST,
            "/api/v1/auth/password-reset",
            None,
            Some(&body),
        )
        .await
    }

    pub async fn confirm_password_reset(&self, token: &str, password: &str) -> TestResponse {
        let body = serde_json::json!({ "token": token, "password": password });
        self.send(
            Method::POST,
            "/api/v1/auth/password-reset/confirm",
            None,
            Some(&body),
        )
        .await
    }

    pub async fn health(&self) -> TestResponse {
        self.send(Method::GET, "/health", None, None).await
    }

    pub async fn readiness(&self) -> TestResponse {
        self.send(Method::GET, "/health/ready", None, None).await
    }

    pub async fn openapi(&self) -> TestResponse {
        self.send(Method::GET, "/openapi.json", None, None).await
    }

    pub async fn docs(&self) -> TestResponse {
        self.send(Method::GET, "/docs", None, None).await
    }

    /// `GET /api/v1/users?<query>`.
    pub async fn list_users(&self, token: Option<&str>, query: &str) -> TestResponse {
        self.send(Method::GET, &format!("/api/v1/users?{query}"), token, None)
            .await
    }

    pub async fn get_user(&self, token: Option<&str>, id: &str) -> TestResponse {
        self.send(Method::GET, &format!("/api/v1/users/{id}"), token, None)
            .await
    }

    pub async fn list_jobs(&self, token: Option<&str>, query: &str) -> TestResponse {
        self.send(
            Method::GET,
            &format!("/api/v1/admin/jobs?{query}"),
            token,
            None,
        )
        .await
    }

    pub async fn retry_job(&self, token: Option<&str>, id: &str) -> TestResponse {
        self.send(
            Method::POST,
            &format!("/api/v1/admin/jobs/{id}/retry"),
            token,
            None,
        )
        .await
    }

    pub async fn post_user(&self, token: Option<&str>, body: &Value) -> TestResponse {
        self.send(Method::POST, "/api/v1/users", token, Some(body))
            .await
    }

    pub async fn put_user(&self, token: Option<&str>, id: &str, body: &Value) -> TestResponse {
        self.send(
            Method::PUT,
            &format!("/api/v1/users/{id}"),
            token,
            Some(body),
        )
        .await
    }

    pub async fn delete_user(&self, token: Option<&str>, id: &str) -> TestResponse {
        self.send(Method::DELETE, &format!("/api/v1/users/{id}"), token, None)
            .await
    }

    pub async fn create_post(&self, token: &str, body: &Value) -> TestResponse {
        self.send(Method::POST, "/api/v1/posts", Some(token), Some(body))
            .await
    }

    pub async fn open_account(&self, token: &str, body: &Value) -> TestResponse {
        self.send(Method::POST, "/api/v1/accounts", Some(token), Some(body))
            .await
    }

    /// `POST /api/v1/accounts/{id}/deposits`, with an optional `Idempotency-Key`.
    pub async fn deposit(
        &self,
        token: &str,
        account: &str,
        amount: &Value,
        key: Option<&str>,
    ) -> TestResponse {
        let mut request = self
            .client
            .post(self.url(&format!("/api/v1/accounts/{account}/deposits")))
            .bearer_auth(token)
            .json(&serde_json::json!({ "amount": amount }));
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.send_raw(request).await
    }

    /// `POST /api/v1/transfers`, with an optional `Idempotency-Key`.
    pub async fn transfer(
        &self,
        token: &str,
        from: &str,
        to: &str,
        amount: &Value,
        key: Option<&str>,
    ) -> TestResponse {
        let mut request = self
            .client
            .post(self.url("/api/v1/transfers"))
            .bearer_auth(token)
            .json(
                &serde_json::json!({ "fromAccountId": from, "toAccountId": to, "amount": amount }),
            );
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.send_raw(request).await
    }

    /// Opens an account for `token`'s user and funds it as the admin; returns its id.
    pub async fn funded_account(
        &self,
        owner_token: &str,
        admin_token: &str,
        currency: &str,
        amount: i64,
    ) -> String {
        let account = self
            .open_account(owner_token, &serde_json::json!({ "currency": currency }))
            .await
            .expect(201);
        let id = account["id"].as_str().expect("an account id").to_owned();
        if amount > 0 {
            self.deposit(admin_token, &id, &serde_json::json!(amount), None)
                .await
                .expect(201);
        }
        id
    }

    /// Any request with a JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        TestResponse::read(request.send().await.expect("send the request")).await
    }

    /// `POST <path>` with this exact body text and `Content-Type` (forms, malformed or
    /// unusual JSON).
    pub async fn post_text(&self, path: &str, content_type: &str, body: &str) -> TestResponse {
        self.send_raw(
            self.client
                .post(self.url(path))
                .header("content-type", content_type)
                .body(body.to_owned()),
        )
        .await
    }

    /// A request built by the caller (raw bodies, custom headers).
    pub async fn send_raw(&self, request: reqwest::RequestBuilder) -> TestResponse {
        TestResponse::read(request.send().await.expect("send the request")).await
    }

    /// `<address><path>`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl TestApp {
    /// Signals shutdown as SIGTERM would and waits until the app has stopped.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(running) = self.running.take() {
            running
                .await
                .expect("the app task")
                .expect("the app stopped cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = adapter_tracing::install(&adapter_tracing::TracingConfig {
            format: adapter_tracing::LogFormat::Pretty,
            otlp: None,
        });
    }
}

/// What a mail client shows of a quoted-printable body: soft breaks joined, `=XX` decoded.
/// The token of the reset link in `message`, if it has one.
pub fn reset_token_in(message: &str) -> Option<String> {
    link_token_in(message, "reset-password")
}

/// The token of the link to `page` (`.../<page>?token=...`) in `message`, if it has one.
pub(crate) fn link_token_in(message: &str, page: &str) -> Option<String> {
    let marker = format!("{page}?token=");
    let start = message.find(&marker)? + marker.len();
    Some(
        message[start..]
            .chars()
            .take_while(|character| {
                character.is_ascii_alphanumeric() || matches!(character, '-' | '_')
            })
            .collect(),
    )
}

/// Polls `probe` every 20 ms until it returns `Some`, for up to 10 s (background work such
/// as email delivery finishes a little after the request that caused it).
pub async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// What a mail client shows: soft line breaks joined, `=XX` escapes decoded.
pub fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let mut bytes = Vec::with_capacity(joined.len());
    let mut rest = joined.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if let (b'=', [high, low, after @ ..]) = (byte, tail)
            && let Ok(decoded) =
                u8::from_str_radix(&format!("{}{}", *high as char, *low as char), 16)
        {
            bytes.push(decoded);
            rest = after;
            continue;
        }
        bytes.push(byte);
        rest = tail;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
