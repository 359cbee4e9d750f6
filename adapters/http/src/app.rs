//! Assembles the HTTP application: the OpenAPI operations, the docs, and the middleware
//! stack in its order.

use std::sync::Arc;

use application::{
    AccountService, AuthService, Authenticator, HealthService, JobAdminService, PostService,
    UserService,
};
use domain::ports::{RateLimiter, RatePolicy, Telemetry, TraceContext};
use ipnet::IpNet;
use poem::endpoint::make_sync;
use poem::{Endpoint, EndpointExt, Response, get};
use poem_openapi::OpenApiService;

use crate::api::accounts::AccountsApi;
use crate::api::auth::{AccountSecurityApi, AuthApi};
use crate::api::health::HealthApi;
use crate::api::jobs::JobsApi;
use crate::api::posts::PostsApi;
use crate::api::users::UsersApi;
use crate::client_ip::TrustedProxies;
use crate::errors::error_response;
use crate::middleware::body_limit::BodyLimit;
use crate::middleware::compression::Compression;
use crate::middleware::cors::{Cors, CorsPolicy};
use crate::middleware::data::Data;
use crate::middleware::rate_limit::RateLimit;
use crate::middleware::recover::Recover;
use crate::middleware::request_log::RequestLog;
use crate::middleware::routes::RouteTable;
use crate::middleware::security_headers::SecurityHeaders;
use crate::mount::Mount;
use crate::operations::Operations;
use crate::socket_io::SocketIoEndpoint;
use adapter_realtime::{Realtime, SOCKET_IO_PATH};

const DOCS_PATH: &str = "/docs";
const SPEC_PATH: &str = "/openapi.json";
/// The Prometheus scrape path, on this listener or on `METRICS_ADDR`'s.
pub const METRICS_PATH: &str = "/metrics";

/// HTTP-level settings.
#[derive(Clone)]
pub struct HttpConfig {
    pub cors: CorsPolicy,
    /// Put internal error messages in 500 bodies (development only).
    pub expose_error_details: bool,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Longest time a request body may take to arrive (408 after it).
    pub body_read_timeout: std::time::Duration,
    /// Limits on the clients' connections (count, header deadline, idle, HTTP/2 streams).
    pub connection_limits: crate::server::ConnectionLimits,
    pub rate_limits: RateLimits,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Where requests and rate-limit refusals are counted.
    pub telemetry: Arc<dyn Telemetry>,
    /// Continues each request's W3C trace (`traceparent`) or starts one.
    pub traces: Arc<dyn TraceContext>,
    /// Serve `/metrics` on this listener to loopback peers, rendered by this function; `None`
    /// when metrics have a listener of their own (`METRICS_ADDR`) or are not served here
    /// (production).
    pub metrics: Option<MetricsText>,
}

/// Renders the Prometheus text exposition.
pub type MetricsText = Arc<dyn Fn() -> String + Send + Sync>;

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpConfig")
            .field("cors", &self.cors)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("rate_limits", &self.rate_limits)
            .field("metrics_served_here", &self.metrics.is_some())
            .finish_non_exhaustive()
    }
}

/// The per-client limits on `/api/v1`.
#[derive(Clone)]
pub struct RateLimits {
    pub limiter: Arc<dyn RateLimiter>,
    /// Every `/api/v1` request.
    pub global: RatePolicy,
    /// `/api/v1/auth/*` requests, on top of the global limit.
    pub auth: RatePolicy,
    /// Requests with a valid bearer token, per user whatever their address, on top of the
    /// others.
    pub user: RatePolicy,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RateLimits")
            .field("global", &self.global)
            .field("auth", &self.auth)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The use cases the HTTP adapter exposes.
#[derive(Debug, Clone)]
pub struct Services {
    pub auth: AuthService,
    pub users: UserService,
    pub posts: PostService,
    pub accounts: AccountService,
    pub jobs: JobAdminService,
    pub authenticator: Authenticator,
    pub health: HealthService,
    /// The socket.io gateway, served under `/socket.io/`.
    pub realtime: Realtime,
}

/// The whole HTTP application. Outermost first: request log (id, span, log line, metrics,
/// `Allow` on 405s) → security headers → CORS → rate limits → compression → errors and
/// panics to JSON responses → the authenticator as request data → routes → body limit.
/// socket.io (`/socket.io/*`) sits beside the body limit, not under it: engine.io enforces
/// its own payload limit, and polling bodies may batch several messages.
pub(crate) fn router(
    services: &Services,
    config: &HttpConfig,
) -> impl Endpoint<Output = Response> + use<> {
    let api = OpenApiService::new(
        apis(services),
        "Backend API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "REST API of the backend service. Errors are JSON `{\"error\", \"requestId\"[, \"details\"]}`; \
         every response carries `x-request-id`.",
    );
    let body_limit = BodyLimit {
        max_bytes: config.body_limit_bytes,
        read_timeout: config.body_read_timeout,
    };
    let (document, paths) = crate::openapi::document(&api, body_limit);
    let docs = crate::openapi::swagger_html(&api, &document);
    let mut fixed = vec![
        (
            SPEC_PATH,
            get(fixed_body("application/json", document))
                .with(body_limit)
                .boxed(),
        ),
        (
            DOCS_PATH,
            get(fixed_body("text/html; charset=utf-8", docs))
                .with(body_limit)
                .boxed(),
        ),
    ];
    if let Some(render) = &config.metrics {
        fixed.push((
            METRICS_PATH,
            get(loopback_metrics(Arc::clone(render)))
                .with(body_limit)
                .boxed(),
        ));
    }

    // The fixed documents answer GET (and HEAD) only.
    let allowed = RouteTable::new(
        paths.into_iter().chain(
            fixed
                .iter()
                .map(|(path, _)| ((*path).to_owned(), vec!["GET".to_owned()])),
        ),
        &[SOCKET_IO_PATH],
    );

    let authenticator = services.authenticator.clone();
    Mount {
        prefix: SOCKET_IO_PATH,
        prefixed: SocketIoEndpoint::new(services.realtime.http()).boxed(),
        fixed,
        // The document comes from `api`; the requests go to the same operations, routed by
        // `Operations` instead of `OpenApiService`'s own endpoint.
        rest: Operations::new(apis(services)).with(body_limit),
    }
    .with(Data(authenticator.clone()))
    .with(Recover)
    .with(Compression)
    .with(RateLimit {
        limiter: Arc::clone(&config.rate_limits.limiter),
        global: config.rate_limits.global,
        auth: config.rate_limits.auth,
        user: config.rate_limits.user,
        authenticator: authenticator.clone(),
        trusted_proxies: TrustedProxies(config.trusted_proxies.clone()),
        telemetry: Arc::clone(&config.telemetry),
    })
    .with(Cors(config.cors.clone()))
    .with(SecurityHeaders {
        docs_path: DOCS_PATH,
    })
    .with(RequestLog {
        expose_error_details: config.expose_error_details,
        telemetry: Arc::clone(&config.telemetry),
        traces: Arc::clone(&config.traces),
        routes: allowed,
    })
}

/// Every operation of the API, on the use cases.
fn apis(
    services: &Services,
) -> (
    HealthApi,
    AuthApi,
    AccountSecurityApi,
    UsersApi,
    PostsApi,
    AccountsApi,
    JobsApi,
) {
    (
        HealthApi {
            health: services.health.clone(),
        },
        AuthApi {
            auth: services.auth.clone(),
            users: services.users.clone(),
        },
        AccountSecurityApi {
            auth: services.auth.clone(),
        },
        UsersApi {
            users: services.users.clone(),
        },
        PostsApi {
            posts: services.posts.clone(),
        },
        AccountsApi {
            accounts: services.accounts.clone(),
        },
        JobsApi {
            jobs: services.jobs.clone(),
        },
    )
}

/// An endpoint that answers every request with `body`. The body is shared, not copied per
/// request (the docs page embeds Swagger UI: 1.6 MB).
fn fixed_body(content_type: &'static str, body: String) -> impl Endpoint<Output = Response> {
    let body = bytes::Bytes::from(body);
    make_sync(move |_| {
        Response::builder()
            .content_type(content_type)
            .body(body.clone())
    })
}

/// `/metrics` on the API listener: for loopback peers only (an operator on the host, or a
/// scraper beside it); anyone else gets the same 404 as an unknown path.
fn loopback_metrics(render: MetricsText) -> impl Endpoint<Output = Response> {
    make_sync(move |request| {
        let loopback = request
            .remote_addr()
            .as_socket_addr()
            .is_some_and(|peer| peer.ip().is_loopback());
        if loopback {
            metrics_response(&render)
        } else {
            error_response(&poem::error::NotFoundError.into())
        }
    })
}

/// The rendered metrics, in the Prometheus text format.
pub fn metrics_response(render: &MetricsText) -> Response {
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(render())
}
