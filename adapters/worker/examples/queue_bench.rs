//! Queue benchmark (driven by `bench/queue.sh`): enqueue latency, and the throughput of
//! the worker runtime with a no-op handler.
//!
//! ```text
//! queue_bench enqueue <database-url> <jobs> <clients>   enqueue; print latency percentiles
//! queue_bench drain <database-url> <workers>            run workers until the queue is
//!                                                       empty; print what this process ran
//! ```
//!
//! Every line of output is one JSON object, for the script to combine.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use adapter_persistence::{Database, DatabaseConfig, DieselJobRepository, DieselStore};
use adapter_worker::{Observers, WorkerConfig, Workers};
use application::{JobFailure, JobHandler};
use async_trait::async_trait;
use domain::ports::{JobQueue as _, JobRepository as _, SystemClock};
use domain::{Job, JobKind, JobPayload, JobQuery, JobStatus, NewJob, QueueName};

const KIND: &str = "bench.noop";

/// Does nothing but count: what is measured is the queue, not the work.
#[derive(Default)]
struct NoOp {
    runs: AtomicU64,
    /// When the last run ended, in milliseconds since the Unix epoch.
    last_run_ms: AtomicU64,
}

#[async_trait]
impl JobHandler for NoOp {
    fn kinds(&self) -> Vec<JobKind> {
        vec![JobKind::parse(KIND).expect("a valid kind")]
    }

    async fn run(&self, _job: &Job) -> Result<(), JobFailure> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.last_run_ms.store(
            u64::try_from(unix_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        Ok(())
    }
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

async fn enqueue(jobs: Arc<DieselJobRepository>, total: usize, clients: usize) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let jobs = Arc::clone(&jobs);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for _ in (client..total).step_by(clients) {
                    let job = NewJob::new(
                        QueueName::parse("bench").expect("a valid queue"),
                        JobKind::parse(KIND).expect("a valid kind"),
                        JobPayload::from_json("{}".to_owned()),
                        chrono::Utc::now(),
                    );
                    let sent = Instant::now();
                    jobs.enqueue(job).await.expect("enqueue");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await.expect("an enqueuer"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    #[allow(clippy::cast_precision_loss)]
    let rate = total as f64 / elapsed;
    println!(
        "{{\"mode\":\"enqueue\",\"jobs\":{total},\"clients\":{clients},\"seconds\":{elapsed:.3},\"per_second\":{rate:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
}

async fn pending(jobs: &DieselJobRepository) -> u64 {
    let mut pending = 0;
    for status in [JobStatus::Queued, JobStatus::Running, JobStatus::Failed] {
        let query = JobQuery {
            status: Some(status),
            ..JobQuery::default()
        };
        pending += jobs.list(&query).await.expect("count jobs").total;
    }
    pending
}

async fn drain(jobs: Arc<DieselJobRepository>, workers: usize) {
    let handler = Arc::new(NoOp::default());
    let start_ms = unix_millis();
    let runtime = Workers::start(
        jobs.clone(),
        handler.clone(),
        Arc::new(SystemClock),
        Observers::none(),
        WorkerConfig {
            poll_interval: Duration::from_millis(20),
            ..WorkerConfig::with_concurrency(workers)
        },
    );
    // Counting the queue is not free: only when this process made no progress for a while.
    let mut seen = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let runs = handler.runs.load(Ordering::Relaxed);
        if runs == seen && runs > 0 && pending(&jobs).await == 0 {
            break;
        }
        seen = runs;
    }
    let end_ms = u128::from(handler.last_run_ms.load(Ordering::Relaxed));
    #[allow(clippy::cast_precision_loss)]
    let elapsed = (end_ms - start_ms) as f64 / 1000.0;
    runtime.shutdown(Duration::from_secs(5)).await;
    let runs = handler.runs.load(Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)]
    let rate = runs as f64 / elapsed;
    println!(
        "{{\"mode\":\"drain\",\"workers\":{workers},\"jobs\":{runs},\"seconds\":{elapsed:.3},\"per_second\":{rate:.0},\"start_ms\":{start_ms},\"end_ms\":{end_ms}}}"
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: queue_bench enqueue <url> <jobs> <clients> | drain <url> <workers>";
    let (Some(mode), Some(url)) = (args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let number = |index: usize| -> usize {
        args.get(index)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| {
                eprintln!("{usage}");
                std::process::exit(2)
            })
    };
    let database = Database::connect(&DatabaseConfig {
        url: url.clone(),
        max_connections: 20,
        timeout: std::time::Duration::from_secs(5),
    })
    .expect("connect");
    database.migrate().await.expect("migrate");
    let store = DieselStore::new(database);
    match mode.as_str() {
        "enqueue" => {
            enqueue(Arc::new(store.jobs()), number(3), number(4)).await;
        }
        "drain" => {
            // As bootstrap wires the workers: bookkeeping on the relaxed-durability pool.
            let (jobs, _listener) = store.for_workers(4).expect("a bookkeeping pool");
            drain(Arc::new(jobs), number(3)).await;
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
