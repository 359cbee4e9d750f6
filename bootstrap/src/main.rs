//! The `backend` binary.
//!
//! - `backend` / `backend serve`: migrate, then serve the API until SIGINT or SIGTERM.
//! - `backend worker`: migrate, then run the job workers without HTTP.
//! - `backend migrate`: apply pending migrations and exit.
//! - `backend create-admin`: create the admin from `ADMIN_EMAIL`/`ADMIN_PASSWORD` and exit.

use anyhow::Context as _;
use bootstrap::settings::{LogFormat, Settings};
use bootstrap::{App, telemetry};
use mimalloc::MiMalloc;

/// mimalloc instead of the system allocator: faster for a server's many small, short-lived
/// allocations, and it returns freed memory to the system instead of keeping it in
/// per-thread arenas (see bench/README.md for the RSS it saves). Built with `no_thp`: with
/// transparent huge pages the kernel backs whole 2 MiB regions of its arenas, which raised
/// the peak RSS under the kit's login and search loads from ~44 to ~63 MiB.
#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

const USAGE: &str = "usage: backend [serve | worker | migrate | create-admin | help]

  serve         apply migrations, then serve the API and run the job workers
                (the default)
  worker        apply migrations, then run only the job workers (JOB_WORKERS of
                them), e.g. as a separate process sharing a PostgreSQL queue
  migrate       apply pending database migrations and exit
  create-admin  create the admin named by ADMIN_EMAIL / ADMIN_PASSWORD and exit

Configuration comes from the environment (see .env.example), or a KEY=VALUE
file named by CONFIG_FILE.";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    if matches!(command.as_str(), "help" | "--help" | "-h") {
        println!("{USAGE}");
        return std::process::ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            // No subscriber yet: say it in the format the operator asked for.
            if json_logs_requested() {
                eprintln!(
                    "{}",
                    serde_json::json!({ "level": "ERROR", "message": "configuration error", "variable": error.variable, "error": error.to_string() })
                );
            } else {
                eprintln!("configuration error: {error}");
            }
            return std::process::ExitCode::from(2);
        }
    };
    let traces = match telemetry::init(&settings) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("error: {error:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let human = settings.log_format == LogFormat::Pretty;
    let outcome = match command.as_str() {
        "serve" => serve(&settings).await,
        "worker" => work(&settings).await,
        "migrate" => bootstrap::Storage::open(&settings).await.map(|_| ()),
        "create-admin" => create_admin(&settings).await,
        other => {
            eprintln!("unknown command '{other}'\n\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    let code = match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "fatal");
            if human {
                eprintln!("error: {error:#}");
            }
            std::process::ExitCode::FAILURE
        }
    };
    // The spans still queued go to the collector before the process ends (the wait is
    // bounded; it blocks a thread of its own, not the runtime's).
    let _ = tokio::task::spawn_blocking(move || traces.shutdown()).await;
    code
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    // Before anything is announced: a SIGTERM that follows the "listening" line at once must
    // find its handler in place, not the default action.
    let shutdown = shutdown_signal();
    let app = App::build(settings).await?;
    let address = app.address();
    tracing::info!(%address, docs = %format!("http://{address}/docs"), "listening");
    // The banner is for people; in JSON mode every line is a log object.
    if settings.log_format == LogFormat::Pretty {
        println!("Serving on http://{address} (API under /api/v1) — docs at http://{address}/docs");
    }
    app.run_until(shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn work(settings: &Settings) -> anyhow::Result<()> {
    tracing::info!(
        workers = settings.jobs.workers,
        "running job workers (no HTTP) until SIGINT or SIGTERM"
    );
    bootstrap::app::run_workers(settings, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn create_admin(settings: &Settings) -> anyhow::Result<()> {
    if settings.admin_email.is_none() {
        anyhow::bail!("set ADMIN_EMAIL and ADMIN_PASSWORD");
    }
    // Building the app provisions the admin; nothing is served.
    App::build(settings)
        .await
        .context("could not create the admin")?;
    tracing::info!(
        email = settings.admin_email.as_deref().unwrap_or_default(),
        "admin is present"
    );
    Ok(())
}

/// Whether the environment asks for JSON logs, read directly for the one error that comes
/// before the settings (and so the subscriber) exist.
fn json_logs_requested() -> bool {
    match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok(_) => false,
        Err(_) => std::env::var("APP_ENV").as_deref() == Ok("production"),
    }
}

/// Installs the SIGINT (Ctrl-C) and SIGTERM handlers now, and returns a future that
/// completes on either.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let interrupt = tokio::spawn(tokio::signal::ctrl_c());
    async move {
        #[cfg(unix)]
        let terminate = async move {
            match terminate {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = interrupt => {},
            () = terminate => {},
        }
        tracing::info!("shutdown signal received: finishing in-flight requests");
    }
}
