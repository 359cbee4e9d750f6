//! `POST /api/v1/users`.

use api_tests::api_test;
use domain::Role;
use serde_json::{Value, json};

use super::{assert_no_secrets, assert_public_user_shape};

fn valid_body() -> Value {
    json!({ "email": "New.User@Example.com", "password": "long enough password", "name": "New User" })
}

api_test! {
    async fn an_admin_creates_a_user_with_the_default_role(app) {
        let admin = app.create_user(Role::Admin).await;

        let response = app.post_user(Some(&admin.token), &valid_body()).await;

        let body = response.expect(201);
        assert_public_user_shape(&body);
        assert_eq!(body["email"], "new.user@example.com");
        assert_eq!(body["name"], "New User");
        assert_eq!(body["role"], "user");
        assert_no_secrets(&response);
        let stored = app.get_user(Some(&admin.token), body["id"].as_str().unwrap()).await.expect(200);
        assert_eq!(stored, body);
    }
}

api_test! {
    async fn an_admin_creates_another_admin(app) {
        let admin = app.create_user(Role::Admin).await;
        let mut body = valid_body();
        body["role"] = json!("admin");

        let created = app.post_user(Some(&admin.token), &body).await.expect(201);

        assert_eq!(created["role"], "admin");
    }
}

api_test! {
    async fn a_non_admin_may_not_create_users(app) {
        let user = app.create_user(Role::User).await;

        app.post_user(Some(&user.token), &valid_body()).await.expect_error(403, "Forbidden");

        let listed = app.list_users(Some(&user.token), "search=new.user").await.expect(200);
        assert_eq!(listed["meta"]["total"], 0);
    }
}

api_test! {
    async fn creating_requires_a_bearer_token(app) {
        app.post_user(None, &valid_body()).await.expect_error(401, "Authentication required");
    }
}

api_test! {
    async fn an_email_taken_in_any_case_is_a_conflict(app) {
        let admin = app.create_user(Role::Admin).await;
        app.post_user(Some(&admin.token), &valid_body()).await.expect(201);
        let mut again = valid_body();
        again["email"] = json!("NEW.USER@example.COM");

        app.post_user(Some(&admin.token), &again).await.expect_error(409, "A user with this email already exists");
    }
}

api_test! {
    async fn invalid_bodies_are_refused_with_the_exact_problems(app) {
        let admin = app.create_user(Role::Admin).await;
        let cases = [
            (
                json!({ "email": "not-an-email", "password": "short", "name": "" }),
                json!({ "formErrors": [], "fieldErrors": {
                    "email": ["Invalid email address"],
                    "password": ["Must be at least 8 characters"],
                    "name": ["Must not be empty"],
                } }),
            ),
            (
                json!({ "email": "a@example.com", "password": "x".repeat(129) }),
                json!({ "formErrors": [], "fieldErrors": { "password": ["Must be at most 128 characters"] } }),
            ),
            (
                json!({ "email": "a@example.com", "password": "long enough password", "name": "n".repeat(101) }),
                json!({ "formErrors": [], "fieldErrors": { "name": ["Must be at most 100 characters"] } }),
            ),
            (
                json!({ "password": "long enough password" }),
                json!({ "formErrors": [], "fieldErrors": { "email": ["Required"] } }),
            ),
            (
                json!({ "email": 5, "password": "long enough password" }),
                json!({ "formErrors": [], "fieldErrors": { "email": ["Expected a string, received number"] } }),
            ),
            (
                json!({ "email": "a@example.com", "password": "long enough password", "role": "root" }),
                json!({ "formErrors": [], "fieldErrors": { "role": ["unknown variant `root`, expected `user` or `admin`"] } }),
            ),
            (
                json!({ "email": "a@example.com", "password": "long enough password", "isAdmin": true }),
                json!({ "formErrors": ["Unrecognized key: 'isAdmin'"], "fieldErrors": {} }),
            ),
            (json!([1, 2]), json!({ "formErrors": ["Expected a JSON object"], "fieldErrors": {} })),
        ];
        for (body, details) in cases {
            app.post_user(Some(&admin.token), &body).await.expect_validation_error(&details);
        }
    }
}

api_test! {
    async fn malformed_json_is_a_validation_error(app) {
        let admin = app.create_user(Role::Admin).await;
        let request = app
            .client
            .post(app.url("/api/v1/users"))
            .bearer_auth(&admin.token)
            .header("content-type", "application/json")
            .body(r#"{"email": "a@example.com", "#);

        let response = app.send_raw(request).await;

        let body = response.expect(400);
        assert_eq!(body["error"], "Validation failed");
        let problem = body["details"]["formErrors"][0].as_str().unwrap();
        assert!(problem.starts_with("Malformed JSON"), "{body}");
    }
}

api_test! {
    async fn a_body_that_is_not_json_is_415(app) {
        let admin = app.create_user(Role::Admin).await;
        let request = app
            .client
            .post(app.url("/api/v1/users"))
            .bearer_auth(&admin.token)
            .header("content-type", "text/plain")
            .body("email=a@example.com");

        app.send_raw(request).await.expect_error(415, "Unsupported media type");
    }
}

api_test! {
    async fn a_body_over_10_kib_is_413(app) {
        let admin = app.create_user(Role::Admin).await;
        let mut body = valid_body();
        body["name"] = json!("n".repeat(11 * 1024));

        app.post_user(Some(&admin.token), &body).await.expect_error(413, "Payload too large");
    }
}
