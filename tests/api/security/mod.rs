//! Regression tests for the findings of the adversarial review (issue 12): each was
//! reproduced against a release build, and each test here failed before its fix.
//!
//! - `transport`: HTTP/2 bodies over the limit, slow and silent clients, the connection
//!   cap, shutdown with a partial request, hyper's own errors as JSON;
//! - `input`: non-ASCII idempotency keys, NUL in posts, look-alike emails, duplicate JSON
//!   keys, charsets, parameter errors naming internal types;
//! - `accounts`: the failed-login race, the last admin, reset-email flooding, search folding;
//! - `socket_io`: attacker frames against engine.io and socket.io, sockets per user.

mod accounts;
mod input;
mod socket_io;
mod transport;
