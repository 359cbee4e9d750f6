//! The composition root: reads configuration, builds the adapters, wires the use cases and
//! serves. It is the only crate that knows every adapter; `main.rs` only parses the command
//! line and calls into here, so tests can run the real application on port 0.

pub mod app;
mod jobs;
mod limits;
mod metrics;
mod provision;
mod realtime;
mod revocations;
pub mod secrets;
pub mod settings;
pub mod storage;
mod strength;
pub mod telemetry;

pub use app::App;
pub use settings::Settings;
pub use storage::Storage;
