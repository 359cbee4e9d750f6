//! Password reset: request and confirm.

use api_tests::{PASSWORD, api_test};
use domain::Role;
use serde_json::json;

api_test! {
    async fn a_reset_sets_a_new_password_once_and_ends_every_session(app) {
        app.create_user_with("ann@example.com", None, Role::User).await;
        let session = app.login("ann@example.com", PASSWORD).await.expect(200);
        app.request_password_reset("ann@example.com").await.expect(202);
        let token = app.reset_token_for("ann@example.com").await;

        app.confirm_password_reset(&token, "a brand new password").await.expect(204);

        app.login("ann@example.com", PASSWORD).await.expect_error(401, "Invalid email or password");
        app.login("ann@example.com", "a brand new password").await.expect(200);
        app.refresh(session["refreshToken"].as_str().unwrap()).await.expect_error(401, "Invalid token");
        app.confirm_password_reset(&token, "yet another password").await.expect_error(400, "Invalid or expired token");
    }
}

api_test! {
    async fn the_reset_email_links_to_the_public_url(app) {
        app.create_user_with("ann@example.com", None, Role::User).await;

        app.request_password_reset("ann@example.com").await.expect(202);

        let outbox = app.wait_for_outbox(1).await;
        let message = outbox.last().unwrap();
        assert!(message.contains("Subject: Reset your password"));
        assert!(message.contains("https://app.example.com/reset-password?token="));
    }
}

api_test! {
    async fn a_newer_request_invalidates_the_older_link(app) {
        app.create_user_with("ann@example.com", None, Role::User).await;
        app.request_password_reset("ann@example.com").await.expect(202);
        let first = app.reset_token_for("ann@example.com").await;
        app.request_password_reset("ann@example.com").await.expect(202);
        let tokens = app.reset_tokens_for("ann@example.com", 2).await;
        let second = tokens.iter().find(|token| **token != first).unwrap();

        app.confirm_password_reset(&first, "a brand new password").await.expect_error(400, "Invalid or expired token");
        app.confirm_password_reset(second, "a brand new password").await.expect(204);
    }
}

api_test! {
    async fn a_reset_request_reveals_nothing_about_the_account(app) {
        app.create_user_with("ann@example.com", None, Role::User).await;

        let known = app.request_password_reset("ann@example.com").await;
        let unknown = app.request_password_reset("nobody@example.com").await;

        assert_eq!((known.status.as_u16(), unknown.status.as_u16()), (202, 202));
        assert_eq!((known.body.len(), unknown.body.len()), (0, 0));
        let outbox = app.wait_for_outbox(1).await;
        assert_eq!(app.jobs().await.len(), 1, "a job only for the existing account");
        assert_eq!(outbox.len(), 1, "a mail only for the existing account");
        assert!(outbox.iter().all(|message| !message.contains("nobody@example.com")));
    }
}

api_test! {
    async fn an_unknown_token_and_invalid_input_are_refused(app) {
        app.confirm_password_reset("made-up", "a brand new password")
            .await
            .expect_error(400, "Invalid or expired token");
        app.confirm_password_reset("", "short").await.expect_validation_error(&json!({ "formErrors": [], "fieldErrors": {
            "token": ["Must be 1 to 512 characters"],
            "password": ["Must be at least 8 characters"],
        } }));
        app.request_password_reset("not-an-email")
            .await
            .expect_validation_error(&json!({ "formErrors": [], "fieldErrors": { "email": ["Invalid email address"] } }));
    }
}
