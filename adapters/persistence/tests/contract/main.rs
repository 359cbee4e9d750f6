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

use adapter_persistence::{Database, DieselUserRepository};
use chrono::{DateTime, TimeZone, Utc};
use domain::ports::UserRepository as _;
use domain::{Email, NewUser, PasswordHash, Role, UserId};

/// The fixed "now" of the suites.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

/// Stores a plain user (the owner or author other rows need) and returns its id.
async fn user(database: &Database) -> UserId {
    let id = UserId::generate();
    DieselUserRepository::new(database.clone())
        .insert(
            NewUser {
                id,
                email: Email::parse(&format!("u{}@example.com", &id.to_string()[24..])).unwrap(),
                name: None,
                role: Role::User,
                password_hash: PasswordHash::from_phc("$argon2id$x".to_owned()),
                created_at: now(),
                email_verified: false,
                email_verification: None,
            },
            Vec::new(),
        )
        .await
        .unwrap();
    id
}

mod accounts;
mod jobs;
mod posts;
mod session_lifecycle;
mod sessions;
mod users;
mod verification;
