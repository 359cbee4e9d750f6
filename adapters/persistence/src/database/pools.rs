//! How connections are opened and pooled, per backend: recycling without a round trip,
//! the relaxed-durability PostgreSQL sessions, the SQLite pragmas and SQL functions, and the
//! pool's wait and connect timeouts.

use std::time::Duration;

use diesel::{Connection as _, SqliteConnection};
use diesel_async::pooled_connection::deadpool::Pool as DeadPool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};

use super::{DatabaseError, SqliteConnectionWrapper};

/// Every SQLite connection: a busy timeout so that concurrent writers wait instead of
/// failing with "database is locked" (first: switching to WAL itself needs the lock while
/// another connection writes), WAL so that readers do not block the writer, and foreign
/// keys, which SQLite leaves off by default.
const SQLITE_CONNECTION_SETUP: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";

pub(super) fn postgres_manager_config() -> ManagerConfig<AsyncPgConnection> {
    let mut config = ManagerConfig::default();
    // `Verified` would add a `SELECT 1` round trip to every checkout; a broken connection
    // fails its query instead and is discarded by the pool.
    config.recycling_method = RecyclingMethod::Fast;
    config
}

/// Connections that do not wait for the WAL flush at commit (see
/// [`Database::relaxed_durability`]).
pub(super) fn relaxed_postgres_manager_config() -> ManagerConfig<AsyncPgConnection> {
    let mut config = postgres_manager_config();
    config.custom_setup = Box::new(|url| {
        let url = url.to_owned();
        Box::pin(async move {
            let mut connection = AsyncPgConnection::establish(&url).await?;
            connection
                .batch_execute("SET synchronous_commit = off")
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(connection)
        })
    });
    config
}

pub(super) fn sqlite_manager_config() -> ManagerConfig<SqliteConnectionWrapper> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(|url| {
        let url = url.to_owned();
        Box::pin(async move {
            let connection = tokio::task::spawn_blocking(move || open_sqlite(&url))
                .await
                .map_err(|error| diesel::ConnectionError::BadConnection(error.to_string()))??;
            Ok(SqliteConnectionWrapper::new(connection))
        })
    });
    config
}

/// Opens one SQLite connection, set up (see `SQLITE_CONNECTION_SETUP`) and with the
/// service's SQL functions; the pool's connections and the migrator's are all opened here.
///
/// `lower` is replaced by a Unicode-aware one: SQLite's own folds ASCII only, so the users
/// search (`search_text`, a virtual column computed with `lower` when read) would not find
/// `Élodie` for `ÉLODIE`, while PostgreSQL's does. The replacement is deterministic, as a
/// generated column requires, and `lower(NULL)` stays NULL.
pub(super) fn open_sqlite(url: &str) -> diesel::ConnectionResult<SqliteConnection> {
    use diesel::connection::SimpleConnection as _;
    use diesel::sql_types::{Nullable, Text};
    let mut connection = SqliteConnection::establish(url)?;
    connection
        .batch_execute(SQLITE_CONNECTION_SETUP)
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    connection
        .register_sql_function::<(Nullable<Text>,), Nullable<Text>, _, _, _>(
            "lower",
            true,
            |(text,): (Option<String>,)| text.map(|text| text.to_lowercase()),
        )
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(connection)
}

/// A pool of at most `max_connections`, whose checkouts (waiting, and opening a
/// connection) give up after `timeout`.
pub(super) fn build_pool<C>(
    manager: AsyncDieselConnectionManager<C>,
    max_connections: usize,
    timeout: Duration,
) -> Result<DeadPool<C>, DatabaseError>
where
    C: diesel_async::pooled_connection::PoolableConnection + Send + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager,
{
    DeadPool::builder(manager)
        .max_size(max_connections.max(1))
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .build()
        .map_err(|error| DatabaseError::Connect(error.into()))
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;
    use diesel::{QueryableByName, RunQueryDsl as _};

    use super::open_sqlite;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// `.cargo/config.toml` builds the bundled SQLite with the planner's stability guarantee;
    /// without it every statement with a bound LIMIT is prepared again at each execution.
    #[test]
    fn the_bundled_sqlite_plans_each_statement_once() {
        let mut connection = open_sqlite(":memory:").unwrap();
        let options: Vec<CompileOption> =
            diesel::sql_query("SELECT compile_options FROM pragma_compile_options")
                .load(&mut connection)
                .unwrap();
        assert!(
            options
                .iter()
                .any(|option| option.compile_options == "ENABLE_QPSG"),
            "SQLite was built without SQLITE_ENABLE_QPSG (LIBSQLITE3_FLAGS in .cargo/config.toml)"
        );
    }
}
