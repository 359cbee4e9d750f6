//! An example of each request body and of each resource, so that Swagger UI's "Try it out"
//! starts from a body the service accepts and shows responses as they look.

use serde_json::{Value, json};

const USER_ID: &str = "0195d3a4-6b2e-7c41-9a3f-2f1d5e8b7c60";
const ACCOUNT_ID: &str = "0195d3a4-7f10-7a22-8b4c-1e2d3c4b5a69";
const OTHER_ACCOUNT_ID: &str = "0195d3a4-8a31-7b53-9c6d-4f5e6a7b8c9d";
const CREATED_AT: &str = "2026-01-15T09:30:00.000Z";
/// The shape of our refresh and reset tokens: 43 URL-safe base64 characters.
const OPAQUE_TOKEN: &str = "q8R3vYt0nKp2Lx9WmZ4bC7dE1fG6hJ5sA0uN3iO8rT2";

/// `(schema, example)` for the request bodies and the resources.
fn examples() -> Vec<(&'static str, Value)> {
    let user = json!({
        "id": USER_ID, "email": "ann@example.com", "name": "Ann", "role": "user",
        "emailVerified": true, "createdAt": CREATED_AT, "updatedAt": CREATED_AT,
    });
    vec![
        (
            "Register",
            json!({ "email": "ann@example.com", "password": "correct horse battery", "name": "Ann" }),
        ),
        (
            "Login",
            json!({ "email": "ann@example.com", "password": "correct horse battery" }),
        ),
        ("RefreshToken", json!({ "refreshToken": OPAQUE_TOKEN })),
        (
            "PasswordResetRequest",
            json!({ "email": "ann@example.com" }),
        ),
        (
            "PasswordResetConfirm",
            json!({ "token": OPAQUE_TOKEN, "password": "a new long password" }),
        ),
        ("VerifyEmail", json!({ "token": OPAQUE_TOKEN })),
        (
            "ChangePassword",
            json!({ "currentPassword": "correct horse battery", "newPassword": "a new long password" }),
        ),
        (
            "Session",
            json!({
                "id": "0195d3a4-ce75-7f97-b0a1-8d9e0f1a2b3c", "createdAt": CREATED_AT,
                "lastUsedAt": CREATED_AT, "expiresAt": "2026-12-24T15:38:12.123456Z",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64)", "ip": "203.0.113.7", "current": true,
            }),
        ),
        (
            "CreateUser",
            json!({ "email": "bob@example.com", "password": "correct horse battery", "name": "Bob", "role": "user" }),
        ),
        ("UpdateUser", json!({ "name": "Ann Lee" })),
        (
            "CreatePost",
            json!({ "title": "Hello", "content": "My first post.", "published": true }),
        ),
        ("UpdatePost", json!({ "published": true })),
        ("OpenAccount", json!({ "currency": "EUR" })),
        ("Deposit", json!({ "amount": 10_000 })),
        (
            "CreateTransfer",
            json!({ "fromAccountId": ACCOUNT_ID, "toAccountId": OTHER_ACCOUNT_ID, "amount": 1050 }),
        ),
        ("User", user.clone()),
        (
            "AuthTokens",
            json!({
                "user": user, "accessToken": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTk1ZDNhNCJ9.c2lnbmF0dXJl",
                "refreshToken": OPAQUE_TOKEN, "tokenType": "Bearer", "expiresIn": 900,
            }),
        ),
        (
            "Post",
            json!({
                "id": "0195d3a4-9b42-7c64-8d7e-5a6b7c8d9e0f", "title": "Hello", "content": "My first post.",
                "published": true, "authorId": USER_ID, "createdAt": CREATED_AT, "updatedAt": CREATED_AT,
            }),
        ),
        (
            "Account",
            json!({
                "id": ACCOUNT_ID, "ownerId": USER_ID, "balance": 10_000, "currency": "EUR",
                "createdAt": CREATED_AT, "updatedAt": CREATED_AT,
            }),
        ),
        (
            "Transfer",
            json!({
                "id": "0195d3a4-ac53-7d75-9e8f-6b7c8d9e0f1a", "fromAccountId": ACCOUNT_ID,
                "toAccountId": OTHER_ACCOUNT_ID, "amount": 1050, "currency": "EUR", "createdAt": CREATED_AT,
            }),
        ),
        (
            "Error",
            json!({ "error": "Forbidden", "requestId": "0195d3a4-bd64-7e86-af90-7c8d9e0f1a2b" }),
        ),
    ]
}

/// Puts each example on its schema.
///
/// # Panics
/// When an example names a schema the document does not have.
pub(super) fn add_examples(spec: &mut Value) {
    for (name, example) in examples() {
        let schema = spec
            .pointer_mut(&format!("/components/schemas/{name}"))
            .unwrap_or_else(|| {
                panic!("an example names the schema {name}, which is not documented")
            });
        schema["example"] = example;
    }
}
