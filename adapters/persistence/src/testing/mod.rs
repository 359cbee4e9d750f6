//! Test support: a fresh, migrated database per test (feature `testing`).
//!
//! - SQLite: a file in a temporary directory, removed on drop.
//! - PostgreSQL (when `TEST_DATABASE_URL` is set): a database cloned with
//!   `CREATE DATABASE ... TEMPLATE` from a template migrated once per test process, dropped
//!   (`WITH (FORCE)`) on drop. Templates and databases left behind by crashed runs are
//!   removed after an hour. Without `TEST_DATABASE_URL`, [`TestDatabase::postgres`]
//!   returns `None` and prints one loud notice per process on stderr.

mod names;

use std::io::Write as _;
use std::sync::Once;

use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use tokio::sync::OnceCell;

use self::names::{unique_name, unix_seconds, with_database_name};
use crate::database::redact;
use crate::{Database, DatabaseConfig};

/// The variable that enables the PostgreSQL suites.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";
const STALE_AFTER_SECONDS: u64 = 3600;

static TEMPLATE: OnceCell<String> = OnceCell::const_new();
static SKIP_NOTICE: Once = Once::new();

enum Storage {
    /// Kept only to be removed (with its files) on drop.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
}

/// A database that exists for one test.
pub struct TestDatabase {
    url: String,
    storage: Storage,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TestDatabase")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// A new SQLite database file (created and migrated on first connection).
    pub fn sqlite() -> Self {
        let directory = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", directory.path().join("test.db").display());
        Self {
            url,
            storage: Storage::Sqlite(directory),
        }
    }

    /// A new, migrated PostgreSQL database, or `None` (with a loud notice) when
    /// `TEST_DATABASE_URL` is not set.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(TEST_DATABASE_URL) else {
            SKIP_NOTICE.call_once(|| {
                // Written straight to stderr: the test harness captures `eprintln!`.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** PostgreSQL suites SKIPPED: {TEST_DATABASE_URL} is not set \
                     (e.g. {TEST_DATABASE_URL}=postgres://postgres@127.0.0.1:5432/postgres) ***\n"
                );
            });
            return None;
        };
        let template = TEMPLATE
            .get_or_init(|| create_template(admin_url.clone()))
            .await
            .clone();
        let name = unique_name("test");
        let mut admin = connect(&admin_url).await;
        execute(
            &mut admin,
            &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
        )
        .await;
        Some(Self {
            url: with_database_name(&admin_url, &name),
            storage: Storage::Postgres { admin_url, name },
        })
    }

    /// A new, empty PostgreSQL database on the server of `admin_url` (a server of the
    /// test's own, for faults that would disturb the shared one); the app migrates it.
    pub async fn empty_postgres_at(admin_url: &str) -> Self {
        let name = unique_name("test");
        let mut admin = connect(admin_url).await;
        execute(&mut admin, &format!("CREATE DATABASE \"{name}\"")).await;
        Self {
            url: with_database_name(admin_url, &name),
            storage: Storage::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        }
    }

    /// `DATABASE_URL` for this database.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A migrated [`Database`] on this test database.
    pub async fn connect(&self) -> Database {
        let database = Database::connect(&DatabaseConfig {
            url: self.url.clone(),
            max_connections: 5,
            timeout: std::time::Duration::from_secs(5),
        })
        .expect("open the test database");
        database.migrate().await.expect("migrate the test database");
        database
    }
}

impl TestDatabase {
    /// Drops a PostgreSQL test database now, terminating its connections (to simulate an
    /// outage). Panics for SQLite, whose open files cannot be taken away.
    pub async fn drop_now(&self) {
        let Storage::Postgres { admin_url, name } = &self.storage else {
            panic!("drop_now is only possible on PostgreSQL");
        };
        let mut admin = connect(admin_url).await;
        execute(
            &mut admin,
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        )
        .await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Storage::Postgres { admin_url, name } = &self.storage else {
            return; // The temporary directory removes itself.
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop runs outside any runtime we may block: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build a runtime")
                .block_on(async {
                    let mut admin = connect(&admin_url).await;
                    execute(
                        &mut admin,
                        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                    )
                    .await;
                });
        })
        .join();
        if dropped.is_err() {
            let _ = writeln!(std::io::stderr(), "could not drop a test database");
        }
    }
}

async fn create_template(admin_url: String) -> String {
    let mut admin = connect(&admin_url).await;
    drop_stale_databases(&mut admin).await;
    let name = unique_name("template");
    execute(&mut admin, &format!("CREATE DATABASE \"{name}\"")).await;
    let database = Database::connect(&DatabaseConfig {
        url: with_database_name(&admin_url, &name),
        max_connections: 1,
        timeout: std::time::Duration::from_secs(30),
    })
    .expect("open the template database");
    database
        .migrate()
        .await
        .expect("migrate the template database");
    // A template must have no open connections when it is cloned.
    drop(database);
    name
}

async fn drop_stale_databases(admin: &mut AsyncPgConnection) {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%' OR datname LIKE 'template\\_%'",
    )
    .load(admin)
    .await
    .expect("list test databases");
    let now = unix_seconds();
    for Name { datname } in names {
        let created = datname
            .split('_')
            .nth(1)
            .and_then(|seconds| seconds.parse::<u64>().ok());
        if created.is_some_and(|created| now.saturating_sub(created) > STALE_AFTER_SECONDS) {
            execute(
                admin,
                &format!("DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"),
            )
            .await;
        }
    }
}

async fn connect(url: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(url)
        .await
        .unwrap_or_else(|error| panic!("connect to {:?}: {error}", redact(url)))
}

async fn execute(connection: &mut AsyncPgConnection, statement: &str) {
    diesel::sql_query(statement)
        .execute(connection)
        .await
        .unwrap_or_else(|error| panic!("{statement}: {error}"));
}
