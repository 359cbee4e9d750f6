//! Measures one argon2id verify with the service's parameters, on one core, as the service
//! runs it (through `Argon2Hasher`). `bench/login.sh` uses it for the login throughput bound.
//!
//!   cargo run --release -p adapter-crypto --example argon2_verify [ROUNDS]

use std::time::Instant;

use adapter_crypto::Argon2Hasher;
use domain::Password;
use domain::ports::PasswordHasher as _;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(50);
    let hasher = Argon2Hasher::new(1);
    let password = Password::parse("correct horse battery staple").expect("a valid password");
    let hash = hasher.hash(&password).await.expect("hash");
    hasher
        .verify(&password, &hash)
        .await
        .expect("warm-up verify");

    let started = Instant::now();
    for _ in 0..rounds {
        assert!(hasher.verify(&password, &hash).await.expect("verify"));
    }
    let per_verify_ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds);
    println!("argon2id verify: {per_verify_ms:.2} ms (m=12288 KiB, t=3, p=1; {rounds} rounds)");
}
