//! Port contract suites: one set of behaviours per repository port, written once and run
//! against every adapter (SQLite always; PostgreSQL when `TEST_DATABASE_URL` is set), so
//! that the adapters cannot drift apart.

/// Generates `sqlite::<behaviour>` and `postgres::<behaviour>` for each behaviour, each
/// calling `<behaviour>(&adapter, &database)` with a fresh, migrated database.
macro_rules! contract {
    ($adapter:ident; $($behaviour:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let test_database = adapter_persistence::testing::TestDatabase::sqlite();
                    let database = test_database.connect().await;
                    let adapter = super::$adapter::new(database.clone());
                    super::$behaviour(&adapter, &database).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let Some(test_database) = adapter_persistence::testing::TestDatabase::postgres().await else { return };
                    let database = test_database.connect().await;
                    let adapter = super::$adapter::new(database.clone());
                    super::$behaviour(&adapter, &database).await;
                }
            )+
        }
    };
}

mod accounts;
mod posts;
mod sessions;
mod users;
