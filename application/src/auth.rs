//! Authentication of API callers: from a bearer token to an [`Actor`].

use std::sync::Arc;

use domain::Actor;
use domain::ports::{Clock, TokenVerifier};

/// Why a bearer token does not authenticate anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthenticateError {
    #[error("Invalid token")]
    InvalidToken,
}

/// Turns bearer tokens into actors.
#[derive(Clone)]
pub struct Authenticator {
    verifier: Arc<dyn TokenVerifier>,
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
    pub fn new(verifier: Arc<dyn TokenVerifier>, clock: Arc<dyn Clock>) -> Self {
        Self { verifier, clock }
    }

    /// The actor a bearer token stands for.
    pub fn authenticate(&self, token: &str) -> Result<Actor, AuthenticateError> {
        self.verifier
            .verify(token, self.clock.now())
            .map(|claims| claims.actor())
            .map_err(|_| AuthenticateError::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use domain::ports::{AccessClaims, InvalidToken, MockClock, MockTokenVerifier};
    use domain::{Role, UserId};

    use super::*;

    fn fixed_clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        Arc::new(clock)
    }

    #[test]
    fn a_valid_token_authenticates_its_subject_with_its_role() {
        let user_id = UserId::generate();
        let mut verifier = MockTokenVerifier::new();
        verifier
            .expect_verify()
            .withf(|token, _| token == "good")
            .returning(move |_, now| {
                Ok(AccessClaims {
                    user_id,
                    role: Role::Admin,
                    issued_at: now,
                    expires_at: now + Duration::minutes(15),
                })
            });
        let authenticator = Authenticator::new(Arc::new(verifier), fixed_clock());

        let actor = authenticator.authenticate("good").unwrap();

        assert_eq!(
            actor,
            Actor {
                user_id,
                role: Role::Admin
            }
        );
    }

    #[test]
    fn a_token_the_verifier_rejects_is_an_invalid_token() {
        let mut verifier = MockTokenVerifier::new();
        verifier.expect_verify().returning(|_, _| Err(InvalidToken));
        let authenticator = Authenticator::new(Arc::new(verifier), fixed_clock());

        assert_eq!(
            authenticator.authenticate("bad"),
            Err(AuthenticateError::InvalidToken)
        );
    }
}
