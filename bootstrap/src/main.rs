//! The `backend` binary.
//!
//! - `backend` / `backend serve`: migrate, then serve the API until SIGINT or SIGTERM.
//! - `backend worker`: migrate, then run the job workers without HTTP.
//! - `backend migrate`: apply pending migrations and exit.
//! - `backend create-admin`: create the admin from `ADMIN_EMAIL`/`ADMIN_PASSWORD` and exit.

use anyhow::Context as _;
use bootstrap::settings::Settings;
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
            eprintln!("configuration error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let outcome = match command.as_str() {
        "serve" => serve(&settings).await,
        "worker" => work(&settings).await,
        "migrate" => bootstrap::app::open_database(&settings).await.map(|_| ()),
        "create-admin" => create_admin(&settings).await,
        other => {
            eprintln!("unknown command '{other}'\n\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "fatal");
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = App::build(settings).await?;
    let address = app.address();
    tracing::info!(%address, docs = %format!("http://{address}/docs"), "listening");
    println!("Serving on http://{address} (API under /api/v1) — docs at http://{address}/docs");
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn work(settings: &Settings) -> anyhow::Result<()> {
    println!(
        "Running {} job workers (no HTTP) until SIGINT or SIGTERM",
        settings.job_workers
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
    println!(
        "admin {} is present",
        settings.admin_email.as_deref().unwrap_or_default()
    );
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}
