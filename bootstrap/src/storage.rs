//! The storage the service runs on, chosen by `DATABASE_URL`'s scheme: a database
//! (`sqlite://`, `postgres://`: connected, with its migrations applied) or this process's
//! memory (`memory://`). Everything else is wired against the ports this hands out.

use std::sync::Arc;
use std::time::Duration;

use adapter_memory::MemoryStore;
use adapter_persistence::{Database, DatabaseConfig, DieselStore, JobListener};
use adapter_tracing::SpanTraces;
use domain::ports::{
    AccountRepository, EmailVerificationRepository, JobQueue, JobRepository,
    PasswordResetRepository, PostRepository, ReadinessProbe, SessionRepository, Telemetry,
    UserRepository,
};
use secrecy::ExposeSecret as _;

use crate::settings::Settings;

/// `DATABASE_URL` for storage in process memory.
const MEMORY_URL: &str = "memory://";

/// Where the service keeps its state. Clones share it.
#[derive(Debug, Clone)]
pub enum Storage {
    /// SQLite or PostgreSQL, through Diesel.
    Database(DieselStore),
    /// This process's memory: one instance, lost at exit.
    Memory(MemoryStore),
}

/// What the job workers run on, and what wakes them.
pub(crate) struct WorkerStorage {
    pub(crate) jobs: Arc<dyn JobRepository>,
    /// On PostgreSQL, the listener that wakes this process's workers when any process
    /// enqueues; to run (spawned) for as long as they do.
    pub(crate) listener: Option<JobListener>,
}

impl From<Database> for Storage {
    /// The repositories of the Diesel adapter on `database` (already migrated), stamping
    /// the jobs they store with the current span's trace.
    fn from(database: Database) -> Self {
        Self::Database(DieselStore::new(database).with_traces(Arc::new(SpanTraces)))
    }
}

impl Storage {
    /// Opens what `DATABASE_URL` names; a database has its pending migrations applied.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let url = settings.database_url.expose_secret();
        if url == MEMORY_URL {
            tracing::warn!(
                "DATABASE_URL=memory://: everything is kept in this process and lost at exit"
            );
            return Ok(Self::Memory(
                MemoryStore::new().with_traces(Arc::new(SpanTraces)),
            ));
        }
        let database = Database::connect(&DatabaseConfig {
            url: url.to_owned(),
            max_connections: settings.database_max_connections,
            timeout: Duration::from_secs(settings.database_timeout_seconds),
        })?;
        let applied = database.migrate().await?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        Ok(Self::from(database))
    }

    /// The same storage, counting the jobs it stores into `telemetry`.
    #[must_use]
    pub fn with_telemetry(self, telemetry: Arc<dyn Telemetry>) -> Self {
        match self {
            Self::Database(store) => Self::Database(store.with_telemetry(telemetry)),
            Self::Memory(store) => Self::Memory(store.with_telemetry(telemetry)),
        }
    }

    #[must_use]
    pub fn users(&self) -> Arc<dyn UserRepository> {
        match self {
            Self::Database(store) => Arc::new(store.users()),
            Self::Memory(store) => Arc::new(store.clone()),
        }
    }

    #[must_use]
    pub fn sessions(&self) -> Arc<dyn SessionRepository> {
        match self {
            Self::Database(store) => Arc::new(store.sessions()),
            Self::Memory(store) => Arc::new(store.clone()),
        }
    }

    #[must_use]
    pub fn resets(&self) -> Arc<dyn PasswordResetRepository> {
        match self {
            Self::Database(store) => Arc::new(store.sessions()),
            Self::Memory(store) => Arc::new(store.clone()),
        }
    }

    #[must_use]
    pub fn verifications(&self) -> Arc<dyn EmailVerificationRepository> {
        match self {
            Self::Database(store) => Arc::new(store.sessions()),
            Self::Memory(store) => Arc::new(store.clone()),
        }
    }

    #[must_use]
    pub fn posts(&self) -> Arc<dyn PostRepository> {
        match self {
            Self::Database(store) => Arc::new(store.posts()),
            Self::Memory(store) => Arc::new(store.clone()),
        }
    }

    #[must_use]
    pub fn accounts(&self) -> Arc<dyn AccountRepository> {
        match self {
            Self::Database(store) => Arc::new(store.accounts()),
            Self::Memory(store) => Arc::new(store.clone()),
        }
    }

    /// The job queue's storage side (claims, outcomes, the admins' view).
    #[must_use]
    pub fn jobs(&self) -> Arc<dyn JobRepository> {
        match self {
            Self::Database(store) => Arc::new(store.jobs()),
            Self::Memory(store) => Arc::new(store.clone()),
        }
    }

    /// Enqueueing jobs on their own (use cases enqueue with their writes instead).
    #[must_use]
    pub fn queue(&self) -> Arc<dyn JobQueue> {
        match self {
            Self::Database(store) => Arc::new(store.jobs()),
            Self::Memory(store) => Arc::new(store.clone()),
        }
    }

    /// What readiness checks.
    #[must_use]
    pub fn readiness(&self) -> Arc<dyn ReadinessProbe> {
        match self {
            Self::Database(store) => Arc::new(store.database().clone()),
            Self::Memory(store) => Arc::new(store.clone()),
        }
    }

    /// The workers' storage: on a database, a small pool of its own whose commits do not
    /// wait for the disk (see `Database::relaxed_durability`), with `connections`
    /// connections, and PostgreSQL's wake-up listener.
    pub(crate) fn for_workers(&self, connections: usize) -> anyhow::Result<WorkerStorage> {
        Ok(match self {
            Self::Database(store) => {
                let (jobs, listener) = store.for_workers(connections)?;
                WorkerStorage {
                    jobs: Arc::new(jobs),
                    listener,
                }
            }
            Self::Memory(store) => WorkerStorage {
                jobs: Arc::new(store.clone()),
                listener: None,
            },
        })
    }

    /// Idle and used connections of the pool; `None` without one.
    pub(crate) fn connection_counts(&self) -> Option<(u64, u64)> {
        match self {
            Self::Database(store) => Some(store.database().connection_counts()),
            Self::Memory(_) => None,
        }
    }

    /// Whether other processes can share this storage (the `worker` command needs it).
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self, Self::Database(_))
    }
}
