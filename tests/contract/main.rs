//! Port contract suites: one set of behaviours per storage port, written once against the
//! port traits and run on every adapter: in memory, on SQLite, and on PostgreSQL (shown as
//! ignored when `TEST_DATABASE_URL` was unset at build time), so that the adapters cannot
//! drift apart. A fixture ([`Fixture`]) makes fresh, empty storage per test.

mod fixtures;

use bootstrap::Storage;
use chrono::{DateTime, TimeZone, Utc};
use domain::{Email, NewUser, Outbox, PasswordHash, Role, UserId};

pub(crate) use fixtures::Fixture;

/// Generates `memory::<behaviour>`, `sqlite::<behaviour>` and `postgres::<behaviour>` for
/// each behaviour, each calling `<behaviour>(&port, &storage)` on fresh storage, where
/// `port` is what `$port(&storage)` hands out (a `Storage` method, or a function of the
/// suite's own).
macro_rules! contract {
    ($($port:ident)::+; $($behaviour:ident),+ $(,)?) => {
        contract!(@on memory, InMemory, []; [$($port)::+]; $($behaviour),+);
        contract!(@on sqlite, OnSqlite, []; [$($port)::+]; $($behaviour),+);
        contract!(@on postgres, OnPostgres,
            [cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL was unset at build time")];
            [$($port)::+]; $($behaviour),+);
    };
    (@on $module:ident, $fixture:ident, $attributes:tt; $port:tt; $($behaviour:ident),+) => {
        mod $module {
            $(contract!(@case $fixture, $attributes, $port, $behaviour);)+
        }
    };
    (@case $fixture:ident, [$($attribute:meta)*], [$($port:ident)::+], $behaviour:ident) => {
        #[tokio::test]
        $(#[$attribute])*
        async fn $behaviour() {
            let fixture = <$crate::fixtures::$fixture as $crate::Fixture>::fresh().await;
            let store = $crate::Fixture::storage(&fixture);
            let port = super::$($port)::+(store);
            super::$behaviour(&port, store).await;
        }
    };
}

/// The fixed "now" of the suites.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

/// A plain user with this address, created now, enqueueing nothing.
fn new_user(email: &str) -> NewUser {
    NewUser {
        id: UserId::generate(),
        email: Email::parse(email).unwrap(),
        name: None,
        role: Role::User,
        password_hash: PasswordHash::from_phc("$argon2id$x".to_owned()),
        created_at: now(),
        email_verified: false,
        email_verification: None,
        outbox: Outbox::empty(),
    }
}

/// Stores a plain user (the owner or author other rows need) and returns its id.
async fn user(store: &Storage) -> UserId {
    let id = UserId::generate();
    let email = format!("u{}@example.com", &id.to_string()[24..]);
    store
        .users()
        .insert(NewUser {
            id,
            ..new_user(&email)
        })
        .await
        .unwrap();
    id
}

mod accounts;
mod jobs;
mod posts;
mod resets;
mod session_lifecycle;
mod sessions;
mod users;
mod verification;
