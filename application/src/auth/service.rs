//! The authentication use cases: sign-up, login, refresh and logout (password reset is in
//! `reset`), and the ports and settings they share.

use std::sync::Arc;
use std::time::Duration;

use domain::ports::{
    AccessToken, Clock, ConsumeRefreshTokenError, EmailVerificationRepository, EventPublisher,
    OpaqueTokenGenerator, PasswordHashError, PasswordHasher, PasswordResetRepository, RateLimiter,
    RatePolicy, SessionRepository, TokenIssuer, UserRepository,
};
use domain::{
    Actor, AuthState, ClientInfo, Email, OpaqueToken, Password, PasswordHash, RevocationReason,
    Role, SessionVersion, User, UserName,
};

use super::errors::{LoginError, LogoutError, RefreshError, RegisterError};
use crate::auth_states::{AuthStates, SessionStates};
use crate::users::{CreateUser, EnrolError, Enrolment, SendWelcome};

/// Lifetimes and limits of the authentication flows.
#[derive(Debug, Clone, Copy)]
pub struct AuthConfig {
    pub refresh_token_ttl: Duration,
    pub reset_token_ttl: Duration,
    /// How long an email-verification link works.
    pub verification_token_ttl: Duration,
    /// Refuse login and refresh to users whose address is not verified.
    pub require_verified_email: bool,
    /// Failed logins allowed per account within the window, before 429.
    pub failed_login_policy: RatePolicy,
    /// Reset (and verification) emails sent per address within the window; requests past
    /// it are answered like any other and send nothing (a mailbox cannot be flooded through
    /// this API).
    pub reset_request_policy: RatePolicy,
}

/// The ports the authentication use cases drive.
#[derive(Clone)]
#[allow(missing_debug_implementations)] // trait objects; nothing useful to print
pub struct AuthPorts {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub resets: Arc<dyn PasswordResetRepository>,
    pub verifications: Arc<dyn EmailVerificationRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub issuer: Arc<dyn TokenIssuer>,
    pub opaque_tokens: Arc<dyn OpaqueTokenGenerator>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub clock: Arc<dyn Clock>,
    pub auth_states: Arc<AuthStates>,
    pub session_states: Arc<SessionStates>,
    /// Tells the realtime gateway which sessions ended, to disconnect their sockets.
    pub events: Arc<dyn EventPublisher>,
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
    pub async fn register(
        &self,
        command: Register,
        client: ClientInfo,
    ) -> Result<IssuedSession, RegisterError> {
        let enrolment = Enrolment {
            hasher: self.ports.hasher.as_ref(),
            opaque_tokens: self.ports.opaque_tokens.as_ref(),
            clock: self.ports.clock.as_ref(),
            users: self.ports.users.as_ref(),
            verification_ttl: self.config.verification_token_ttl,
        };
        let command = CreateUser {
            email: command.email,
            password: command.password,
            name: command.name,
            role: Role::User,
        };
        let user =
            enrolment
                .enrol(command, SendWelcome::Yes)
                .await
                .map_err(|error| match error {
                    EnrolError::EmailTaken => RegisterError::EmailTaken,
                    EnrolError::Unexpected(error) => error.into(),
                })?;
        tracing::info!(user_id = %user.id, "registered");
        let state = AuthState {
            role: user.role,
            session_version: SessionVersion::INITIAL,
        };
        Ok(self.start_session(user, state, client).await?)
    }

    /// Password login. An unknown email and a wrong password take the same time and give
    /// the same error; an account gets at most `failed_login_policy.limit` password checks
    /// per window that did not succeed, however many arrive at once.
    #[tracing::instrument(name = "AuthService.login", skip_all)]
    pub async fn login(
        &self,
        email: &Email,
        password: &Password,
        client: ClientInfo,
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
        // Told only to whoever knows the password: no enumeration of unverified accounts.
        if self.config.require_verified_email && !user.email_verified {
            return Err(LoginError::EmailNotVerified);
        }
        let state = self
            .ports
            .users
            .find_auth_state(user.id)
            .await?
            .ok_or(LoginError::InvalidCredentials)?;
        Ok(self.start_session(user, state, client).await?)
    }

    /// Exchanges a refresh token for a new pair. The presented token is spent; presenting a
    /// spent token again revokes its whole family (someone holds a stolen copy).
    #[tracing::instrument(name = "AuthService.refresh", skip_all)]
    pub async fn refresh(
        &self,
        presented: &str,
        client: ClientInfo,
    ) -> Result<IssuedSession, RefreshError> {
        let now = self.ports.clock.now();
        let hash = self.ports.opaque_tokens.hash(presented);
        let consumed = match self.ports.sessions.consume_refresh_token(&hash, now).await {
            Ok(consumed) => consumed,
            Err(ConsumeRefreshTokenError::AlreadyUsed { user_id, family_id }) => {
                tracing::warn!(%user_id, %family_id, "refresh token reused: revoking its family");
                self.ports.sessions.revoke(family_id, now).await?;
                self.ended(user_id, Some(family_id), RevocationReason::LoggedOut)
                    .await;
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
        if self.config.require_verified_email && !user.email_verified {
            return Err(RefreshError::EmailNotVerified);
        }
        let state = self
            .ports
            .users
            .find_auth_state(user.id)
            .await?
            .ok_or(RefreshError::InvalidToken)?;
        let (session, token) = self.next_refresh_token(user.id, consumed.family_id)?;
        self.ports.sessions.rotate(token, client).await?;
        Ok(self.issue(user, state, consumed.family_id, session)?)
    }

    /// Ends the session the refresh token belongs to (if it is the caller's): its refresh
    /// token and its access tokens stop working.
    #[tracing::instrument(name = "AuthService.logout", skip_all, fields(actor = %actor.user_id))]
    pub async fn logout(&self, actor: Actor, presented: &str) -> Result<(), LogoutError> {
        let hash = self.ports.opaque_tokens.hash(presented);
        let ended = self
            .ports
            .sessions
            .revoke_by_token(&hash, actor.user_id, self.ports.clock.now())
            .await?;
        if let Some(session) = ended {
            self.ended(actor.user_id, Some(session), RevocationReason::LoggedOut)
                .await;
        }
        Ok(())
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
