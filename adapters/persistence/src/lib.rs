//! Persistence adapter: PostgreSQL and SQLite behind the domain's repository ports, through
//! Diesel, diesel-async and deadpool. `DATABASE_URL`'s scheme selects the backend.
//!
//! One Diesel schema serves both backends: the columns whose storage differs (ids and
//! timestamps) use this crate's own SQL types, which map to `uuid`/`timestamptz` on
//! PostgreSQL and to sortable text on SQLite (see [`sql_types`]). Each repository method is
//! written once and monomorphised per backend by the [`with_connection!`] macro.
//!
//! Nothing outside this crate names Diesel.

#[macro_use]
mod database;
mod accounts;
mod admins;
mod errors;
mod expressions;
mod jobs;
mod paging;
mod posts;
mod prepared;
mod schema;
mod sessions;
mod sql_types;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod totals;
mod users;
mod write_lock;

pub use accounts::DieselAccountRepository;
pub use database::{Backend, Database, DatabaseConfig, DatabaseError};
pub use jobs::{DieselJobRepository, JobSignals};
pub use posts::DieselPostRepository;
pub use sessions::DieselSessionRepository;
pub use store::{DieselStore, JobListener};
pub use totals::CachedTotals;
pub use users::DieselUserRepository;
