//! The authenticator with mocked ports: every way a token is refused, and the caches.

use chrono::{Duration, TimeZone, Utc};
use domain::ports::{
    AccessClaims, InvalidToken, MockClock, MockSessionRepository, MockTokenVerifier,
    MockUserRepository, RepositoryError,
};
use domain::{AuthState, Role, SessionId, UserId};

use super::*;

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(|| Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    Arc::new(clock)
}

fn verifier_for(user_id: UserId, session_version: i64) -> Arc<MockTokenVerifier> {
    let mut verifier = MockTokenVerifier::new();
    verifier.expect_verify().returning(move |token, now| {
        if token == "good" {
            Ok(AccessClaims {
                user_id,
                role: Role::User,
                session_id: session(),
                session_version: domain::SessionVersion::new(session_version),
                issued_at: now,
                expires_at: now + Duration::minutes(15),
            })
        } else {
            Err(InvalidToken)
        }
    });
    Arc::new(verifier)
}

fn session() -> SessionId {
    SessionId::from_uuid(uuid::Uuid::from_u128(7))
}

fn live_sessions(live: bool) -> Arc<SessionStates> {
    let mut sessions = MockSessionRepository::new();
    sessions
        .expect_is_live()
        .withf(|id| *id == session())
        .returning(move |_| Ok(live));
    Arc::new(SessionStates::new(
        Arc::new(sessions),
        clock(),
        Duration::seconds(1),
    ))
}

fn authenticator(verifier: Arc<MockTokenVerifier>, users: MockUserRepository) -> Authenticator {
    authenticator_with(verifier, users, live_sessions(true))
}

fn authenticator_with(
    verifier: Arc<MockTokenVerifier>,
    users: MockUserRepository,
    sessions: Arc<SessionStates>,
) -> Authenticator {
    let states = Arc::new(AuthStates::new(
        Arc::new(users),
        clock(),
        Duration::seconds(1),
    ));
    Authenticator::new(verifier, states, sessions, clock())
}

fn users_with(state: Option<AuthState>) -> MockUserRepository {
    let mut users = MockUserRepository::new();
    users.expect_find_auth_state().returning(move |_| Ok(state));
    users
}

#[tokio::test]
async fn a_valid_token_authenticates_with_the_users_current_role() {
    let user_id = UserId::generate();
    let users = users_with(Some(AuthState {
        role: Role::Admin,
        session_version: domain::SessionVersion::new(3),
    }));

    let caller = authenticator(verifier_for(user_id, 3), users)
        .authenticate("good")
        .await
        .unwrap();

    assert_eq!(
        caller,
        Caller {
            actor: Actor {
                user_id,
                role: Role::Admin
            },
            session_id: session(),
        }
    );
}

#[tokio::test]
async fn a_token_of_a_revoked_session_is_invalid() {
    let users = users_with(Some(AuthState {
        role: Role::User,
        session_version: domain::SessionVersion::new(0),
    }));

    let result = authenticator_with(
        verifier_for(UserId::generate(), 0),
        users,
        live_sessions(false),
    )
    .authenticate("good")
    .await;

    assert!(matches!(result, Err(AuthenticateError::InvalidToken)));
}

#[tokio::test]
async fn session_states_are_read_once_per_ttl_and_invalidation_forces_a_read() {
    let mut sessions = MockSessionRepository::new();
    sessions.expect_is_live().times(2).returning(|_| Ok(true));
    let states = SessionStates::new(Arc::new(sessions), clock(), Duration::seconds(1));

    assert!(states.is_live(session()).await.unwrap());
    assert!(states.is_live(session()).await.unwrap());
    states.invalidate(session());
    assert!(states.is_live(session()).await.unwrap());
}

#[tokio::test]
async fn a_token_the_verifier_rejects_is_invalid_without_a_lookup() {
    let result = authenticator(
        verifier_for(UserId::generate(), 0),
        MockUserRepository::new(),
    )
    .authenticate("bad")
    .await;

    assert!(matches!(result, Err(AuthenticateError::InvalidToken)));
}

#[tokio::test]
async fn a_token_of_a_deleted_user_is_invalid() {
    let result = authenticator(verifier_for(UserId::generate(), 0), users_with(None))
        .authenticate("good")
        .await;

    assert!(matches!(result, Err(AuthenticateError::InvalidToken)));
}

#[tokio::test]
async fn a_token_from_an_older_session_version_is_invalid() {
    let users = users_with(Some(AuthState {
        role: Role::User,
        session_version: domain::SessionVersion::new(1),
    }));

    let result = authenticator(verifier_for(UserId::generate(), 0), users)
        .authenticate("good")
        .await;

    assert!(matches!(result, Err(AuthenticateError::InvalidToken)));
}

#[tokio::test]
async fn a_storage_failure_is_unexpected_not_invalid() {
    let mut users = MockUserRepository::new();
    users
        .expect_find_auth_state()
        .returning(|_| Err(RepositoryError(anyhow::anyhow!("down"))));

    let result = authenticator(verifier_for(UserId::generate(), 0), users)
        .authenticate("good")
        .await;

    assert!(matches!(result, Err(AuthenticateError::Unexpected(_))));
}

#[tokio::test]
async fn auth_states_are_read_once_per_ttl_and_invalidation_forces_a_read() {
    let user_id = UserId::generate();
    let mut users = MockUserRepository::new();
    users.expect_find_auth_state().times(2).returning(|_| {
        Ok(Some(AuthState {
            role: Role::User,
            session_version: domain::SessionVersion::new(0),
        }))
    });
    let states = Arc::new(AuthStates::new(
        Arc::new(users),
        clock(),
        Duration::seconds(1),
    ));
    let authenticator = Authenticator::new(
        verifier_for(user_id, 0),
        Arc::clone(&states),
        live_sessions(true),
        clock(),
    );

    authenticator.authenticate("good").await.unwrap();
    authenticator.authenticate("good").await.unwrap();
    states.invalidate(user_id);
    authenticator.authenticate("good").await.unwrap();
}

#[tokio::test]
async fn a_read_under_way_when_its_entry_is_invalidated_is_not_cached() {
    // The repository's answer comes back after the state was invalidated (the user was
    // revoked meanwhile): that answer is returned to its caller but not kept.
    let states: Arc<std::sync::OnceLock<Arc<SessionStates>>> = Arc::default();
    // Weak: a strong reference would be a cycle, and the mock's expectations are checked
    // when it is dropped.
    let revoking = Arc::downgrade(&states);
    let mut sessions = MockSessionRepository::new();
    let mut reads = 0;
    sessions.expect_is_live().times(2).returning(move |id| {
        reads += 1;
        if reads == 1 {
            let states = revoking.upgrade().expect("the test holds the states");
            states.get().expect("the states are set").invalidate(id);
        }
        Ok(reads == 1)
    });
    let _ = states.set(Arc::new(SessionStates::new(
        Arc::new(sessions),
        clock(),
        Duration::seconds(1),
    )));
    let states = states.get().expect("just set");

    assert!(states.is_live(session()).await.unwrap());
    assert!(!states.is_live(session()).await.unwrap());
    assert!(!states.is_live(session()).await.unwrap(), "cached");
}
