//! `GET /health` (liveness, no I/O) and `GET /health/ready` (readiness: the database).

use std::collections::BTreeMap;

use application::HealthService;
use chrono::Utc;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Serialize;
use serde_json::json;

use super::ApiTags;
use crate::errors::ErrorBody;
use crate::response_json::Json;
use crate::timestamp::Timestamp;

pub(crate) struct HealthApi {
    pub(crate) health: HealthService,
}

#[derive(Debug, Object, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Liveness {
    /// Always `healthy` when the process answers.
    status: String,
    timestamp: Timestamp,
}

#[derive(Debug, Object, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Readiness {
    /// `ready`.
    status: String,
    /// Each dependency and whether it is `up`.
    checks: BTreeMap<String, String>,
}

#[derive(ApiResponse)]
pub(crate) enum ReadinessResponse {
    /// Every dependency answers.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// A dependency is down; `details.checks` says which.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness: the process is up and serving.
    #[allow(clippy::unused_async)] // poem-openapi operations are async
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> Json<Liveness> {
        Json(Liveness {
            status: "healthy".to_owned(),
            timestamp: Utc::now().into(),
        })
    }

    /// Readiness: the process can serve traffic (its database answers).
    #[oai(path = "/health/ready", method = "get", operation_id = "readiness")]
    async fn ready(&self) -> ReadinessResponse {
        let report = self.health.readiness().await;
        let checks: BTreeMap<String, String> = report
            .checks
            .iter()
            .map(|(name, up)| {
                (
                    (*name).to_owned(),
                    if *up { "up" } else { "down" }.to_owned(),
                )
            })
            .collect();
        if report.is_ready() {
            ReadinessResponse::Ready(Json(Readiness {
                status: "ready".to_owned(),
                checks,
            }))
        } else {
            let mut body = ErrorBody::new("Service unavailable");
            body.details = Some(json!({ "status": "unavailable", "checks": checks }));
            ReadinessResponse::Unavailable(body)
        }
    }
}
