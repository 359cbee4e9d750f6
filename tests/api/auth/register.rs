//! `POST /api/v1/auth/register`.

use api_tests::api_test;
use serde_json::json;

api_test! {
    async fn registration_returns_the_user_and_a_session_and_sends_a_welcome_email(app) {
        let response = app
            .register(&json!({ "email": "Ann@Example.com", "password": "long enough password", "name": "Ann Lee" }))
            .await;

        let body = response.expect(201);
        assert_eq!(body["user"]["email"], "ann@example.com");
        assert_eq!(body["user"]["role"], "user");
        assert_eq!(body["tokenType"], "Bearer");
        assert_eq!(body["expiresIn"], 900);
        assert!(body["refreshToken"].as_str().unwrap().len() >= 43);
        let me = app.me(Some(body["accessToken"].as_str().unwrap())).await.expect(200);
        assert_eq!(me, body["user"]);
        let outbox = app.wait_for_outbox(1).await;
        assert_eq!(outbox.len(), 1);
        assert!(outbox[0].contains("To: ann@example.com"));
        assert!(outbox[0].contains("Subject: Welcome!"));
        assert!(outbox[0].contains("Hello Ann Lee,"));
    }
}

api_test! {
    async fn registration_accepts_an_html_form(app) {
        let response = app
            .post_text(
                "/api/v1/auth/register",
                "application/x-www-form-urlencoded",
                "email=form%40example.com&password=long+enough+password",
            )
            .await;

        let body = response.expect(201);

        assert_eq!(body["user"]["email"], "form@example.com");
    }
}

api_test! {
    async fn a_role_cannot_be_chosen_at_registration(app) {
        app.register(&json!({ "email": "ann@example.com", "password": "long enough password", "role": "admin" }))
            .await
            .expect_validation_error(&json!({ "formErrors": ["Unrecognized key: 'role'"], "fieldErrors": {} }));

        let login = app.login("ann@example.com", "long enough password").await;
        login.expect_error(401, "Invalid email or password");
    }
}

api_test! {
    async fn registering_a_taken_email_is_a_conflict(app) {
        let body = json!({ "email": "ann@example.com", "password": "long enough password" });
        app.register(&body).await.expect(201);

        app.register(&json!({ "email": "ANN@example.com", "password": "another long password" }))
            .await
            .expect_error(409, "A user with this email already exists");
    }
}

api_test! {
    async fn invalid_registrations_list_every_problem(app) {
        app.register(&json!({ "email": "nope", "password": "short", "name": "" }))
            .await
            .expect_validation_error(&json!({ "formErrors": [], "fieldErrors": {
                "email": ["Invalid email address"],
                "password": ["Must be at least 8 characters"],
                "name": ["Must not be empty"],
            } }));
    }
}
