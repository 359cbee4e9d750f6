//! Use-case tests of authentication with mockall mocks of every port. A mock without an
//! expectation panics when called, which proves what a refused request did not touch.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use domain::ports::{
    AccessToken, ConsumeRefreshTokenError, DomainEvent, InsertUserError, MockClock,
    MockEmailVerificationRepository, MockEventPublisher, MockOpaqueTokenGenerator,
    MockPasswordHasher, MockPasswordResetRepository, MockRateLimiter, MockSessionRepository,
    MockTokenIssuer, MockUserRepository, RateDecision, RatePolicy, ResetPasswordError,
};
use domain::{
    AuthState, ClientInfo, ConsumedRefreshToken, Email, OpaqueToken, Password, PasswordHash, Role,
    SessionId, TokenHash, User, UserCredentials, UserId,
};

use super::*;
use crate::auth_states::{AuthStates, SessionStates};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

const POLICY: RatePolicy = RatePolicy {
    limit: 5,
    window: Duration::from_mins(15),
};

fn config() -> AuthConfig {
    AuthConfig {
        refresh_token_ttl: Duration::from_hours(1),
        reset_token_ttl: Duration::from_mins(30),
        verification_token_ttl: Duration::from_hours(24),
        require_verified_email: false,
        failed_login_policy: POLICY,
        reset_request_policy: POLICY,
    }
}

pub(super) fn user(role: Role) -> User {
    User {
        id: UserId::generate(),
        email: Email::parse("ann@example.com").unwrap(),
        name: None,
        role,
        email_verified: false,
        created_at: now(),
        updated_at: now(),
    }
}

pub(super) fn decision(remaining: u32) -> RateDecision {
    RateDecision {
        allowed: remaining > 0,
        limit: 5,
        remaining,
        reset_after: Duration::from_mins(10),
    }
}

/// Every port as a mock; tests set expectations, then `build`.
#[derive(Default)]
pub(super) struct Mocks {
    pub(super) users: MockUserRepository,
    pub(super) sessions: MockSessionRepository,
    pub(super) resets: MockPasswordResetRepository,
    pub(super) hasher: MockPasswordHasher,
    pub(super) issuer: MockTokenIssuer,
    pub(super) opaque_tokens: MockOpaqueTokenGenerator,
    pub(super) rate_limiter: MockRateLimiter,
    pub(super) verifications: MockEmailVerificationRepository,
    pub(super) events: MockEventPublisher,
}

impl Mocks {
    /// Expectations of a successful session start: an access token, a refresh token.
    pub(super) fn expect_session_start(&mut self) {
        self.issuer.expect_issue().returning(|_, _, _, _| {
            Ok(AccessToken {
                token: "access".to_owned(),
                expires_in_seconds: 900,
            })
        });
        self.opaque_tokens.expect_generate().returning(|| {
            (
                OpaqueToken::new("refresh".to_owned()),
                TokenHash::from_hex("refresh-hash".to_owned()),
            )
        });
        self.sessions.expect_start().returning(|_, _| Ok(()));
    }

    /// The verification token a registration makes before it stores the user.
    fn expect_verification_token(&mut self) {
        self.opaque_tokens.expect_generate().returning(|| {
            (
                OpaqueToken::new("verify".to_owned()),
                TokenHash::from_hex("verify-hash".to_owned()),
            )
        });
    }

    pub(super) fn build(self) -> AuthService {
        self.build_with(|_| ())
    }

    /// Builds with the test configuration changed by `configure`.
    pub(super) fn build_with(self, configure: impl FnOnce(&mut AuthConfig)) -> AuthService {
        let mut config = config();
        configure(&mut config);
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let clock = Arc::new(clock);
        let users = Arc::new(self.users);
        let auth_states = Arc::new(AuthStates::new(
            users.clone(),
            clock.clone(),
            chrono::Duration::seconds(1),
        ));
        let sessions = Arc::new(self.sessions);
        let session_states = Arc::new(SessionStates::new(
            sessions.clone(),
            clock.clone(),
            chrono::Duration::seconds(1),
        ));
        AuthService::new(
            AuthPorts {
                users,
                sessions,
                verifications: Arc::new(self.verifications),
                resets: Arc::new(self.resets),
                hasher: Arc::new(self.hasher),
                issuer: Arc::new(self.issuer),
                opaque_tokens: Arc::new(self.opaque_tokens),
                rate_limiter: Arc::new(self.rate_limiter),
                clock,
                auth_states,
                session_states,
                events: Arc::new(self.events),
            },
            config,
        )
    }
}

fn register_command() -> Register {
    Register {
        email: Email::parse("ann@example.com").unwrap(),
        password: Password::parse("long enough password").unwrap(),
        name: None,
    }
}

fn stored(new: domain::NewUser) -> User {
    User {
        id: new.id,
        email: new.email,
        name: new.name,
        role: new.role,
        email_verified: false,
        created_at: new.created_at,
        updated_at: new.created_at,
    }
}

#[tokio::test]
async fn registration_creates_a_plain_user_with_its_welcome_email_job_and_starts_a_session() {
    let mut mocks = Mocks::default();
    mocks
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$argon2id$h".to_owned())));
    mocks
        .users
        .expect_insert()
        .withf(|new| {
            let jobs = new.outbox.jobs();
            new.role == Role::User
                && jobs.len() == 1
                && jobs[0].kind.as_str() == "mail.welcome"
                && jobs[0].queue.as_str() == "mail"
                && jobs[0].payload.as_json().contains(&new.id.to_string())
                && jobs[0].dedup_key.as_deref() == Some(&*format!("welcome:{}", new.id))
        })
        .times(1)
        .returning(|new| Ok(stored(new)));
    mocks.expect_session_start();

    let session = mocks
        .build()
        .register(register_command(), ClientInfo::default())
        .await
        .unwrap();

    assert_eq!(session.user.role, Role::User);
    assert_eq!(session.access.token, "access");
    assert_eq!(session.refresh.expose(), "refresh");
}

#[tokio::test]
async fn registration_fails_without_a_session_when_the_user_and_its_email_cannot_be_stored() {
    let mut mocks = Mocks::default();
    mocks
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$argon2id$h".to_owned())));
    mocks.expect_verification_token();
    mocks.users.expect_insert().returning(|_| {
        Err(InsertUserError::Unexpected(domain::ports::RepositoryError(
            anyhow::anyhow!("database down"),
        )))
    });

    let result = mocks
        .build()
        .register(register_command(), ClientInfo::default())
        .await;

    assert!(matches!(result, Err(RegisterError::Unexpected(_))));
}

#[tokio::test]
async fn registration_with_a_taken_email_is_a_conflict_and_sends_nothing() {
    let mut mocks = Mocks::default();
    mocks
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$argon2id$h".to_owned())));
    mocks.expect_verification_token();
    mocks
        .users
        .expect_insert()
        .returning(|_| Err(InsertUserError::EmailTaken));

    let result = mocks
        .build()
        .register(register_command(), ClientInfo::default())
        .await;

    assert!(matches!(result, Err(RegisterError::EmailTaken)));
}

pub(super) fn credentials() -> UserCredentials {
    UserCredentials {
        user: user(Role::User),
        password_hash: PasswordHash::from_phc("$argon2id$real".to_owned()),
    }
}

pub(super) fn login_args() -> (Email, Password) {
    (
        Email::parse("ann@example.com").unwrap(),
        Password::parse("long enough password").unwrap(),
    )
}

#[tokio::test]
async fn an_unknown_email_costs_a_verify_against_a_dummy_hash_and_fails_like_a_wrong_password() {
    let mut mocks = Mocks::default();
    mocks
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(None));
    mocks
        .hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(PasswordHash::from_phc("$argon2id$dummy".to_owned())));
    mocks
        .hasher
        .expect_verify()
        .withf(|_, hash| hash.as_str() == "$argon2id$dummy")
        .times(1)
        .returning(|_, _| Ok(true));
    mocks
        .rate_limiter
        .expect_hit()
        .times(1)
        .returning(|_, _| decision(4));
    let (email, password) = login_args();

    let result = mocks
        .build()
        .login(&email, &password, ClientInfo::default())
        .await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)));
}

#[tokio::test]
async fn a_wrong_password_is_invalid_credentials_and_counts_a_failure_for_the_account() {
    let mut mocks = Mocks::default();
    mocks
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(Some(credentials())));
    mocks.hasher.expect_verify().returning(|_, _| Ok(false));
    mocks
        .rate_limiter
        .expect_hit()
        .withf(|key, policy| key == "failed-logins:ann@example.com" && *policy == POLICY)
        .times(1)
        .returning(|_, _| decision(4));
    let (email, password) = login_args();

    let result = mocks
        .build()
        .login(&email, &password, ClientInfo::default())
        .await;

    assert!(matches!(result, Err(LoginError::InvalidCredentials)));
}

#[tokio::test]
async fn an_attempt_over_the_accounts_limit_is_refused_before_any_hashing() {
    let mut mocks = Mocks::default();
    mocks
        .rate_limiter
        .expect_hit()
        .returning(|_, _| decision(0));
    let (email, password) = login_args();

    let result = mocks
        .build()
        .login(&email, &password, ClientInfo::default())
        .await;

    assert!(
        matches!(result, Err(LoginError::TooManyAttempts { retry_after }) if retry_after == Duration::from_mins(10))
    );
}

#[tokio::test]
async fn a_successful_login_clears_the_failures_and_issues_tokens_at_the_current_session_version() {
    let mut mocks = Mocks::default();
    mocks
        .rate_limiter
        .expect_hit()
        .times(1)
        .returning(|_, _| decision(3));
    mocks
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(Some(credentials())));
    mocks.hasher.expect_verify().returning(|_, _| Ok(true));
    mocks.rate_limiter.expect_reset().times(1).returning(|_| ());
    mocks.users.expect_find_auth_state().returning(|_| {
        Ok(Some(AuthState {
            role: Role::User,
            session_version: domain::SessionVersion::new(4),
        }))
    });
    mocks
        .issuer
        .expect_issue()
        .withf(|_, _, version, _| *version == domain::SessionVersion::new(4))
        .returning(|_, _, _, _| {
            Ok(AccessToken {
                token: "access".to_owned(),
                expires_in_seconds: 900,
            })
        });
    mocks.opaque_tokens.expect_generate().returning(|| {
        (
            OpaqueToken::new("refresh".to_owned()),
            TokenHash::from_hex("h".to_owned()),
        )
    });
    mocks
        .sessions
        .expect_start()
        .times(1)
        .returning(|_, _| Ok(()));
    let (email, password) = login_args();

    let session = mocks
        .build()
        .login(&email, &password, ClientInfo::default())
        .await
        .unwrap();

    assert_eq!(session.access.token, "access");
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_whole_family() {
    let family = SessionId::generate();
    let mut mocks = Mocks::default();
    mocks
        .opaque_tokens
        .expect_hash()
        .returning(|_| TokenHash::from_hex("h".to_owned()));
    mocks
        .sessions
        .expect_consume_refresh_token()
        .returning(move |_, _| {
            Err(ConsumeRefreshTokenError::AlreadyUsed {
                user_id: UserId::generate(),
                family_id: family,
            })
        });
    mocks
        .sessions
        .expect_revoke()
        .withf(move |id, _| *id == family)
        .times(1)
        .returning(|_, _| Ok(()));
    mocks
        .events
        .expect_publish()
        .withf(move |event| {
            matches!(event, DomainEvent::SessionsRevoked { session: Some(ended), .. } if *ended == family)
        })
        .times(1)
        .returning(|_| ());

    let result = mocks.build().refresh("stolen", ClientInfo::default()).await;

    assert!(matches!(result, Err(RefreshError::InvalidToken)));
}

#[tokio::test]
async fn unknown_expired_and_revoked_refresh_tokens_are_invalid() {
    for error in [
        ConsumeRefreshTokenError::Unknown,
        ConsumeRefreshTokenError::Expired,
        ConsumeRefreshTokenError::Revoked,
    ] {
        let mut mocks = Mocks::default();
        mocks
            .opaque_tokens
            .expect_hash()
            .returning(|_| TokenHash::from_hex("h".to_owned()));
        let error = std::sync::Mutex::new(Some(error));
        mocks
            .sessions
            .expect_consume_refresh_token()
            .returning(move |_, _| Err(error.lock().unwrap().take().unwrap()));

        let result = mocks.build().refresh("token", ClientInfo::default()).await;

        assert!(matches!(result, Err(RefreshError::InvalidToken)));
    }
}

#[tokio::test]
async fn a_refresh_continues_the_same_family() {
    let family = SessionId::generate();
    let ann = user(Role::User);
    let (ann_id, found) = (ann.id, ann.clone());
    let mut mocks = Mocks::default();
    mocks
        .opaque_tokens
        .expect_hash()
        .returning(|_| TokenHash::from_hex("h".to_owned()));
    mocks
        .sessions
        .expect_consume_refresh_token()
        .returning(move |_, _| {
            Ok(ConsumedRefreshToken {
                user_id: ann_id,
                family_id: family,
            })
        });
    mocks
        .users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(found.clone())));
    mocks.users.expect_find_auth_state().returning(|_| {
        Ok(Some(AuthState {
            role: Role::User,
            session_version: domain::SessionVersion::new(0),
        }))
    });
    mocks.issuer.expect_issue().returning(|_, _, _, _| {
        Ok(AccessToken {
            token: "a".to_owned(),
            expires_in_seconds: 900,
        })
    });
    mocks.opaque_tokens.expect_generate().returning(|| {
        (
            OpaqueToken::new("next".to_owned()),
            TokenHash::from_hex("n".to_owned()),
        )
    });
    mocks
        .sessions
        .expect_rotate()
        .withf(move |token, _| token.family_id == family && token.user_id == ann_id)
        .times(1)
        .returning(|_, _| Ok(()));

    let session = mocks
        .build()
        .refresh("current", ClientInfo::default())
        .await
        .unwrap();

    assert_eq!(session.refresh.expose(), "next");
}

#[tokio::test]
async fn a_reset_request_for_an_unknown_email_stores_and_sends_nothing() {
    let mut mocks = Mocks::default();
    mocks
        .rate_limiter
        .expect_hit()
        .returning(|_, _| decision(4));
    mocks
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(None));

    let result = mocks
        .build()
        .request_password_reset(&Email::parse("nobody@example.com").unwrap())
        .await;

    assert!(result.is_ok());
}

#[tokio::test]
async fn a_reset_request_stores_a_30_minute_token_with_the_job_that_mails_it() {
    let mut mocks = Mocks::default();
    mocks
        .rate_limiter
        .expect_hit()
        .withf(|key, policy| key == "password-resets:ann@example.com" && *policy == POLICY)
        .times(1)
        .returning(|_, _| decision(4));
    mocks
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(Some(credentials())));
    mocks.opaque_tokens.expect_generate().returning(|| {
        (
            OpaqueToken::new("reset".to_owned()),
            TokenHash::from_hex("r".to_owned()),
        )
    });
    mocks
        .resets
        .expect_replace_reset_token()
        .withf(|token| {
            let jobs = token.outbox.jobs();
            token.expires_at == now() + chrono::Duration::minutes(30)
                && token.token_hash.as_str() == "r"
                && jobs.len() == 1
                && jobs[0].kind.as_str() == "mail.password-reset"
                && jobs[0].payload.as_json().contains(r#""token":"reset""#)
        })
        .times(1)
        .returning(|_| Ok(()));
    assert!(
        mocks
            .build()
            .request_password_reset(&Email::parse("ann@example.com").unwrap())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn reset_requests_over_the_per_address_limit_look_the_same_and_send_nothing() {
    let mut mocks = Mocks::default();
    mocks
        .rate_limiter
        .expect_hit()
        .times(1)
        .returning(|_, _| decision(0));
    // No expectation on the users or resets repositories: touching them fails the test.

    let result = mocks
        .build()
        .request_password_reset(&Email::parse("ann@example.com").unwrap())
        .await;

    assert!(result.is_ok());
}

#[tokio::test]
async fn confirming_with_an_invalid_token_is_refused() {
    let mut mocks = Mocks::default();
    mocks
        .opaque_tokens
        .expect_hash()
        .returning(|_| TokenHash::from_hex("h".to_owned()));
    mocks
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$argon2id$new".to_owned())));
    mocks
        .resets
        .expect_reset_password()
        .returning(|_, _, _| Err(ResetPasswordError::InvalidToken));

    let result = mocks
        .build()
        .confirm_password_reset("expired", &Password::parse("a brand new password").unwrap())
        .await;

    assert!(matches!(result, Err(ConfirmResetError::InvalidToken)));
}
