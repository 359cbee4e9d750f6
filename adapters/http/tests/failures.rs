//! The router with mocked ports: what clients see when something breaks inside.
//! (Everything that works is covered black-box in `tests/`, against real databases.)

use std::sync::Arc;
use std::time::Duration;

use adapter_http::{
    ConnectionLimits, CorsPolicy, HttpConfig, HttpServer, RateLimits, RestBodies, Services,
};
use adapter_realtime::{GatewayPorts, Realtime, RealtimeConfig};
use application::{
    AccountService, AuthConfig, AuthPorts, AuthService, AuthStates, Authenticator, HealthService,
    JobAdminService, PostService, SessionStates, UserPorts, UserService,
};
use domain::ports::{
    AccessClaims, MockAccountRepository, MockEmailVerificationRepository, MockJobRepository,
    MockOpaqueTokenGenerator, MockPasswordHasher, MockPasswordResetRepository, MockPostRepository,
    MockRateLimiter, MockSessionRepository, MockTokenIssuer, MockTokenVerifier, MockUserRepository,
    NoEvents, NoTelemetry, RateDecision, RatePolicy, RepositoryError, SystemClock,
};
use domain::{AuthState, Role, SessionId, UserId};
use serde_json::{Value, json};

/// Serves the router on a free port with `users` as the repository; every bearer token is
/// an admin's. Returns the base URL.
async fn serve(users: MockUserRepository, expose_error_details: bool) -> String {
    let mut verifier = MockTokenVerifier::new();
    verifier.expect_verify().returning(|_, now| {
        Ok(AccessClaims {
            user_id: UserId::generate(),
            role: Role::Admin,
            session_id: SessionId::generate(),
            session_version: domain::SessionVersion::INITIAL,
            issued_at: now,
            expires_at: now,
        })
    });
    let mut users = users;
    users.expect_find_auth_state().returning(|_| {
        Ok(Some(AuthState {
            role: Role::Admin,
            session_version: domain::SessionVersion::INITIAL,
        }))
    });
    let users = Arc::new(users);
    let auth_states = Arc::new(AuthStates::new(
        users.clone(),
        Arc::new(SystemClock),
        chrono::Duration::seconds(1),
    ));
    let mut limiter = MockRateLimiter::new();
    let allowed = |policy: RatePolicy| RateDecision {
        allowed: true,
        limit: policy.limit,
        remaining: policy.limit,
        reset_after: policy.window,
    };
    limiter
        .expect_hit()
        .returning(move |_, policy| allowed(policy));
    limiter
        .expect_hit_all()
        .returning(move |hits| hits.iter().map(|hit| allowed(hit.policy)).collect());
    let limiter = Arc::new(limiter);
    let mut sessions = MockSessionRepository::new();
    sessions.expect_is_live().returning(|_| Ok(true));
    let sessions = Arc::new(sessions);
    let session_states = Arc::new(SessionStates::new(
        sessions.clone(),
        Arc::new(SystemClock),
        chrono::Duration::seconds(1),
    ));
    let policy = RatePolicy {
        limit: 100,
        window: Duration::from_mins(1),
    };
    let auth = AuthService::new(
        AuthPorts {
            users: users.clone(),
            sessions,
            resets: Arc::new(MockPasswordResetRepository::new()),
            verifications: Arc::new(MockEmailVerificationRepository::new()),
            hasher: Arc::new(MockPasswordHasher::new()),
            issuer: Arc::new(MockTokenIssuer::new()),
            opaque_tokens: Arc::new(MockOpaqueTokenGenerator::new()),
            rate_limiter: limiter.clone(),
            clock: Arc::new(SystemClock),
            auth_states: auth_states.clone(),
            session_states: session_states.clone(),
            events: Arc::new(NoEvents),
        },
        AuthConfig {
            refresh_token_ttl: Duration::from_mins(1),
            reset_token_ttl: Duration::from_mins(1),
            verification_token_ttl: Duration::from_mins(1),
            require_verified_email: false,
            failed_login_policy: policy,
            reset_request_policy: policy,
        },
    );
    let authenticator = Authenticator::new(
        Arc::new(verifier),
        auth_states.clone(),
        session_states,
        Arc::new(SystemClock),
    );
    let services = Services {
        auth,
        posts: PostService::new(
            Arc::new(MockPostRepository::new()),
            Arc::new(NoEvents),
            Arc::new(SystemClock),
        ),
        accounts: AccountService::new(
            Arc::new(MockAccountRepository::new()),
            Arc::new(NoEvents),
            Arc::new(SystemClock),
        ),
        users: UserService::new(
            UserPorts {
                users,
                hasher: Arc::new(MockPasswordHasher::new()),
                clock: Arc::new(SystemClock),
                auth_states: auth_states.clone(),
                opaque_tokens: Arc::new(MockOpaqueTokenGenerator::new()),
                events: Arc::new(NoEvents),
            },
            Duration::from_mins(1),
        ),
        jobs: JobAdminService::new(Arc::new(MockJobRepository::new()), Arc::new(SystemClock)),
        authenticator: authenticator.clone(),
        health: HealthService::new(vec![]),
        realtime: Realtime::new(
            GatewayPorts {
                authenticator,
                clock: Arc::new(SystemClock),
                telemetry: Arc::new(NoTelemetry),
                bodies: Arc::new(RestBodies),
            },
            RealtimeConfig::default(),
        ),
    };
    let config = HttpConfig {
        cors: CorsPolicy::Closed,
        expose_error_details,
        body_limit_bytes: 10 * 1024,
        body_read_timeout: Duration::from_secs(30),
        connection_limits: ConnectionLimits::default(),
        rate_limits: RateLimits {
            limiter,
            global: policy,
            auth: policy,
            user: policy,
        },
        trusted_proxies: vec![],
        telemetry: Arc::new(NoTelemetry),
        traces: Arc::new(domain::ports::NoTraces),
        metrics: None,
    };
    let server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), services, &config)
        .await
        .unwrap();
    let address = format!("http://{}", server.address());
    tokio::spawn(server.run_until(std::future::pending(), Duration::from_secs(1)));
    address
}

async fn get_user(address: &str) -> (u16, String, Value) {
    let response = reqwest::Client::new()
        .get(format!("{address}/api/v1/users/{}", UserId::generate()))
        .bearer_auth("any")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, request_id, response.json().await.unwrap())
}

fn failing_repository() -> MockUserRepository {
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(|_| Err(RepositoryError(anyhow::anyhow!("connection reset by peer"))));
    users
}

#[tokio::test]
async fn a_panicking_handler_is_a_json_500_that_leaks_nothing() {
    // A mock without expectations panics when called.
    let address = serve(MockUserRepository::new(), false).await;

    let (status, request_id, body) = get_user(&address).await;

    assert_eq!(status, 500);
    assert_eq!(
        body,
        json!({ "error": "Internal server error", "requestId": request_id })
    );
}

#[tokio::test]
async fn an_unexpected_failure_is_a_generic_500_in_production() {
    let address = serve(failing_repository(), false).await;

    let (status, request_id, body) = get_user(&address).await;

    assert_eq!(status, 500);
    assert_eq!(
        body,
        json!({ "error": "Internal server error", "requestId": request_id })
    );
}

#[tokio::test]
async fn an_unexpected_failure_shows_its_cause_chain_in_development() {
    let address = serve(failing_repository(), true).await;

    let (status, _, body) = get_user(&address).await;

    assert_eq!(status, 500);
    assert_eq!(body["error"], "Internal server error");
    let causes = body["details"]["causes"].as_array().unwrap();
    assert!(
        causes
            .iter()
            .any(|cause| cause == "connection reset by peer"),
        "{body}"
    );
}
