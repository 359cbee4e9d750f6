//! The embedded migrations of both backends, applied at start (`migrate` command, or the
//! server's start-up).

use diesel_async::{AsyncConnection as _, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

use super::pools::open_sqlite;
use super::{Backend, Database, DatabaseError};

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Serialises concurrent migrators (several instances starting at once) on PostgreSQL.
const MIGRATION_LOCK_KEY: i64 = 0x6d69_6772_6174_6531;

impl Database {
    /// Applies the pending embedded migrations and returns their names. Safe to run from
    /// several processes at once on PostgreSQL (an advisory lock serialises them).
    pub async fn migrate(&self) -> Result<Vec<String>, DatabaseError> {
        let url = self.connection_url.clone();
        let applied = match self.backend() {
            Backend::Postgres => migrate_postgres(&url).await,
            Backend::Sqlite => tokio::task::spawn_blocking(move || {
                let mut connection = open_sqlite(&url)?;
                run_migrations(&mut connection, SQLITE_MIGRATIONS)
            })
            .await
            .map_err(anyhow::Error::new)
            .and_then(|result| result),
        };
        applied.map_err(DatabaseError::Migrate)
    }
}

async fn migrate_postgres(url: &str) -> anyhow::Result<Vec<String>> {
    let mut connection = AsyncPgConnection::establish(url).await?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .execute(&mut connection)
        .await?;
    // The harness drives the async connection synchronously (block_in_place), so it runs
    // on a blocking thread, which works on any runtime flavour.
    let (connection, applied) = tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(connection);
        let applied = run_migrations(&mut harness, POSTGRES_MIGRATIONS);
        (harness.into_inner(), applied)
    })
    .await?;
    let mut connection = connection;
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .execute(&mut connection)
        .await?;
    applied
}

fn run_migrations<DB: diesel::backend::Backend>(
    harness: &mut impl diesel_migrations::MigrationHarness<DB>,
    migrations: EmbeddedMigrations,
) -> anyhow::Result<Vec<String>> {
    let applied = harness
        .run_pending_migrations(migrations)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}
