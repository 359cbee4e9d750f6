//! `/api/v1/users`.

mod create;
mod delete;
mod get;
mod list;
mod update;

use api_tests::TestResponse;

/// Asserts that a user body has exactly the public fields, and never a password or hash.
#[track_caller]
pub(crate) fn assert_public_user_shape(user: &serde_json::Value) {
    let mut keys: Vec<&str> = user
        .as_object()
        .expect("a user object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "createdAt",
            "email",
            "emailVerified",
            "id",
            "name",
            "role",
            "updatedAt"
        ]
    );
}

/// Asserts that no part of a response mentions passwords or their hashes.
#[track_caller]
pub(crate) fn assert_no_secrets(response: &TestResponse) {
    let text = String::from_utf8_lossy(&response.body).to_lowercase();
    assert!(
        !text.contains("password") && !text.contains("argon2"),
        "a secret leaked: {text}"
    );
}
