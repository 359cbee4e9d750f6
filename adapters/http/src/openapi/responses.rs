//! The responses every operation may give before its handler runs, the same for every
//! operation: 400 (a body or parameter that does not parse), 401 (secured operations), 408,
//! 413 and 415 (operations with a body), 429 (everything under `/api/v1`, which the rate
//! limits cover) and 500. poem-openapi documents only what handlers
//! return; these are added to every operation they apply to, so the document matches API.md.

use serde_json::{Value, json};

use crate::middleware::body_limit::BodyLimit;

pub(super) fn add_shared_responses(spec: &mut Value, body_limit: BodyLimit) {
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, operations) in paths.iter_mut() {
        let Some(operations) = operations.as_object_mut() else {
            continue;
        };
        let too_large = format!(
            "`Payload too large`: the body exceeds {} KiB{}.",
            body_limit.max_bytes_for(path) / 1024,
            if body_limit.max_bytes_for(path) > body_limit.max_bytes {
                " (room for the longest post)"
            } else {
                ""
            }
        );
        let rate_limited = path.starts_with(API_PREFIX);
        for operation in operations.values_mut().filter_map(Value::as_object_mut) {
            add_to_operation(operation, &too_large, rate_limited);
        }
    }
}

/// The routes the rate limits cover.
const API_PREFIX: &str = "/api/v1/";

fn add_to_operation(
    operation: &mut serde_json::Map<String, Value>,
    too_large: &str,
    rate_limited: bool,
) {
    let secured = operation
        .get("security")
        .is_some_and(|security| security.as_array().is_some_and(|list| !list.is_empty()));
    let has_body = operation.contains_key("requestBody");
    let has_parameters = operation
        .get("parameters")
        .is_some_and(|parameters| parameters.as_array().is_some_and(|list| !list.is_empty()));
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status)
            .or_insert_with(|| error_response(description));
    };
    if has_body || has_parameters {
        add(
            "400",
            "Validation failed (`details` lists the problems), or `Invalid ID format`.",
        );
    }
    if secured {
        add(
            "401",
            "`Authentication required` (no bearer token) or `Invalid token`.",
        );
    }
    if has_body {
        add(
            "408",
            "`Request timeout`: the body did not arrive within the deadline (30 s by default).",
        );
        add("413", too_large);
        add(
            "415",
            "`Unsupported media type`: the body is not JSON (in UTF-8).",
        );
    }
    if rate_limited {
        responses.entry("429").or_insert_with(|| {
            let mut response = error_response(
                "`Too many requests`: a rate limit is exhausted; `Retry-After` says when to come back.",
            );
            response["headers"] = json!({
                "Retry-After": { "description": "Seconds until the limit resets.", "required": true, "schema": { "type": "integer" } }
            });
            response
        });
    }
    responses.entry("500").or_insert_with(|| {
        error_response("`Internal server error`; the request id identifies it in the logs.")
    });
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json; charset=utf-8": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}
