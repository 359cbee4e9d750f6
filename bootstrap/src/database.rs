//! The database the service runs on: connected, with its migrations applied.

use std::sync::Arc;
use std::time::Duration;

use adapter_persistence::{Database, DatabaseConfig};
use adapter_tracing::SpanTraces;
use secrecy::ExposeSecret as _;

use crate::settings::Settings;

/// Opens the pool and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let database = Database::connect(&DatabaseConfig {
        url: settings.database_url.expose_secret().to_owned(),
        max_connections: settings.database_max_connections,
        timeout: Duration::from_secs(settings.database_timeout_seconds),
    })?
    .with_traces(Arc::new(SpanTraces));
    let applied = database.migrate().await?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied database migrations");
    }
    Ok(database)
}
