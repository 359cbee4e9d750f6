//! Composition: settings in, adapters built, use cases wired, listener bound. No business
//! logic and no SQL live here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_crypto::{Argon2Hasher, JwtConfig, JwtTokens, RandomTokens};
use adapter_http::{ConnectionLimits, CorsPolicy, HttpConfig, HttpServer, RateLimits, Services};
use adapter_tracing::SpanTraces;
use anyhow::Context as _;
use application::{
    AccountService, AuthConfig, AuthPorts, AuthService, AuthStates, Authenticator, HealthService,
    JobAdminService, PostService, SessionStates, UserPorts, UserService,
};
use domain::ports::{Clock, RatePolicy, SystemClock};

use crate::jobs::JobRuntime;
pub use crate::jobs::run_workers;
use crate::metrics::ProcessMetrics;
use crate::settings::{Environment, Settings};
use crate::storage::Storage;

/// How long in-flight requests may run after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// JSON request bodies larger than this are refused with 413.
const BODY_LIMIT_BYTES: usize = 10 * 1024;
/// How long a user's role and session version may be served from memory; changes made
/// through this process take effect at once regardless.
const AUTH_STATE_TTL: chrono::TimeDelta = chrono::TimeDelta::seconds(1);
/// Password-reset links work for this long.
const RESET_TOKEN_TTL: Duration = Duration::from_mins(30);
/// Reset emails sent to one address per hour; more requests are answered alike and send
/// nothing.
const RESET_REQUEST_POLICY: RatePolicy = RatePolicy {
    limit: 3,
    window: Duration::from_hours(1),
};
/// Failed logins allowed per account within the rate-limit window.
const MAX_FAILED_LOGINS: u32 = 5;
/// A built application, bound to its port and ready to serve.
pub struct App {
    server: HttpServer,
    /// `/metrics` on `METRICS_ADDR`, when configured.
    metrics_server: Option<HttpServer>,
    storage: Storage,
    jobs: JobRuntime,
    /// Hears the sessions other instances ended (with `REDIS_URL`).
    revocations: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("App")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

impl App {
    /// Opens the storage (a database is migrated), builds every adapter and use case,
    /// creates the configured admin, and binds the listener (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let metrics = ProcessMetrics::start(settings, Storage::open(settings).await?).await?;
        let storage = metrics.storage.clone();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let tokens = Arc::new(JwtTokens::new(&JwtConfig {
            secret: crate::secrets::jwt_secret(settings)?,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            access_ttl_seconds: settings.jwt_access_ttl_seconds,
        }));
        let user_repository = storage.users();
        let sessions = storage.sessions();
        let hasher = Arc::new(Argon2Hasher::per_core().with_telemetry(metrics.port()));
        let auth_states = Arc::new(AuthStates::new(
            Arc::clone(&user_repository),
            Arc::clone(&clock),
            AUTH_STATE_TTL,
        ));
        let session_states = Arc::new(SessionStates::new(
            Arc::clone(&sessions),
            Arc::clone(&clock),
            AUTH_STATE_TTL,
        ));
        let rate_limiter = crate::limits::rate_limiter(settings, metrics.port())?;
        let jobs = JobRuntime::build(settings, &storage, Arc::clone(&clock), metrics.port())?;
        let window = Duration::from_secs(settings.rate_limit_window_seconds);
        let authenticator = Authenticator::new(
            tokens.clone(),
            Arc::clone(&auth_states),
            Arc::clone(&session_states),
            Arc::clone(&clock),
        );
        // The use cases' events go to the socket.io gateway's clients (on every instance
        // with Redis).
        let realtime =
            crate::realtime::gateway(settings, authenticator.clone(), &clock, metrics.port())
                .await?;
        let shared = crate::revocations::shared(
            crate::limits::redis_config(settings, ""),
            metrics.port(),
            crate::revocations::Local {
                gateway: realtime.publisher(),
                auth_states: Arc::clone(&auth_states),
                session_states: Arc::clone(&session_states),
            },
        )?;
        let events = shared.publisher;
        let verification_ttl = Duration::from_secs(settings.email_verification_ttl_seconds);
        let users = UserService::new(
            UserPorts {
                users: Arc::clone(&user_repository),
                hasher: hasher.clone(),
                clock: Arc::clone(&clock),
                auth_states: Arc::clone(&auth_states),
                opaque_tokens: Arc::new(RandomTokens),
                events: Arc::clone(&events),
            },
            verification_ttl,
        );
        crate::provision::provision_admin(settings, &users).await?;
        let auth = AuthService::new(
            AuthPorts {
                users: user_repository,
                sessions,
                resets: storage.resets(),
                verifications: storage.verifications(),
                hasher,
                issuer: tokens,
                opaque_tokens: Arc::new(RandomTokens),
                rate_limiter: Arc::clone(&rate_limiter),
                clock: Arc::clone(&clock),
                auth_states,
                session_states,
                events: Arc::clone(&events),
            },
            AuthConfig {
                refresh_token_ttl: Duration::from_secs(settings.jwt_refresh_ttl_seconds),
                reset_token_ttl: RESET_TOKEN_TTL,
                verification_token_ttl: verification_ttl,
                require_verified_email: settings.require_verified_email,
                failed_login_policy: RatePolicy {
                    limit: MAX_FAILED_LOGINS,
                    window,
                },
                reset_request_policy: RESET_REQUEST_POLICY,
            },
        );
        let services = Services {
            auth,
            users,
            posts: PostService::new(storage.posts(), Arc::clone(&events), Arc::clone(&clock)),
            accounts: AccountService::new(storage.accounts(), events, Arc::clone(&clock)),
            jobs: JobAdminService::new(storage.jobs(), Arc::clone(&clock)),
            authenticator,
            health: HealthService::new(vec![storage.readiness()]),
            realtime,
        };
        let http = HttpConfig {
            cors: cors_policy(settings),
            expose_error_details: settings.expose_error_details(),
            body_limit_bytes: BODY_LIMIT_BYTES,
            body_read_timeout: Duration::from_secs(settings.http.body_timeout_seconds),
            connection_limits: ConnectionLimits {
                max_connections: settings.http.max_connections,
                header_read_timeout: Duration::from_secs(settings.http.header_timeout_seconds),
                idle_timeout: Duration::from_secs(settings.http.idle_timeout_seconds),
                http2_max_concurrent_streams: settings.http.http2_max_streams,
            },
            rate_limits: RateLimits {
                limiter: rate_limiter,
                global: RatePolicy {
                    limit: settings.rate_limit_max,
                    window,
                },
                auth: RatePolicy {
                    limit: settings.auth_rate_limit_max,
                    window,
                },
                user: RatePolicy {
                    limit: settings.user_rate_limit_max,
                    window,
                },
            },
            trusted_proxies: settings.trusted_proxies.clone(),
            telemetry: metrics.port(),
            traces: Arc::new(SpanTraces),
            metrics: crate::metrics::served_on_api_listener(settings, &metrics.telemetry),
        };
        let server = HttpServer::bind(
            SocketAddr::new(settings.host, settings.port),
            services,
            &http,
        )
        .await
        .with_context(|| format!("could not listen on {}:{}", settings.host, settings.port))?;
        Ok(Self {
            server,
            metrics_server: metrics.listener,
            storage,
            jobs,
            revocations: shared.listener,
        })
    }

    /// The address actually bound (its port is the real one when `PORT=0`).
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.server.address()
    }

    /// The `METRICS_ADDR` listener's address, when there is one.
    #[must_use]
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(HttpServer::address)
    }

    /// The storage the app serves from (tests use it to arrange data).
    #[must_use]
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Serves and runs the job workers until `shutdown` completes; then, at once, lets
    /// in-flight requests finish (up to a grace period) and stops the workers gracefully
    /// (running jobs finish or go back to the queue) before returning.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            // An error means the sender is gone, which is a stop as well.
            let _ = stopped.wait_for(|stopped| *stopped).await;
        };
        let server = self
            .server
            .run_until(until_stopped(stopped.clone()), SHUTDOWN_GRACE);
        let metrics = crate::metrics::serve(self.metrics_server, until_stopped(stopped.clone()));
        let workers = self.jobs.run_until(until_stopped(stopped));
        let (outcome, metrics, (), ()) = tokio::join!(server, metrics, workers, signal);
        if let Some(revocations) = self.revocations {
            revocations.abort();
        }
        metrics?;
        outcome.context("the HTTP server failed")
    }
}

fn cors_policy(settings: &Settings) -> CorsPolicy {
    if !settings.allowed_origins.is_empty() {
        return CorsPolicy::Origins(settings.allowed_origins.clone());
    }
    match settings.environment {
        Environment::Production => CorsPolicy::Closed,
        Environment::Development | Environment::Test => CorsPolicy::AnyOriginWithoutCredentials,
    }
}
