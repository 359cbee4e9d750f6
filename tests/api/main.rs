//! Black-box API tests: every endpoint, its success and each error status it can return,
//! with the exact body. Each test runs on SQLite and on PostgreSQL (see `api_test!`).

mod accounts;
mod admin_jobs;
mod auth;
mod cross_cutting;
mod database_outage;
mod docs;
mod health;
mod mail;
mod metrics;
mod posts;
mod schemathesis;
mod security;
mod several_instances;
mod shared_rate_limits;
mod transfers_under_load;
mod users;
