//! The database handle: a connection pool for the backend named by the URL, migrations,
//! and the readiness probe. It holds connections only: the job queue's wake-ups live in
//! `jobs::JobSignals`, the users' totals in the `totals` decorator.

mod checkout;
mod migrations;
mod pools;
mod url;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use diesel::SqliteConnection;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::Pool as DeadPool;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ports::ReadinessProbe;

pub(crate) use self::checkout::Checkout;
use self::pools::{
    build_pool, postgres_manager_config, relaxed_postgres_manager_config, sqlite_manager_config,
};
use self::url::parse_url;
#[cfg(feature = "testing")]
pub(crate) use self::url::redact;

/// How long the readiness round trip may take.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) type SqliteConnectionWrapper = SyncConnectionWrapper<SqliteConnection>;

/// Which database engine a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Where the database is and how many connections to keep.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `postgres://...`, `postgresql://...`, `sqlite://PATH` or `sqlite:PATH`.
    pub url: String,
    pub max_connections: usize,
    /// The deadline of each operation: waiting for a connection and running its
    /// statements (`DATABASE_TIMEOUT_SECONDS`).
    pub timeout: Duration,
}

/// The database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("unsupported database URL (expected postgres://, postgresql:// or sqlite://): {0}")]
    UnsupportedUrl(String),
    #[error("could not connect to the database")]
    Connect(#[source] anyhow::Error),
    #[error("could not apply the database migrations")]
    Migrate(#[source] anyhow::Error),
}

pub(crate) enum Pool {
    Postgres(DeadPool<AsyncPgConnection>),
    Sqlite(DeadPool<SqliteConnectionWrapper>),
}

/// A pooled connection to PostgreSQL or SQLite. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Database {
    pool: std::sync::Arc<Pool>,
    /// The URL the backend's driver accepts (for SQLite, the file path).
    connection_url: String,
    /// Where the waits for a connection are recorded.
    telemetry: std::sync::Arc<dyn domain::ports::Telemetry>,
    /// See [`DatabaseConfig::timeout`].
    timeout: Duration,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Database")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Runs `$body` with `$connection: &mut C` for the pool's connection type `C`. The body is
/// written once and compiled once per backend, so a query that one backend cannot express
/// fails to compile. The wait for a connection and the body share one deadline (see
/// `checkout`). `?` in the body converts into `RepositoryError`; the macro leaves the
/// enclosing function with it (via `?` and `From`) when the body fails, no connection can
/// be had, or the deadline passes.
macro_rules! with_connection {
    ($database:expr, |$connection:ident| $body:expr) => {{
        let deadline = $database.deadline();
        match $database.pool() {
            $crate::database::Pool::Postgres(pool) => {
                with_connection!(@on pool, $database, deadline, |$connection| $body)
            }
            $crate::database::Pool::Sqlite(pool) => {
                with_connection!(@on pool, $database, deadline, |$connection| $body)
            }
        }
    }};
    (@on $pool:ident, $database:expr, $deadline:ident, |$connection:ident| $body:expr) => {{
        let mut pooled =
            $crate::database::Checkout::before($deadline, $pool, $database.telemetry()).await?;
        let outcome = tokio::time::timeout_at($deadline, async {
            let $connection = &mut *pooled;
            Ok::<_, domain::ports::RepositoryError>($body)
        })
        .await;
        pooled.settle(outcome)?
    }};
}

impl Database {
    /// Opens a pool for `config.url`. For SQLite, creates the file and its directory when
    /// missing. Connections are opened lazily; call [`Database::migrate`] to touch the
    /// database right away.
    pub fn connect(config: &DatabaseConfig) -> Result<Self, DatabaseError> {
        let (backend, connection_url) = parse_url(&config.url)?;
        let pool = match backend {
            Backend::Postgres => Pool::Postgres(build_pool(
                AsyncDieselConnectionManager::new_with_config(
                    &connection_url,
                    postgres_manager_config(),
                ),
                config.max_connections,
                config.timeout,
            )?),
            Backend::Sqlite => {
                if let Some(parent) = Path::new(&connection_url).parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|error| DatabaseError::Connect(error.into()))?;
                }
                Pool::Sqlite(build_pool(
                    AsyncDieselConnectionManager::new_with_config(
                        &connection_url,
                        sqlite_manager_config(),
                    ),
                    config.max_connections,
                    config.timeout,
                )?)
            }
        };
        Ok(Self {
            pool: std::sync::Arc::new(pool),
            connection_url,
            telemetry: std::sync::Arc::new(domain::ports::NoTelemetry),
            timeout: config.timeout,
        })
    }

    /// A second, small pool to the same database whose commits do not wait for the disk
    /// (PostgreSQL `synchronous_commit = off`), for the job workers' bookkeeping: claims,
    /// successes, failures. Each of those commits otherwise waits for a WAL flush (4-6 ms
    /// on this project's reference machine), which caps a worker at a few hundred jobs a
    /// second. What a database crash can cost is bounded and harmless under at-least-once
    /// delivery: the last fraction of a second of bookkeeping is lost, so a few finished
    /// jobs run again. Enqueueing never goes through this pool: a stored job is durable.
    /// SQLite, whose WAL commits do not flush anyway (`synchronous = NORMAL`), shares the
    /// existing pool.
    pub fn relaxed_durability(&self, max_connections: usize) -> Result<Self, DatabaseError> {
        let pool = match &*self.pool {
            Pool::Postgres(_) => Pool::Postgres(build_pool(
                AsyncDieselConnectionManager::new_with_config(
                    &self.connection_url,
                    relaxed_postgres_manager_config(),
                ),
                max_connections,
                self.timeout,
            )?),
            Pool::Sqlite(_) => return Ok(self.clone()),
        };
        Ok(Self {
            pool: std::sync::Arc::new(pool),
            connection_url: self.connection_url.clone(),
            telemetry: std::sync::Arc::clone(&self.telemetry),
            timeout: self.timeout,
        })
    }

    /// When an operation starting now must be done (see [`DatabaseConfig::timeout`]).
    pub(crate) fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.timeout
    }

    #[must_use]
    pub fn backend(&self) -> Backend {
        match *self.pool {
            Pool::Postgres(_) => Backend::Postgres,
            Pool::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Records the waits for a connection in `telemetry` (every handle cloned from this one
    /// afterwards shares it).
    #[must_use]
    pub fn with_telemetry(
        mut self,
        telemetry: std::sync::Arc<dyn domain::ports::Telemetry>,
    ) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// Where connection waits are recorded.
    pub(crate) fn telemetry(&self) -> &dyn domain::ports::Telemetry {
        &*self.telemetry
    }

    /// OpenTelemetry's `db.system.name` of the backend, for the statement groups' spans.
    pub(crate) fn system_name(&self) -> &'static str {
        match self.backend() {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
        }
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The pool's connections: `(idle, in use)`.
    #[must_use]
    pub fn connection_counts(&self) -> (u64, u64) {
        let status = match &*self.pool {
            Pool::Postgres(pool) => pool.status(),
            Pool::Sqlite(pool) => pool.status(),
        };
        let idle = status.available;
        let used = status.size.saturating_sub(idle);
        (idle as u64, used as u64)
    }

    /// The URL the backend's driver accepts (for SQLite, the file path).
    pub(crate) fn connection_url(&self) -> &str {
        &self.connection_url
    }
}

#[async_trait]
impl ReadinessProbe for Database {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Result<(), domain::ports::NotReady> {
        let ping = async {
            with_connection!(self, |connection| {
                diesel::sql_query("SELECT 1")
                    .execute(connection)
                    .await
                    .map_err(crate::errors::unexpected)?;
            });
            anyhow::Ok(())
        };
        tokio::time::timeout(READINESS_TIMEOUT, ping)
            .await
            .map_err(|_| anyhow::anyhow!("database did not answer within {READINESS_TIMEOUT:?}"))
            .flatten()
            .map_err(domain::ports::NotReady)
    }
}
