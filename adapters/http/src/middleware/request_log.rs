//! The outermost middleware: gives every request an id, serves it inside a tracing span
//! and a request context carrying that id, converts any escaped error to the JSON error
//! body, echoes the id in `x-request-id`, writes one structured log line per request, and
//! records its metrics (active requests; duration by method, route template and status).
//! The span continues the W3C trace of the request's `traceparent` or starts one; its
//! `otel.*` and `http.*` fields follow OpenTelemetry's HTTP server conventions, for export.

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use tracing::Instrument as _;

use domain::TraceParent;
use domain::ports::{HttpRequestRecord, Telemetry, TraceContext};

use crate::errors::error_response;
use crate::middleware::routes::RouteTable;
use crate::request_context::RequestContext;

/// Header names as constants: looking one up by `&str` parses and validates it first.
pub(crate) const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT_HEADER: HeaderName = HeaderName::from_static("traceparent");

/// The status recorded for a request whose client went away before the answer
/// (nginx's "client closed request").
const CLIENT_CLOSED_REQUEST: u16 = 499;

/// See the module documentation.
#[derive(Clone)]
pub(crate) struct RequestLog {
    pub(crate) expose_error_details: bool,
    pub(crate) telemetry: Arc<dyn Telemetry>,
    pub(crate) traces: Arc<dyn TraceContext>,
    /// Gives each request its route template.
    pub(crate) routes: RouteTable,
}

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestLogEndpoint {
            inner,
            config: self.clone(),
        }
    }
}

pub(crate) struct RequestLogEndpoint<E> {
    inner: E,
    config: RequestLog,
}

/// A request being served, for its metrics: answered, or dropped when the client left.
struct InFlight<'a> {
    telemetry: &'a dyn Telemetry,
    method: &'static str,
    route: &'a str,
    started: Instant,
    status: u16,
    /// Measured when the answer is logged; measured at drop for a client that left.
    seconds: Option<f64>,
}

impl<'a> InFlight<'a> {
    fn start(telemetry: &'a dyn Telemetry, method: &'static str, route: &'a str) -> Self {
        telemetry.http_request_started();
        Self {
            telemetry,
            method,
            route,
            started: Instant::now(),
            status: CLIENT_CLOSED_REQUEST,
            seconds: None,
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.telemetry.http_request_finished(HttpRequestRecord {
            method: self.method,
            route: self.route,
            status: self.status,
            seconds: self
                .seconds
                .unwrap_or_else(|| self.started.elapsed().as_secs_f64()),
        });
    }
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    // Not an `async fn` (see `middleware/mod.rs`): its future would hold the request too.
    fn call(&self, request: Request) -> impl Future<Output = poem::Result<Response>> + Send {
        let request_id = request
            .headers()
            .get(&REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|id| is_sane_request_id(id))
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
        let parent = request
            .headers()
            .get(&TRACEPARENT_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<TraceParent>().ok());
        let method = request.method().clone();
        // A clone of the URI shares its bytes (no copy of the path).
        let uri = request.uri().clone();
        let route = self.config.routes.lookup(uri.path());
        let mut in_flight = InFlight::start(
            &*self.config.telemetry,
            method_label(&method),
            route.template,
        );
        let context = Arc::new(RequestContext::new(
            request_id,
            self.config.expose_error_details,
        ));
        let span = tracing::info_span!(
            "request",
            trace_id = tracing::field::Empty,
            request_id = %context.request_id,
            %method,
            path = %uri.path(),
            otel.name = %format_args!("{method} {}", route.template),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            http.route = route.template,
            http.response.status_code = tracing::field::Empty,
        );
        let trace_id = span
            .in_scope(|| self.config.traces.continue_trace(parent))
            .trace_id_hex();
        span.record("trace_id", trace_id.as_str());

        // The rest of the stack is one large future (every layer's state nested inline):
        // boxed here, once, it is not copied again each time the futures around it move.
        // Written into the box in place: `Box::pin` would build it on the stack and copy
        // all of it (see `middleware/mod.rs`).
        let inner = Box::into_pin(Box::write(Box::new_uninit(), self.inner.call(request)));
        let served = Arc::clone(&context)
            .scope(async move {
                match inner.await {
                    Ok(output) => output.into_response(),
                    Err(error) => error_response(&error),
                }
            })
            .instrument(span.clone());
        async move {
            let mut response = served.await;

            if let Ok(value) = HeaderValue::from_str(&context.request_id) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            if response.status() == StatusCode::METHOD_NOT_ALLOWED
                && let Some(allow) = route.allow
            {
                response.headers_mut().insert(header::ALLOW, allow.clone());
            }
            // Handlers map every unexpected failure to their 500; one caused by an
            // unavailable database is a 503 (API.md, "Operations").
            if response.status() == StatusCode::INTERNAL_SERVER_ERROR && context.was_unavailable() {
                response.set_status(StatusCode::SERVICE_UNAVAILABLE);
            }
            let status = response.status().as_u16();
            in_flight.status = status;
            span.record("http.response.status_code", status);
            if response.status().is_server_error() {
                span.record("otel.status_code", "ERROR");
            }
            let seconds = in_flight.started.elapsed().as_secs_f64();
            in_flight.seconds = Some(seconds);
            let latency_ms = seconds * 1000.0;
            let user_id = context.user_id().map(|id| id.to_string());
            span.in_scope(|| {
                tracing::info!(
                    target: "http",
                    %method,
                    path = %uri.path(),
                    status,
                    latency_ms,
                    request_id = %context.request_id,
                    trace_id = %trace_id,
                    user_id = user_id.as_deref().unwrap_or("-"),
                    "request served"
                );
            });
            drop(in_flight);
            Ok(response)
        }
    }
}

/// The method as a metrics label: the standard ones by name, any other as `_OTHER`
/// (OpenTelemetry's convention), so that clients cannot grow the series without bound.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::TRACE, "TRACE"),
        (Method::CONNECT, "CONNECT"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("_OTHER", |(_, label)| label)
}

/// An incoming id is echoed only if it is short and made of safe characters, so that
/// clients cannot inject text into logs or headers through it.
fn is_sane_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::{Method, is_sane_request_id, method_label};

    #[test]
    fn standard_methods_are_labelled_by_name_and_any_other_as_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        assert_eq!(
            method_label(&Method::from_bytes(b"QUERY").unwrap()),
            "_OTHER"
        );
        assert_eq!(
            method_label(&Method::from_bytes(b"X-ANYTHING-1").unwrap()),
            "_OTHER"
        );
    }

    #[test]
    fn only_short_ids_of_safe_characters_are_echoed() {
        assert!(is_sane_request_id("abc-123_x.y:z"));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("has space"));
        assert!(!is_sane_request_id("line\nbreak"));
        assert!(!is_sane_request_id(&"a".repeat(129)));
    }
}
