//! The HTTP adapter: the poem + poem-openapi application that exposes the use cases under
//! `/api/v1`, plus health checks, the OpenAPI document and Swagger UI.
//!
//! It depends on the application and domain crates and on poem; nothing outside this crate
//! names poem. Its job is translation: HTTP in → a domain command (one named function per
//! body), the use case's outcome → a status and a JSON body (one `ApiResponse` enum per
//! operation, matched exhaustively). Cross-cutting behaviour lives in `middleware`. It mounts
//! the socket.io gateway (`adapter-realtime`) on the same port, in `socket_io`.

mod api;
mod app;
mod auth;
mod client_ip;
mod errors;
mod json;
mod middleware;
mod mount;
mod openapi;
mod operations;
mod request_context;
mod response_json;
mod server;
mod socket_io;
mod strict_json;
#[cfg(test)]
mod test_support;
mod timestamp;

pub use app::{HttpConfig, METRICS_PATH, MetricsText, RateLimits, Services, metrics_response};
pub use middleware::cors::CorsPolicy;
pub use server::{ConnectionLimits, HttpServer};
pub use socket_io::RestBodies;
