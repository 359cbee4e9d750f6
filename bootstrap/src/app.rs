//! Composition: settings in, adapters built, use cases wired, listener bound. No business
//! logic and no SQL live here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_crypto::{Argon2Hasher, JwtConfig, JwtTokens};
use adapter_http::{CorsPolicy, HttpConfig, HttpServer, Services};
use adapter_persistence::{Database, DatabaseConfig, DieselUserRepository};
use anyhow::Context as _;
use application::{AdminProvisioning, Authenticator, HealthService, UserService};
use domain::ports::{Clock, SystemClock};
use domain::{Email, Password};
use secrecy::ExposeSecret as _;

use crate::settings::{Environment, Settings};

/// How long in-flight requests may run after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// JSON request bodies larger than this are refused with 413.
const BODY_LIMIT_BYTES: usize = 10 * 1024;

/// A built application, bound to its port and ready to serve.
pub struct App {
    server: HttpServer,
    database: Database,
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
    /// Opens and migrates the database, builds every adapter and use case, creates the
    /// configured admin, and binds the listener (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let database = open_database(settings).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let tokens = Arc::new(JwtTokens::new(&JwtConfig {
            secret: crate::secrets::jwt_secret(settings)?,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            access_ttl_seconds: settings.jwt_access_ttl_seconds,
        }));
        let users = UserService::new(
            Arc::new(DieselUserRepository::new(database.clone())),
            Arc::new(Argon2Hasher::per_core()),
            Arc::clone(&clock),
        );
        provision_admin(settings, &users).await?;

        let services = Services {
            users,
            authenticator: Authenticator::new(tokens, clock),
            health: HealthService::new(vec![Arc::new(database.clone())]),
        };
        let http = HttpConfig {
            cors: cors_policy(settings),
            expose_error_details: settings.expose_error_details(),
            body_limit_bytes: BODY_LIMIT_BYTES,
        };
        let server = HttpServer::bind(
            SocketAddr::new(settings.host, settings.port),
            services,
            &http,
        )
        .await
        .with_context(|| format!("could not listen on {}:{}", settings.host, settings.port))?;
        Ok(Self { server, database })
    }

    /// The address actually bound (its port is the real one when `PORT=0`).
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.server.address()
    }

    /// The database the app serves from (tests use it to arrange data).
    #[must_use]
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish (up to a
    /// grace period) before returning.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.server
            .run_until(shutdown, SHUTDOWN_GRACE)
            .await
            .context("the HTTP server failed")
    }
}

/// Opens the pool and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let database = Database::connect(&DatabaseConfig {
        url: settings.database_url.expose_secret().to_owned(),
        max_connections: settings.database_max_connections,
    })?;
    let applied = database.migrate().await?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied database migrations");
    }
    Ok(database)
}

async fn provision_admin(settings: &Settings, users: &UserService) -> anyhow::Result<()> {
    let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) else {
        return Ok(());
    };
    let email =
        Email::parse(email).map_err(|error| anyhow::anyhow!("invalid ADMIN_EMAIL: {error}"))?;
    let password = Password::parse(password.expose_secret())
        .map_err(|error| anyhow::anyhow!("invalid ADMIN_PASSWORD: {error}"))?;
    match users.ensure_admin(email.clone(), password).await? {
        AdminProvisioning::Created => {
            tracing::info!(email = %email, "created the administrator from ADMIN_EMAIL");
        }
        AdminProvisioning::AlreadyExists => {
            tracing::debug!(email = %email, "the administrator already exists");
        }
    }
    Ok(())
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
