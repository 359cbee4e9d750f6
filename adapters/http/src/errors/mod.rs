//! Error bodies and the mapping of every error to a JSON response.
//!
//! Every error the service returns has the body `{"error", "requestId"[, "details"]}`.
//! Handlers build them through [`ErrorBody`]; errors raised before a handler runs (unknown
//! route, wrong method, bad content type, unparsable body or parameter, missing or invalid
//! token, body too large, panic) reach [`error_response`] as `poem::Error`s and get the
//! same shape there.

use std::collections::BTreeMap;

use domain::ports::is_storage_unavailable;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::Object;
use serde::Serialize;
use serde_json::{Value, json};

mod parameters;

use self::parameters::parameter_message;
use crate::request_context::{current_request_id, expose_error_details, record_unavailable};
use crate::response_json::Json;

/// The `error` of a 503: a dependency the request needs (the database) is unavailable.
pub(crate) const SERVICE_UNAVAILABLE: &str = "Service unavailable";

/// The JSON body of every error response.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Error", rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    /// A short message for humans, e.g. `Forbidden` or `Validation failed`.
    pub(crate) error: String,
    /// The request's id, also in the `x-request-id` header; quote it when reporting a problem.
    pub(crate) request_id: String,
    /// Validation failures: `{"formErrors": [..], "fieldErrors": {"<field>": [..]}}`;
    /// in development, an internal error's message and cause chain.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) details: Option<Value>,
}

impl ErrorBody {
    pub(crate) fn new(error: impl Into<String>) -> Json<Self> {
        Json(Self {
            error: error.into(),
            request_id: current_request_id(),
            details: None,
        })
    }

    /// The body of a 500: generic for clients; the cause chain goes to the log, and into
    /// `details` only in development. When the cause is unavailable storage, the body says
    /// `Service unavailable` and the request log turns the status into 503.
    pub(crate) fn internal(error: &anyhow::Error) -> Json<Self> {
        let unavailable = is_storage_unavailable(error.as_ref());
        let message = if unavailable {
            record_unavailable();
            tracing::warn!(error = format!("{error:#}"), "a dependency is unavailable");
            SERVICE_UNAVAILABLE
        } else {
            tracing::error!(error = format!("{error:#}"), "request failed unexpectedly");
            "Internal server error"
        };
        let details = expose_error_details()
            .then(|| json!({ "message": error.to_string(), "causes": error.chain().skip(1).map(ToString::to_string).collect::<Vec<_>>() }));
        Json(Self {
            error: message.to_owned(),
            request_id: current_request_id(),
            details,
        })
    }
}

/// Everything wrong with a request's input, in zod's `flatten()` shape.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ValidationErrors {
    form_errors: Vec<String>,
    field_errors: BTreeMap<String, Vec<String>>,
}

impl ValidationErrors {
    /// A problem with the input as a whole.
    pub(crate) fn form(message: impl Into<String>) -> Self {
        Self {
            form_errors: vec![message.into()],
            ..Self::default()
        }
    }

    /// A problem with one field.
    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.field_errors
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// The value if `result` is `Ok`; otherwise records its error under `field`.
    pub(crate) fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        result
            .map_err(|error| self.add(field, error.to_string()))
            .ok()
    }

    /// The value if `result` is `Ok`; otherwise adds its errors to these (a body's errors
    /// beside a header's, say).
    pub(crate) fn absorb<T>(&mut self, result: Result<T, Self>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(errors) => {
                self.form_errors.extend(errors.form_errors);
                for (field, messages) in errors.field_errors {
                    self.field_errors.entry(field).or_default().extend(messages);
                }
                None
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.form_errors.is_empty() && self.field_errors.is_empty()
    }

    fn to_json(&self) -> Value {
        json!({ "formErrors": self.form_errors, "fieldErrors": self.field_errors })
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Validation failed")
    }
}

impl std::error::Error for ValidationErrors {}

impl poem::error::ResponseError for ValidationErrors {
    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

impl ValidationErrors {
    pub(crate) fn into_body(self) -> Json<ErrorBody> {
        let mut body = ErrorBody::new("Validation failed");
        body.details = Some(self.to_json());
        body
    }
}

/// A bearer token was presented but does not authenticate anyone.
#[derive(Debug, thiserror::Error)]
#[error("Invalid token")]
pub(crate) struct InvalidTokenError;

impl poem::error::ResponseError for InvalidTokenError {
    fn status(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }
}

/// The request body is larger than the configured limit.
#[derive(Debug, thiserror::Error)]
#[error("Payload too large")]
pub(crate) struct PayloadTooLargeError;

impl poem::error::ResponseError for PayloadTooLargeError {
    fn status(&self) -> StatusCode {
        StatusCode::PAYLOAD_TOO_LARGE
    }
}

/// A request body did not arrive within the body read deadline.
#[derive(Debug, thiserror::Error)]
#[error("Request timeout")]
pub(crate) struct RequestTimeoutError;

impl poem::error::ResponseError for RequestTimeoutError {
    fn status(&self) -> StatusCode {
        StatusCode::REQUEST_TIMEOUT
    }
}

/// Turns any error that escaped a handler into the JSON error response.
pub(crate) fn error_response(error: &poem::Error) -> Response {
    use poem::error::{MethodNotAllowedError, NotFoundError};
    use poem_openapi::error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError,
        ParseRequestPayloadError,
    };

    let (status, body) = if let Some(validation) = error.downcast_ref::<ValidationErrors>() {
        (StatusCode::BAD_REQUEST, validation.clone().into_body())
    } else if let Some(parse) = error.downcast_ref::<ParseParamError>() {
        // Every path parameter of this API is an id.
        if parse.name == "id" {
            (StatusCode::BAD_REQUEST, ErrorBody::new("Invalid ID format"))
        } else {
            (
                StatusCode::BAD_REQUEST,
                ValidationErrors::field(parse.name, parameter_message(&parse.reason)).into_body(),
            )
        }
    } else if let Some(parse) = error.downcast_ref::<ParseRequestPayloadError>() {
        (
            StatusCode::BAD_REQUEST,
            ValidationErrors::form(&parse.reason).into_body(),
        )
    } else if error.is::<ParsePathError>() {
        // Every path parameter of this API is an id.
        (StatusCode::BAD_REQUEST, ErrorBody::new("Invalid ID format"))
    } else if error.is::<AuthorizationError>() {
        (
            StatusCode::UNAUTHORIZED,
            ErrorBody::new("Authentication required"),
        )
    } else if error.is::<InvalidTokenError>() {
        (StatusCode::UNAUTHORIZED, ErrorBody::new("Invalid token"))
    } else if error.is::<NotFoundError>() {
        (StatusCode::NOT_FOUND, ErrorBody::new("Not found"))
    } else if error.is::<MethodNotAllowedError>() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorBody::new("Method not allowed"),
        )
    } else if error.is::<ContentTypeError>() {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorBody::new("Unsupported media type"),
        )
    } else if error.is::<RequestTimeoutError>() {
        (
            StatusCode::REQUEST_TIMEOUT,
            ErrorBody::new("Request timeout"),
        )
    } else if error.is::<PayloadTooLargeError>() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorBody::new("Payload too large"),
        )
    } else if error.status() == StatusCode::SERVICE_UNAVAILABLE {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorBody::new(SERVICE_UNAVAILABLE),
        )
    } else if error.status().is_client_error() {
        let status = error.status();
        (
            status,
            ErrorBody::new(status.canonical_reason().unwrap_or("Bad request")),
        )
    } else {
        let cause = anyhow::anyhow!("{error}");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorBody::internal(&cause),
        )
    };
    (status, body).into_response()
}
