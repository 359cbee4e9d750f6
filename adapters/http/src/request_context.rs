//! Per-request context: the request id and, once authenticated, the caller's id.
//!
//! The outermost middleware opens a task-local scope for every request, so that any code
//! running for it (handlers, error conversion, the final log line) can read the request id
//! without threading it through every signature.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use domain::UserId;

tokio::task_local! {
    static CURRENT: Arc<RequestContext>;
}

/// What is known about the request being served.
#[derive(Debug)]
pub(crate) struct RequestContext {
    pub(crate) request_id: String,
    /// Whether error bodies may carry internal details (development only).
    pub(crate) expose_error_details: bool,
    user_id: OnceLock<UserId>,
    /// A dependency was unavailable: the answer's 500 becomes a 503.
    unavailable: AtomicBool,
}

impl RequestContext {
    pub(crate) fn new(request_id: String, expose_error_details: bool) -> Self {
        Self {
            request_id,
            expose_error_details,
            user_id: OnceLock::new(),
            unavailable: AtomicBool::new(false),
        }
    }

    /// Whether [`record_unavailable`] was called for this request.
    pub(crate) fn was_unavailable(&self) -> bool {
        self.unavailable.load(Ordering::Relaxed)
    }

    pub(crate) fn user_id(&self) -> Option<UserId> {
        self.user_id.get().copied()
    }

    /// Runs `future` with this context as the current one.
    pub(crate) async fn scope<F: Future>(self: Arc<Self>, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }
}

/// The current request's id, or `-` outside a request (e.g. in unit tests).
pub(crate) fn current_request_id() -> String {
    CURRENT
        .try_with(|context| context.request_id.clone())
        .unwrap_or_else(|_| "-".to_owned())
}

/// Whether the current request may see internal error details.
pub(crate) fn expose_error_details() -> bool {
    CURRENT
        .try_with(|context| context.expose_error_details)
        .unwrap_or(false)
}

/// Records the authenticated caller for the request log line.
pub(crate) fn record_user(user_id: UserId) {
    let _ = CURRENT.try_with(|context| context.user_id.set(user_id));
}

/// Records that the request failed because a dependency (the database) was unavailable:
/// the request log answers 503 instead of the handler's 500.
pub(crate) fn record_unavailable() {
    let _ = CURRENT.try_with(|context| context.unavailable.store(true, Ordering::Relaxed));
}
