//! `GET /api/v1/users`.

use api_tests::api_test;
use domain::Role;
use serde_json::json;

use super::{assert_no_secrets, assert_public_user_shape};

api_test! {
    async fn listing_requires_a_bearer_token(app) {
        app.list_users(None, "").await.expect_error(401, "Authentication required");
    }
}

api_test! {
    async fn listing_with_a_token_that_does_not_verify_is_an_invalid_token(app) {
        app.list_users(Some("not-a-jwt"), "").await.expect_error(401, "Invalid token");
    }
}

api_test! {
    async fn listing_pages_users_oldest_first_with_meta(app) {
        let first = app.create_user(Role::User).await;
        let second = app.create_user(Role::User).await;
        app.create_user(Role::Admin).await;

        let response = app.list_users(Some(&first.token), "page=1&limit=2").await;

        let body = response.expect(200);
        assert_eq!(body["meta"], json!({ "page": 1, "limit": 2, "total": 3, "totalPages": 2 }));
        let ids: Vec<&str> = body["data"].as_array().unwrap().iter().map(|user| user["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [first.id(), second.id()]);
        assert_public_user_shape(&body["data"][0]);
        assert_no_secrets(&response);
    }
}

api_test! {
    async fn listing_uses_page_1_and_limit_10_by_default(app) {
        let caller = app.create_user(Role::User).await;

        let body = app.list_users(Some(&caller.token), "").await.expect(200);

        assert_eq!(body["meta"], json!({ "page": 1, "limit": 10, "total": 1, "totalPages": 1 }));
    }
}

api_test! {
    async fn search_matches_name_or_email_ignoring_case(app) {
        let caller = app.create_user_with("caller@example.com", Some("Caller"), Role::User).await;
        let ann = app.create_user_with("ann@example.com", Some("Ann Lee"), Role::User).await;
        let leeds = app.create_user_with("bob.leeds@example.com", None, Role::User).await;

        let body = app.list_users(Some(&caller.token), "search=LEE").await.expect(200);

        let ids: Vec<&str> = body["data"].as_array().unwrap().iter().map(|user| user["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [ann.id(), leeds.id()]);
        assert_eq!(body["meta"]["total"], 2);
    }
}

api_test! {
    async fn out_of_range_paging_and_search_are_validation_errors(app) {
        let caller = app.create_user(Role::User).await;
        let long = "x".repeat(101);
        let cases = [
            ("page=0", json!({ "formErrors": [], "fieldErrors": { "page": ["Must be at least 1"] } })),
            ("limit=0", json!({ "formErrors": [], "fieldErrors": { "limit": ["Must be between 1 and 100"] } })),
            ("limit=101", json!({ "formErrors": [], "fieldErrors": { "limit": ["Must be between 1 and 100"] } })),
            (
                &format!("page=0&limit=500&search={long}")[..],
                json!({ "formErrors": [], "fieldErrors": {
                    "page": ["Must be at least 1"],
                    "limit": ["Must be between 1 and 100"],
                    "search": ["Must be at most 100 characters"],
                } }),
            ),
        ];
        for (query, details) in cases {
            app.list_users(Some(&caller.token), query).await.expect_validation_error(&details);
        }
    }
}

api_test! {
    async fn a_non_numeric_page_is_a_validation_error_on_that_field(app) {
        let caller = app.create_user(Role::User).await;

        let response = app.list_users(Some(&caller.token), "page=abc").await;

        let body = response.expect(400);
        assert_eq!(body["error"], "Validation failed");
        assert_eq!(body["requestId"], response.request_id());
        assert_eq!(body["details"]["formErrors"], json!([]));
        assert!(body["details"]["fieldErrors"]["page"].is_array(), "{body}");
    }
}
