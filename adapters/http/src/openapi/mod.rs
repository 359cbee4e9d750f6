//! The OpenAPI document and the docs page.
//!
//! poem-openapi derives the operations and the shapes of their bodies. The rest of the truth
//! is added here, each part in its own module: the responses every operation may give
//! before its handler runs ([`responses`]), the domain's rules on each input, closed request
//! bodies and nullable optional fields ([`schemas`], from [`rules`]), examples
//! ([`examples`]) and links from created resources to what acts on them ([`links`]).

mod examples;
mod links;
mod responses;
mod rules;
mod schemas;

use poem_openapi::{OpenApi, OpenApiService};
use serde_json::Value;

use crate::middleware::body_limit::BodyLimit;

/// The document served at `/openapi.json`, and each documented path template with the
/// methods it answers (for the route table).
pub(crate) fn document<T: OpenApi>(
    service: &OpenApiService<T, ()>,
    body_limit: BodyLimit,
) -> (String, Vec<(String, Vec<String>)>) {
    let mut spec: Value =
        serde_json::from_str(&service.spec()).expect("poem-openapi emits valid JSON");
    responses::add_shared_responses(&mut spec, body_limit);
    schemas::declare_rules(&mut spec);
    schemas::close_request_bodies(&mut spec);
    schemas::mark_optional_fields_nullable(&mut spec);
    examples::add_examples(&mut spec);
    links::add_links(&mut spec);
    let paths = path_methods(&spec);
    let text = serde_json::to_string_pretty(&spec).expect("a JSON value serialises");
    (text, paths)
}

/// Swagger UI with `document` embedded.
pub(crate) fn swagger_html<T: OpenApi>(service: &OpenApiService<T, ()>, document: &str) -> String {
    // The generated page embeds poem-openapi's own document; swap in ours.
    service.swagger_ui_html().replace(&service.spec(), document)
}

/// Each documented path template (`/api/v1/users/{id}`) with the methods it answers.
fn path_methods(spec: &Value) -> Vec<(String, Vec<String>)> {
    spec["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(path, operations)| {
            let methods = operations
                .as_object()
                .into_iter()
                .flat_map(|operations| operations.keys())
                .map(|method| method.to_ascii_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}
