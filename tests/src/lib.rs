//! The black-box test harness: the real application on port 0, against fresh storage per
//! test (a SQLite file, `memory://`, or a PostgreSQL database cloned from a migrated
//! template when `TEST_DATABASE_URL` is set), driven over HTTP.
//!
//! - [`api_test!`] writes one test per backend from one body.
//! - [`TestApp`] has one helper per endpoint, plus ways to arrange data directly.
//! - [`TestResponse`] asserts statuses and exact error bodies.
//! - [`SmtpSink`] is a real SMTP server on a free port that keeps what it receives, and
//!   can be stopped and started again to play an outage; [`smtp_test!`] runs one body on
//!   both backends with the app delivering to one.
//! - [`SocketDriver`] connects real socket.io clients; [`socket_test!`] runs one body over
//!   each socket.io transport.
//! - [`Scrape`] reads `/metrics` as Prometheus does.
//! - [`run_schemathesis`] runs schemathesis against the app's own OpenAPI document.
//! - [`FaultProxy`] puts network faults (blackhole, reset, latency) between the app and a
//!   dependency; [`proxied_redis`] puts one in front of the test Redis.

mod account;
mod app;
mod fault_proxy;
mod metrics;
mod redis;
mod response;
mod schemathesis;
mod smtp;
mod socket;

pub use account::text;
pub use app::{
    Backend, JWT_SECRET, PASSWORD, TestApp, TestUser, decode_quoted_printable, eventually,
    reset_token_in,
};
pub use fault_proxy::{Fault, FaultProxy};
pub use metrics::{Sample, Scrape, parse_line};
pub use redis::{proxied_redis, test_redis, unique_redis_prefix};
pub use response::TestResponse;
pub use schemathesis::run_schemathesis;
pub use smtp::{ReceivedMail, SmtpSink};
pub use socket::{SocketClient, SocketDriver, Transport};

/// Why a PostgreSQL case may expect `TEST_DATABASE_URL`: the macros compile it as ignored
/// when the variable was unset at build time (`build.rs`, cfg `postgres_tests`), so that
/// cargo's summary shows it skipped rather than passed.
pub const POSTGRES_IS_SET: &str = "TEST_DATABASE_URL is set (this case is ignored otherwise)";

/// Like [`api_test!`], with an [`SmtpSink`] started first and the app delivering mail to it
/// (`SMTP_URL`): the body sees `$app` and `$sink`.
#[macro_export]
macro_rules! smtp_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident, $sink:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let $sink = $crate::SmtpSink::start().await;
                let $app = $crate::TestApp::spawn_with($crate::Backend::Sqlite, &[("SMTP_URL", &$sink.url())])
                    .await
                    .expect("SQLite is always available");
                $body
            }

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_memory() {
                let $sink = $crate::SmtpSink::start().await;
                let $app = $crate::TestApp::spawn_with($crate::Backend::Memory, &[("SMTP_URL", &$sink.url())])
                    .await
                    .expect("memory is always available");
                $body
            }

            $(#[$meta])*
            #[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL was unset at build time")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let $sink = $crate::SmtpSink::start().await;
                let $app = $crate::TestApp::spawn_with($crate::Backend::Postgres, &[("SMTP_URL", &$sink.url())])
                    .await
                    .expect($crate::POSTGRES_IS_SET);
                $body
            }
        }
    };
}

/// One test body, run once on SQLite (`<name>::on_sqlite`), once on `memory://`
/// (`<name>::on_memory`) and once on PostgreSQL (`<name>::on_postgres`, ignored when
/// `TEST_DATABASE_URL` was unset at build time).
/// With `with [(NAME, value), ..]` in front, the apps get those configuration variables.
#[macro_export]
macro_rules! api_test {
    (with $variables:tt $(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let $app = $crate::TestApp::spawn_with($crate::Backend::Sqlite, &$variables).await.expect("SQLite is always available");
                $body
            }

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_memory() {
                let $app = $crate::TestApp::spawn_with($crate::Backend::Memory, &$variables).await.expect("memory is always available");
                $body
            }

            $(#[$meta])*
            #[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL was unset at build time")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let $app = $crate::TestApp::spawn_with($crate::Backend::Postgres, &$variables).await.expect($crate::POSTGRES_IS_SET);
                $body
            }
        }
    };
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
            async fn on_memory() {
                let $app = $crate::TestApp::spawn($crate::Backend::Memory).await.expect("memory is always available");
                $body
            }

            $(#[$meta])*
            #[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL was unset at build time")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let $app = $crate::TestApp::spawn($crate::Backend::Postgres).await.expect($crate::POSTGRES_IS_SET);
                $body
            }
        }
    };
}

/// One socket test body, run over each socket.io transport against an app on SQLite
/// (`<name>::over_websocket`, `::over_polling`, `::over_polling_then_upgrade`), and over
/// websocket against one on `memory://` (`::on_memory`). With
/// `postgres_too` in front, also over websocket against PostgreSQL (`::on_postgres`), for
/// tests where the database takes part.
#[macro_export]
macro_rules! socket_test {
    (postgres_too $(#[$meta:meta])* async fn $name:ident($app:ident, $sockets:ident, $transport:ident) $body:block) => {
        $crate::socket_test! { @transports [
            #[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL was unset at build time")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let app = $crate::TestApp::spawn($crate::Backend::Postgres).await.expect($crate::POSTGRES_IS_SET);
                run(app, $crate::Transport::Websocket).await;
            }
        ] $(#[$meta])* async fn $name($app, $sockets, $transport) $body }
    };
    ($(#[$meta:meta])* async fn $name:ident($app:ident, $sockets:ident, $transport:ident) $body:block) => {
        $crate::socket_test! { @transports [] $(#[$meta])* async fn $name($app, $sockets, $transport) $body }
    };
    (@transports [$($extra:item)*] $(#[$meta:meta])* async fn $name:ident($app:ident, $sockets:ident, $transport:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::TestApp, $transport: $crate::Transport) {
                let $sockets = $crate::SocketDriver::start(&$app);
                $body
            }

            async fn on_sqlite(transport: $crate::Transport) {
                let app = $crate::TestApp::spawn($crate::Backend::Sqlite).await.expect("SQLite is always available");
                run(app, transport).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_websocket() {
                on_sqlite($crate::Transport::Websocket).await;
            }

            /// Over websocket against an app on `memory://`.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_memory() {
                let app = $crate::TestApp::spawn($crate::Backend::Memory).await.expect("memory is always available");
                run(app, $crate::Transport::Websocket).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_polling() {
                on_sqlite($crate::Transport::Polling).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_polling_then_upgrade() {
                on_sqlite($crate::Transport::PollingThenUpgrade).await;
            }

            $($extra)*
        }
    };
}
