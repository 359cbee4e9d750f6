//! Authentication of API callers: from a bearer token to an [`Actor`].
//!
//! A token must verify (signature, algorithm, issuer, audience, time) *and* still match
//! its user: the user must exist and have the session version the token was issued at.
//! Role changes and password resets increment the version, so older tokens stop working.

use std::sync::Arc;

use domain::Actor;
use domain::ports::{Clock, TokenVerifier};

use crate::auth_states::AuthStates;

/// Why a bearer token does not authenticate anyone.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    #[error("Invalid token")]
    InvalidToken,
    #[error("could not check the token's user")]
    Unexpected(#[source] anyhow::Error),
}

/// Turns bearer tokens into actors.
#[derive(Clone)]
pub struct Authenticator {
    verifier: Arc<dyn TokenVerifier>,
    auth_states: Arc<AuthStates>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Authenticator")
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(
        verifier: Arc<dyn TokenVerifier>,
        auth_states: Arc<AuthStates>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            verifier,
            auth_states,
            clock,
        }
    }

    /// The actor a bearer token stands for, with the user's current role.
    #[tracing::instrument(name = "Authenticator.authenticate", level = "debug", skip_all)]
    pub async fn authenticate(&self, token: &str) -> Result<Actor, AuthenticateError> {
        let claims = self
            .verifier
            .verify(token, self.clock.now())
            .map_err(|_| AuthenticateError::InvalidToken)?;
        let state = self
            .auth_states
            .get(claims.user_id)
            .await
            .map_err(|error| AuthenticateError::Unexpected(error.into()))?
            .ok_or(AuthenticateError::InvalidToken)?;
        if state.session_version != claims.session_version {
            return Err(AuthenticateError::InvalidToken);
        }
        Ok(Actor {
            user_id: claims.user_id,
            role: state.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use domain::ports::{
        AccessClaims, InvalidToken, MockClock, MockTokenVerifier, MockUserRepository,
        RepositoryError,
    };
    use domain::{AuthState, Role, UserId};

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
                    session_version,
                    issued_at: now,
                    expires_at: now + Duration::minutes(15),
                })
            } else {
                Err(InvalidToken)
            }
        });
        Arc::new(verifier)
    }

    fn authenticator(verifier: Arc<MockTokenVerifier>, users: MockUserRepository) -> Authenticator {
        let states = Arc::new(AuthStates::new(
            Arc::new(users),
            clock(),
            Duration::seconds(1),
        ));
        Authenticator::new(verifier, states, clock())
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
            session_version: 3,
        }));

        let actor = authenticator(verifier_for(user_id, 3), users)
            .authenticate("good")
            .await
            .unwrap();

        assert_eq!(
            actor,
            Actor {
                user_id,
                role: Role::Admin
            }
        );
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
            session_version: 1,
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
                session_version: 0,
            }))
        });
        let states = Arc::new(AuthStates::new(
            Arc::new(users),
            clock(),
            Duration::seconds(1),
        ));
        let authenticator =
            Authenticator::new(verifier_for(user_id, 0), Arc::clone(&states), clock());

        authenticator.authenticate("good").await.unwrap();
        authenticator.authenticate("good").await.unwrap();
        states.invalidate(user_id);
        authenticator.authenticate("good").await.unwrap();
    }
}
