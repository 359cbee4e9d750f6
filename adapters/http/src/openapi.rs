//! The OpenAPI document and the docs page.
//!
//! poem-openapi documents what each handler returns. Some responses come from before a
//! handler runs, the same for every operation: 400 (a body or parameter that does not
//! parse), 401 (secured operations), 408, 413 and 415 (operations with a body) and 500. They
//! are added here to every operation they apply to, so the document matches API.md.

use poem_openapi::{OpenApi, OpenApiService};
use serde_json::{Value, json};

/// The document served at `/openapi.json`.
pub(crate) fn document<T: OpenApi>(service: &OpenApiService<T, ()>) -> String {
    let mut spec: Value =
        serde_json::from_str(&service.spec()).expect("poem-openapi emits valid JSON");
    add_shared_responses(&mut spec);
    serde_json::to_string_pretty(&spec).expect("a JSON value serialises")
}

/// Swagger UI with `document` embedded.
pub(crate) fn swagger_html<T: OpenApi>(service: &OpenApiService<T, ()>, document: &str) -> String {
    // The generated page embeds poem-openapi's own document; swap in ours.
    service.swagger_ui_html().replace(&service.spec(), document)
}

fn add_shared_responses(spec: &mut Value) {
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for operations in paths.values_mut().filter_map(Value::as_object_mut) {
        for operation in operations.values_mut().filter_map(Value::as_object_mut) {
            let secured = operation
                .get("security")
                .is_some_and(|security| security.as_array().is_some_and(|list| !list.is_empty()));
            let has_body = operation.contains_key("requestBody");
            let has_parameters = operation.get("parameters").is_some_and(|parameters| {
                parameters.as_array().is_some_and(|list| !list.is_empty())
            });
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
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
                add(
                    "413",
                    "`Payload too large`: the body exceeds the limit (10 KiB by default).",
                );
                add(
                    "415",
                    "`Unsupported media type`: the body is not JSON (in UTF-8).",
                );
            }
            add(
                "500",
                "`Internal server error`; the request id identifies it in the logs.",
            );
        }
    }
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json; charset=utf-8": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}
