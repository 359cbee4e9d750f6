//! Argon2id password hashing on a fixed pool of hashing threads.
//!
//! A hash or verify costs ~20 ms of one core and 12 MiB of memory with the OWASP
//! parameters. Running it on the async executor would stall every request on that thread;
//! running it on tokio's blocking pool lets a login storm spread over many threads, each of
//! which then keeps its own 12 MiB+ malloc arena (we measured 650 MiB of RSS). So the work
//! goes to exactly one thread per core, each reusing its memory block while work is queued: at most
//! `cores` hashes run at once (the rest queue without occupying anything), memory stays at
//! `cores` x 12 MiB, and no hash pays for allocating and faulting in 12 MiB.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as PhcHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use domain::ports::{NoTelemetry, PasswordHashError, PasswordHasher, Telemetry};
use domain::{Password, PasswordHash};
use rand::TryRngCore as _;
use tokio::sync::oneshot;

/// One of OWASP's equivalent argon2id configurations: 12 MiB, 3 iterations, 1 lane. OWASP
/// rates it as strong as 19 MiB with 2 iterations (the same memory-time product); it is
/// chosen for the smaller peak memory under a login storm (cores x 12 MiB instead of
/// cores x 19 MiB), at the same CPU time. Hashes made with other parameters still verify:
/// the PHC string carries its own.
const MEMORY_KIB: u32 = 12_288;
const ITERATIONS: u32 = 3;
const PARALLELISM: u32 = 1;
const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

/// Work for a hashing thread, given its reusable memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// [`PasswordHasher`] with argon2id on dedicated threads.
#[derive(Clone)]
pub struct Argon2Hasher {
    jobs: mpsc::Sender<Job>,
    /// Hashes sent and not yet taken by a thread.
    queued: Arc<AtomicU64>,
    /// Where the queue's depth and each hash's time are recorded.
    telemetry: Arc<dyn Telemetry>,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Argon2Hasher")
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Argon2Hasher {
    /// A hasher with `threads` hashing threads (at least one).
    #[must_use]
    pub fn new(threads: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    while let Some(job) = next_job(&queue, &mut memory) {
                        job(&mut memory);
                    }
                })
                .expect("spawn a hashing thread");
        }
        Self {
            jobs,
            queued: Arc::default(),
            telemetry: Arc::new(NoTelemetry),
        }
    }

    /// Records the queue's depth and each hash's time in `telemetry`.
    #[must_use]
    pub fn with_telemetry(self, telemetry: Arc<dyn Telemetry>) -> Self {
        Self { telemetry, ..self }
    }

    /// A hasher with one hashing thread per available core.
    #[must_use]
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, PasswordHashError> {
        let (reply, answer) = oneshot::channel();
        let (queued, telemetry) = (Arc::clone(&self.queued), Arc::clone(&self.telemetry));
        telemetry.password_hash_queue(queued.fetch_add(1, Ordering::Relaxed) + 1);
        self.jobs
            .send(Box::new(move |memory| {
                telemetry.password_hash_queue(queued.fetch_sub(1, Ordering::Relaxed) - 1);
                let started = Instant::now();
                let outcome = work(memory);
                telemetry.password_hashed(started.elapsed().as_secs_f64());
                let _ = reply.send(outcome);
            }))
            .map_err(|_| {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                PasswordHashError(anyhow::anyhow!("the hashing threads are gone"))
            })?;
        answer
            .await
            .map_err(|_| PasswordHashError(anyhow::anyhow!("a hashing thread stopped")))
    }
}

/// The next job; ends (`None`) when every sender is gone. While more work is queued the
/// memory block is kept for it; when the queue is empty the block is released before the
/// thread sleeps, so an idle server does not hold cores x 12 MiB (the allocator keeps freed
/// memory warm for a few milliseconds, so back-to-back hashes still reuse it).
fn next_job(queue: &Mutex<mpsc::Receiver<Job>>, memory: &mut Vec<Block>) -> Option<Job> {
    let receiver = queue.lock().ok()?;
    match receiver.try_recv() {
        Ok(job) => Some(job),
        Err(mpsc::TryRecvError::Disconnected) => None,
        Err(mpsc::TryRecvError::Empty) => {
            *memory = Vec::new();
            receiver.recv().ok()
        }
    }
}

fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_BYTES))
        .expect("the OWASP parameters are valid")
}

/// The PHC string of `password` with a fresh random salt.
fn hash_into(memory: &mut Vec<Block>, password: &[u8]) -> anyhow::Result<String> {
    let mut salt = [0_u8; SALT_BYTES];
    rand::rngs::OsRng.try_fill_bytes(&mut salt)?;
    let params = params();
    let mut output = [0_u8; OUTPUT_BYTES];
    memory.resize(params.block_count(), Block::default());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut output, memory.as_mut_slice())
        .map_err(|error| anyhow::anyhow!("argon2: {error}"))?;
    let phc = PhcHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|error| anyhow::anyhow!("argon2: {error}"))?,
        salt: Some(Salt::new(&salt).map_err(|error| anyhow::anyhow!("argon2: {error}"))?),
        hash: Some(Output::new(&output).map_err(|error| anyhow::anyhow!("argon2: {error}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string, with the parameters stored in it (so hashes
/// made with older parameters still verify). Anything malformed is a mismatch.
fn verify_into(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    let Ok(hash) = PhcHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&hash),
        Algorithm::try_from(hash.algorithm.as_str()),
    ) else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let mut output = vec![0_u8; expected.len()];
    memory.resize(params.block_count(), Block::default());
    let computed = Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password,
        salt,
        &mut output,
        memory.as_mut_slice(),
    );
    // `Output` compares in constant time.
    computed.is_ok() && Output::new(&output).is_ok_and(|computed| &computed == expected)
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordHashError> {
        let plain = password.expose().to_owned();
        self.run(move |memory| hash_into(memory, plain.as_bytes()))
            .await?
            .map(PasswordHash::from_phc)
            .map_err(PasswordHashError)
    }

    async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<bool, PasswordHashError> {
        let plain = password.expose().to_owned();
        let phc = hash.as_str().to_owned();
        self.run(move |memory| verify_into(memory, plain.as_bytes(), &phc))
            .await
    }
}

#[cfg(test)]
mod tests;
