//! Fresh, empty storage for one contract test, per adapter.

use adapter_memory::MemoryStore;
use adapter_persistence::testing::TestDatabase;
use bootstrap::Storage;

/// Makes a fresh store of one adapter per test, and keeps what it needs alive.
pub(crate) trait Fixture: Sized {
    /// Empty storage, with the schema in place.
    async fn fresh() -> Self;

    fn storage(&self) -> &Storage;
}

/// [`MemoryStore`].
pub(crate) struct InMemory(Storage);

impl Fixture for InMemory {
    async fn fresh() -> Self {
        Self(Storage::Memory(MemoryStore::new()))
    }

    fn storage(&self) -> &Storage {
        &self.0
    }
}

/// A database of one test, and the storage on it.
pub(crate) struct OnDatabase {
    storage: Storage,
    /// Dropped last: removes the database.
    _database: TestDatabase,
}

impl OnDatabase {
    async fn on(database: TestDatabase) -> Self {
        Self {
            storage: Storage::from(database.connect().await),
            _database: database,
        }
    }
}

/// A SQLite file.
pub(crate) struct OnSqlite(OnDatabase);

impl Fixture for OnSqlite {
    async fn fresh() -> Self {
        Self(OnDatabase::on(TestDatabase::sqlite()).await)
    }

    fn storage(&self) -> &Storage {
        &self.0.storage
    }
}

/// A PostgreSQL database cloned from the migrated template. The cases are compiled as
/// ignored without `TEST_DATABASE_URL`, so this runs only when it is set.
pub(crate) struct OnPostgres(OnDatabase);

impl Fixture for OnPostgres {
    async fn fresh() -> Self {
        let database = TestDatabase::postgres()
            .await
            .expect("TEST_DATABASE_URL is set (these cases are ignored otherwise)");
        Self(OnDatabase::on(database).await)
    }

    fn storage(&self) -> &Storage {
        &self.0.storage
    }
}
