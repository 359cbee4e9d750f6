//! `POST /api/v1/auth/login` and `GET /api/v1/auth/me`.

use api_tests::{PASSWORD, api_test};
use domain::Role;
use serde_json::json;

api_test! {
    async fn a_user_logs_in_and_reads_themselves(app) {
        let ann = app.create_user_with("ann@example.com", Some("Ann"), Role::User).await;

        let body = app.login("ANN@example.com", PASSWORD).await.expect(200);

        assert_eq!(body["user"]["id"], ann.id());
        assert_eq!(body["tokenType"], "Bearer");
        let me = app.me(Some(body["accessToken"].as_str().unwrap())).await.expect(200);
        assert_eq!(me["id"], ann.id());
        assert_eq!(me["name"], "Ann");
    }
}

api_test! {
    async fn login_accepts_an_html_form(app) {
        app.create_user_with("ann@example.com", None, Role::User).await;
        let form = format!("email=ann%40example.com&password={}", PASSWORD.replace(' ', "+"));

        let response = app.post_text("/api/v1/auth/login", "application/x-www-form-urlencoded", &form).await;

        let body = response.expect(200);

        assert_eq!(body["user"]["email"], "ann@example.com");
    }
}

api_test! {
    async fn an_unknown_email_and_a_wrong_password_get_the_same_answer(app) {
        app.create_user_with("ann@example.com", None, Role::User).await;

        let wrong_password = app.login("ann@example.com", "not the password").await;
        let unknown_email = app.login("nobody@example.com", "not the password").await;

        wrong_password.expect_error(401, "Invalid email or password");
        unknown_email.expect_error(401, "Invalid email or password");
        assert_eq!(wrong_password.headers.get("content-length"), unknown_email.headers.get("content-length"));
    }
}

api_test! {
    async fn a_malformed_login_is_a_validation_error(app) {
        app.login("not-an-email", "x").await.expect_validation_error(&json!({ "formErrors": [], "fieldErrors": {
            "email": ["Invalid email address"],
            "password": ["Must be at least 8 characters"],
        } }));
        app.send(reqwest::Method::POST, "/api/v1/auth/login", None, Some(&json!({ "email": "a@example.com" })))
            .await
            .expect_validation_error(&json!({ "formErrors": [], "fieldErrors": { "password": ["Required"] } }));
    }
}

api_test! {
    async fn five_failed_logins_lock_the_account_for_a_while_even_with_the_right_password(app) {
        app.create_user_with("ann@example.com", None, Role::User).await;
        for _ in 0..5 {
            app.login("ann@example.com", "not the password").await.expect_error(401, "Invalid email or password");
        }

        let locked = app.login("ann@example.com", PASSWORD).await;

        locked.expect_error(429, "Too many requests");
        let retry_after: u64 = locked.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((1..=900).contains(&retry_after));
    }
}

api_test! {
    async fn a_successful_login_clears_earlier_failures(app) {
        app.create_user_with("ann@example.com", None, Role::User).await;
        for _ in 0..4 {
            app.login("ann@example.com", "not the password").await.expect(401);
        }
        app.login("ann@example.com", PASSWORD).await.expect(200);

        for _ in 0..4 {
            app.login("ann@example.com", "not the password").await.expect(401);
        }

        app.login("ann@example.com", PASSWORD).await.expect(200);
    }
}

api_test! {
    async fn me_requires_a_token(app) {
        app.me(None).await.expect_error(401, "Authentication required");
    }
}
