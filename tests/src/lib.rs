//! The black-box test harness: the real application on port 0, against a fresh database
//! per test (a SQLite file, or a PostgreSQL database cloned from a migrated template when
//! `TEST_DATABASE_URL` is set), driven over HTTP.
//!
//! - [`api_test!`] writes one test per backend from one body.
//! - [`TestApp`] has one helper per endpoint, plus ways to arrange data directly.
//! - [`TestResponse`] asserts statuses and exact error bodies.
//! - [`SmtpSink`] is a real SMTP server on a free port that keeps what it receives, and
//!   can be stopped and started again to play an outage.

mod app;
mod response;
mod smtp;

pub use app::{
    Backend, JWT_SECRET, PASSWORD, TestApp, TestUser, decode_quoted_printable, eventually,
    reset_token_in,
};
pub use response::TestResponse;
pub use smtp::{ReceivedMail, SmtpSink};

/// One test body, run once on SQLite (`<name>::on_sqlite`) and once on PostgreSQL
/// (`<name>::on_postgres`, skipped with a loud notice when `TEST_DATABASE_URL` is unset).
#[macro_export]
macro_rules! api_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let $app = $crate::TestApp::spawn($crate::Backend::Sqlite).await.expect("SQLite is always available");
                $body
            }

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let Some($app) = $crate::TestApp::spawn($crate::Backend::Postgres).await else { return };
                $body
            }
        }
    };
}
