//! The authentication use cases: sign-up, login, refresh and logout (password reset is in
//! `reset`), and the ports and settings they share.

use std::sync::Arc;
use std::time::Duration;

use domain::ports::{
    AccessToken, Clock, ConsumeRefreshTokenError, InsertUserError, OpaqueTokenGenerator,
    PasswordHashError, PasswordHasher, PasswordResetRepository, RateLimiter, RatePolicy,
    SessionRepository, TokenIssuer, UserRepository,
};
use domain::{
    Actor, AuthState, Email, NewRefreshToken, NewUser, OpaqueToken, Password, PasswordHash, Role,
    User, UserId, UserName,
};
use uuid::Uuid;

use super::errors::{LoginError, LogoutError, RefreshError, RegisterError};
use crate::auth_states::AuthStates;
use crate::jobs::welcome_email_job;

/// Lifetimes and limits of the authentication flows.
#[derive(Debug, Clone, Copy)]
pub struct AuthConfig {
    pub refresh_token_ttl: Duration,
    pub reset_token_ttl: Duration,
    /// Failed logins allowed per account within the window, before 429.
    pub failed_login_policy: RatePolicy,
    /// Reset emails sent per address within the window; requests past it are answered
    /// like any other and send nothing (a mailbox cannot be flooded through this API).
    pub reset_request_policy: RatePolicy,
}

/// The ports the authentication use cases drive.
#[derive(Clone)]
#[allow(missing_debug_implementations)] // trait objects; nothing useful to print
pub struct AuthPorts {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub resets: Arc<dyn PasswordResetRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub issuer: Arc<dyn TokenIssuer>,
    pub opaque_tokens: Arc<dyn OpaqueTokenGenerator>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub clock: Arc<dyn Clock>,
    pub auth_states: Arc<AuthStates>,
}

/// A new self-service account, already parsed.
#[derive(Debug)]
pub struct Register {
    pub email: Email,
    pub password: Password,
    pub name: Option<UserName>,
}

/// The tokens of a session and the user they belong to.
#[derive(Debug)]
pub struct IssuedSession {
    pub user: User,
    pub access: AccessToken,
    pub refresh: OpaqueToken,
}

/// The authentication use cases.
#[derive(Clone)]
pub struct AuthService {
    pub(super) ports: AuthPorts,
    pub(super) config: AuthConfig,
    /// A hash verified against when the email is unknown, so that an unknown email costs
    /// the same time as a wrong password.
    dummy_hash: Arc<std::sync::Mutex<Option<PasswordHash>>>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AuthService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    pub fn new(ports: AuthPorts, config: AuthConfig) -> Self {
        Self {
            ports,
            config,
            dummy_hash: Arc::default(),
        }
    }

    /// Self-service sign-up: always the `user` role. The welcome email is queued in the
    /// same transaction as the user: no user without their email, no email for a user that
    /// was rolled back.
    #[tracing::instrument(name = "AuthService.register", skip_all)]
    pub async fn register(&self, command: Register) -> Result<IssuedSession, RegisterError> {
        let password_hash = self.ports.hasher.hash(&command.password).await?;
        let now = self.ports.clock.now();
        let id = UserId::generate();
        let user = self
            .ports
            .users
            .insert(
                NewUser {
                    id,
                    email: command.email,
                    name: command.name,
                    role: Role::User,
                    password_hash,
                    created_at: now,
                },
                vec![welcome_email_job(id, now)],
            )
            .await
            .map_err(|error| match error {
                InsertUserError::EmailTaken => RegisterError::EmailTaken,
                InsertUserError::Unexpected(error) => error.into(),
            })?;
        tracing::info!(user_id = %user.id, "registered");
        let state = AuthState {
            role: user.role,
            session_version: 0,
        };
        Ok(self.start_session(user, state, Uuid::now_v7()).await?)
    }

    /// Password login. An unknown email and a wrong password take the same time and give
    /// the same error; an account gets at most `failed_login_policy.limit` password checks
    /// per window that did not succeed, however many arrive at once.
    #[tracing::instrument(name = "AuthService.login", skip_all)]
    pub async fn login(
        &self,
        email: &Email,
        password: &Password,
    ) -> Result<IssuedSession, LoginError> {
        // The attempt is counted before the password is checked, atomically, and only a
        // success takes it back: parallel guesses cannot all read "under the limit" first
        // and be checked, as they could if the count were raised after each failure.
        let failures_key = format!("failed-logins:{email}");
        let policy = self.config.failed_login_policy;
        let attempt = self.ports.rate_limiter.hit(&failures_key, policy).await;
        if !attempt.allowed {
            return Err(LoginError::TooManyAttempts {
                retry_after: attempt.reset_after,
            });
        }
        let credentials = self.ports.users.find_credentials_by_email(email).await?;
        let verified = if let Some(credentials) = &credentials {
            self.ports
                .hasher
                .verify(password, &credentials.password_hash)
                .await?
        } else {
            let dummy = self.dummy_hash().await?;
            self.ports.hasher.verify(password, &dummy).await?;
            false
        };
        let Some(credentials) = credentials.filter(|_| verified) else {
            return Err(LoginError::InvalidCredentials);
        };
        self.ports.rate_limiter.reset(&failures_key).await;
        let user = credentials.user;
        let state = self
            .ports
            .users
            .find_auth_state(user.id)
            .await?
            .ok_or(LoginError::InvalidCredentials)?;
        Ok(self.start_session(user, state, Uuid::now_v7()).await?)
    }

    /// Exchanges a refresh token for a new pair. The presented token is spent; presenting a
    /// spent token again revokes its whole family (someone holds a stolen copy).
    #[tracing::instrument(name = "AuthService.refresh", skip_all)]
    pub async fn refresh(&self, presented: &str) -> Result<IssuedSession, RefreshError> {
        let now = self.ports.clock.now();
        let hash = self.ports.opaque_tokens.hash(presented);
        let consumed = match self.ports.sessions.consume_refresh_token(&hash, now).await {
            Ok(consumed) => consumed,
            Err(ConsumeRefreshTokenError::AlreadyUsed { user_id, family_id }) => {
                tracing::warn!(%user_id, %family_id, "refresh token reused: revoking its family");
                self.ports.sessions.revoke_family(family_id, now).await?;
                return Err(RefreshError::InvalidToken);
            }
            Err(
                ConsumeRefreshTokenError::Unknown
                | ConsumeRefreshTokenError::Expired
                | ConsumeRefreshTokenError::Revoked,
            ) => return Err(RefreshError::InvalidToken),
            Err(ConsumeRefreshTokenError::Unexpected(error)) => return Err(error.into()),
        };
        let user = self
            .ports
            .users
            .find_by_id(consumed.user_id)
            .await?
            .ok_or(RefreshError::InvalidToken)?;
        let state = self
            .ports
            .users
            .find_auth_state(user.id)
            .await?
            .ok_or(RefreshError::InvalidToken)?;
        Ok(self.start_session(user, state, consumed.family_id).await?)
    }

    /// Ends the session the refresh token belongs to (if it is the caller's).
    #[tracing::instrument(name = "AuthService.logout", skip_all, fields(actor = %actor.user_id))]
    pub async fn logout(&self, actor: Actor, presented: &str) -> Result<(), LogoutError> {
        let hash = self.ports.opaque_tokens.hash(presented);
        self.ports
            .sessions
            .revoke_family_of(&hash, actor.user_id, self.ports.clock.now())
            .await?;
        Ok(())
    }

    async fn start_session(
        &self,
        user: User,
        state: AuthState,
        family_id: Uuid,
    ) -> anyhow::Result<IssuedSession> {
        let now = self.ports.clock.now();
        let actor = Actor {
            user_id: user.id,
            role: state.role,
        };
        let access = self.ports.issuer.issue(actor, state.session_version, now)?;
        let (refresh, token_hash) = self.ports.opaque_tokens.generate();
        self.ports
            .sessions
            .insert_refresh_token(NewRefreshToken {
                id: Uuid::now_v7(),
                user_id: user.id,
                family_id,
                token_hash,
                created_at: now,
                expires_at: now + chrono::Duration::from_std(self.config.refresh_token_ttl)?,
            })
            .await?;
        Ok(IssuedSession {
            user,
            access,
            refresh,
        })
    }

    async fn dummy_hash(&self) -> Result<PasswordHash, PasswordHashError> {
        if let Some(hash) = self.dummy_hash.lock().expect("dummy hash lock").clone() {
            return Ok(hash);
        }
        // Two first callers may both compute it; either result serves.
        let password =
            Password::parse("a password nobody has, for timing").expect("a valid password");
        let hash = self.ports.hasher.hash(&password).await?;
        *self.dummy_hash.lock().expect("dummy hash lock") = Some(hash.clone());
        Ok(hash)
    }
}
