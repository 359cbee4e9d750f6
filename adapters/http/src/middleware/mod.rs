//! Cross-cutting HTTP behaviour, outermost first (see `app::router` for the order):
//! request context and log line, security headers, CORS, rate limits, compression, error
//! and panic recovery, shared data, and the body limit; the route table gives the log its
//! route templates and 405s their `Allow`.
//!
//! What a layer costs per request (`bench/instructions.sh`; figures in
//! `bench/results/per-request-overhead-20261203.md`):
//! - A layer that works after the layer below is an `async fn`: the inner future is built
//!   in place, inside its own. A plain `fn` that builds the inner future and wraps it (an
//!   `async move` block, an `Either`) moves it, and every move is a copy of the whole nest
//!   below. A layer with nothing to do afterwards (`Data`) returns the inner future as it
//!   is; `Recover` is the one measured exception (see its `call`).
//! - The request log puts the rest of the stack in one box, written in place
//!   (`Box::new_uninit`): `Box::pin(future)` builds the future on the stack and copies it,
//!   several KiB per request.
//! - Header names are constants (`HeaderName::from_static`), not `&str`, which are parsed
//!   again at every lookup.

pub(crate) mod body_limit;
pub(crate) mod compression;
pub(crate) mod cors;
pub(crate) mod data;
pub(crate) mod rate_limit;
pub(crate) mod recover;
pub(crate) mod request_log;
pub(crate) mod routes;
pub(crate) mod security_headers;
