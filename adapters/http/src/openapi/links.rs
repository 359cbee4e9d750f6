//! OpenAPI links: where an id (or a token) in one response is the input of another
//! operation. Swagger UI shows them; schemathesis' stateful phase follows them, so that a
//! created user, post or account is then read, changed and deleted through the API.

use serde_json::{Value, json};

/// `(operation, status, target operation, parameters)`: the target's path `id` comes from
/// the response body at the given JSON pointer.
const ID_LINKS: &[(&str, &str, &str, &str)] = &[
    ("createUser", "201", "getUser", "/id"),
    ("createUser", "201", "updateUser", "/id"),
    ("createUser", "201", "deleteUser", "/id"),
    ("register", "201", "getUser", "/user/id"),
    ("register", "201", "updateUser", "/user/id"),
    ("createPost", "201", "getPost", "/id"),
    ("createPost", "201", "updatePost", "/id"),
    ("createPost", "201", "deletePost", "/id"),
    ("openAccount", "201", "getAccount", "/id"),
    ("openAccount", "201", "deposit", "/id"),
    ("openAccount", "201", "listTransfers", "/id"),
    ("listJobs", "200", "retryJob", "/data/0/id"),
];

/// `(operation, status, target operation, body)`: the target's whole request body.
fn body_links() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        (
            "register",
            "201",
            "refresh",
            json!({ "refreshToken": "$response.body#/refreshToken" }),
        ),
        (
            "login",
            "200",
            "refresh",
            json!({ "refreshToken": "$response.body#/refreshToken" }),
        ),
    ]
}

/// Adds every link to its operation's response.
///
/// # Panics
/// When a link names an operation or a response the document does not have.
pub(super) fn add_links(spec: &mut Value) {
    for &(source, status, target, pointer) in ID_LINKS {
        let link = json!({ "operationId": target, "parameters": { "id": format!("$response.body#{pointer}") } });
        insert(spec, source, status, target, link);
    }
    for (source, status, target, body) in body_links() {
        let link = json!({ "operationId": target, "requestBody": body });
        insert(spec, source, status, target, link);
    }
}

fn insert(spec: &mut Value, source: &str, status: &str, target: &str, link: Value) {
    assert!(
        operation(spec, target).is_some(),
        "a link targets {target}, which is not documented"
    );
    let response = operation(spec, source)
        .and_then(|operation| operation["responses"].get_mut(status))
        .unwrap_or_else(|| panic!("a link starts at {source} {status}, which is not documented"));
    response["links"][target] = link;
}

fn operation<'a>(spec: &'a mut Value, id: &str) -> Option<&'a mut Value> {
    spec["paths"]
        .as_object_mut()?
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
        .find(|operation| operation["operationId"] == id)
}
