//! `/api/v1/auth`, the signed-in account's own security: email verification, password
//! change, and the caller's sessions.

use application::AuthService;
use application::auth::{
    ChangePasswordError, DeleteSessionError, ResendVerificationError, SessionsError,
    VerifyEmailError,
};
use domain::SessionId;
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::dto::{AuthTokensDto, ChangePasswordBody, SessionDto, SessionPage, VerifyEmailBody};
use crate::api::page::page_request;
use crate::api::{ApiTags, error_responses, respond};
use crate::auth::BearerAuth;
use crate::errors::{ErrorBody, ValidationErrors};
use crate::json::JsonBody;
use crate::response_json::Json;

pub(crate) struct AccountSecurityApi {
    pub(crate) auth: AuthService,
}

#[derive(ApiResponse)]
pub(crate) enum VerifyEmailResponse {
    /// The address is verified.
    #[oai(status = 204)]
    Verified,
    /// Invalid input, or `Invalid or expired token` (unknown, used, expired, superseded by
    /// a newer link, or sent to an address the account no longer has).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum ResendVerificationResponse {
    /// A new link is on its way (earlier links stop working).
    #[oai(status = 202)]
    Accepted,
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// `Email already verified`.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum ChangePasswordResponse {
    /// A new token pair for this session; every other session and every earlier access
    /// token is revoked, and a notice is emailed.
    #[oai(status = 200)]
    Ok(Json<AuthTokensDto>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// `Current password is incorrect`.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many wrong current passwords (counted with failed logins).
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum ListSessionsResponse {
    #[oai(status = 200)]
    Ok(Json<SessionPage>),
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum DeleteSessionResponse {
    /// The session's refresh token and access tokens stop working; its sockets are
    /// disconnected.
    #[oai(status = 204)]
    Deleted,
    /// No live session of the caller has this id (another user's session included).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[derive(ApiResponse)]
pub(crate) enum LogoutAllResponse {
    /// Every session of the caller is over, this one included.
    #[oai(status = 204)]
    LoggedOut,
    #[oai(status = 500)]
    InternalError(Json<ErrorBody>),
}

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl AccountSecurityApi {
    /// Verify an email address with the token from its link (single use, 24 hours).
    #[oai(path = "/verify-email", method = "post", operation_id = "verifyEmail")]
    async fn verify_email(&self, body: JsonBody<VerifyEmailBody>) -> VerifyEmailResponse {
        let token = match body.0.token() {
            Ok(token) => token,
            Err(errors) => return VerifyEmailResponse::BadRequest(errors.into_body()),
        };
        respond(self.auth.verify_email(token).await, |()| {
            VerifyEmailResponse::Verified
        })
    }

    /// Send a new verification link to the caller's address.
    #[oai(
        path = "/verify-email/resend",
        method = "post",
        operation_id = "resendVerificationEmail"
    )]
    async fn resend_verification(&self, auth: BearerAuth) -> ResendVerificationResponse {
        respond(self.auth.resend_verification(auth.0.actor).await, |()| {
            ResendVerificationResponse::Accepted
        })
    }

    /// Change the caller's password (the current one is required).
    #[oai(path = "/password", method = "post", operation_id = "changePassword")]
    async fn change_password(
        &self,
        auth: BearerAuth,
        body: JsonBody<ChangePasswordBody>,
    ) -> ChangePasswordResponse {
        let (current, new) = match body.0.parse() {
            Ok(passwords) => passwords,
            Err(errors) => return ChangePasswordResponse::BadRequest(errors.into_body()),
        };
        respond(
            self.auth.change_password(auth.0, &current, &new).await,
            |session| ChangePasswordResponse::Ok(Json(session.into())),
        )
    }

    /// The caller's live sessions, newest first; `current` marks this request's.
    #[oai(path = "/sessions", method = "get", operation_id = "listSessions")]
    async fn list_sessions(
        &self,
        auth: BearerAuth,
        page: Query<Option<u32>>,
        limit: Query<Option<u32>>,
    ) -> ListSessionsResponse {
        let mut errors = ValidationErrors::default();
        let Some(page) = page_request(page.0, limit.0, &mut errors) else {
            return ListSessionsResponse::BadRequest(errors.into_body());
        };
        respond(self.auth.list_sessions(auth.0, page).await, |sessions| {
            ListSessionsResponse::Ok(Json(SessionPage::map(sessions, |session| {
                SessionDto::new(session, auth.0.session_id)
            })))
        })
    }

    /// End one of the caller's sessions.
    #[oai(
        path = "/sessions/:id",
        method = "delete",
        operation_id = "deleteSession"
    )]
    async fn delete_session(&self, auth: BearerAuth, id: Path<Uuid>) -> DeleteSessionResponse {
        respond(
            self.auth
                .delete_session(auth.0, SessionId::from_uuid(id.0))
                .await,
            |()| DeleteSessionResponse::Deleted,
        )
    }

    /// End every session of the caller, this one included.
    #[oai(path = "/logout-all", method = "post", operation_id = "logoutAll")]
    async fn logout_all(&self, auth: BearerAuth) -> LogoutAllResponse {
        respond(self.auth.logout_all(auth.0).await, |()| {
            LogoutAllResponse::LoggedOut
        })
    }
}

impl From<ChangePasswordError> for ChangePasswordResponse {
    fn from(error: ChangePasswordError) -> Self {
        match error {
            ChangePasswordError::IncorrectPassword => {
                Self::Unprocessable(ErrorBody::new(error.to_string()))
            }
            ChangePasswordError::TooManyAttempts { retry_after } => Self::TooManyRequests(
                ErrorBody::new(error.to_string()),
                retry_after.as_secs().max(1),
            ),
            ChangePasswordError::NotFound(_) => Self::NotFound(ErrorBody::new(error.to_string())),
            ChangePasswordError::Unexpected(error) => {
                Self::InternalError(ErrorBody::internal(&error))
            }
        }
    }
}

error_responses! {
    VerifyEmailError => VerifyEmailResponse {
        VerifyEmailError::InvalidToken => BadRequest,
    },
    SessionsError => ListSessionsResponse {},
    SessionsError => LogoutAllResponse {},
    ResendVerificationError => ResendVerificationResponse {
        ResendVerificationError::AlreadyVerified => Conflict,
        ResendVerificationError::NotFound(_) => NotFound,
    },
    DeleteSessionError => DeleteSessionResponse {
        DeleteSessionError::NotFound(_) => NotFound,
    },
}
