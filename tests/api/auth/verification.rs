//! Email verification: the link in the welcome email, reuse, expiry, supersession, resend,
//! a changed address, and the login gate of `REQUIRE_VERIFIED_EMAIL`.

use api_tests::{PASSWORD, TestApp, api_test, text};
use serde_json::{Value, json};

async fn register(app: &TestApp, email: &str) -> Value {
    app.register(&json!({ "email": email, "password": PASSWORD }))
        .await
        .expect(201)
}

api_test! {
    async fn the_welcome_email_link_verifies_the_address_once(app) {
        let session = register(&app, "ann@example.com").await;
        assert_eq!(session["user"]["emailVerified"], json!(false));
        let token = app.verification_tokens_for("ann@example.com", 1).await.remove(0);

        let verified = app.verify_email(&token).await;
        assert_eq!(verified.status.as_u16(), 204);
        let me = app.me(Some(text(&session, "accessToken"))).await.expect(200);
        assert_eq!(me["emailVerified"], json!(true));

        app.verify_email(&token).await.expect_error(400, "Invalid or expired token");
    }
}

api_test! {
    async fn unknown_and_malformed_tokens_are_refused_alike(app) {
        app.verify_email("no-such-token").await.expect_error(400, "Invalid or expired token");
        app.verify_email("").await.expect_validation_error(&json!({ "formErrors": [], "fieldErrors": {
            "token": ["Must be 1 to 512 characters"],
        } }));
    }
}

api_test! {
    with [("EMAIL_VERIFICATION_TTL_SECONDS", "1")]
    async fn an_expired_link_does_not_verify(app) {
        let session = register(&app, "ann@example.com").await;
        let token = app.verification_tokens_for("ann@example.com", 1).await.remove(0);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

        app.verify_email(&token).await.expect_error(400, "Invalid or expired token");
        let me = app.me(Some(text(&session, "accessToken"))).await.expect(200);
        assert_eq!(me["emailVerified"], json!(false));
    }
}

api_test! {
    async fn a_resent_link_supersedes_the_earlier_one(app) {
        let session = register(&app, "ann@example.com").await;
        let access = text(&session, "accessToken");
        let first = app.verification_tokens_for("ann@example.com", 1).await.remove(0);

        let resent = app.resend_verification(Some(access)).await;
        assert_eq!(resent.status.as_u16(), 202);
        let second = app.verification_tokens_for("ann@example.com", 2).await.remove(1);

        assert_ne!(first, second);
        app.verify_email(&first).await.expect_error(400, "Invalid or expired token");
        assert_eq!(app.verify_email(&second).await.status.as_u16(), 204);
    }
}

api_test! {
    async fn resending_to_a_verified_address_is_a_conflict(app) {
        let session = register(&app, "ann@example.com").await;
        let token = app.verification_tokens_for("ann@example.com", 1).await.remove(0);
        app.verify_email(&token).await;

        app.resend_verification(Some(text(&session, "accessToken")))
            .await
            .expect_error(409, "Email already verified");
        app.resend_verification(None).await.expect_error(401, "Authentication required");
    }
}

api_test! {
    async fn a_changed_address_is_unverified_and_gets_its_own_link(app) {
        let session = register(&app, "ann@example.com").await;
        let access = text(&session, "accessToken");
        let id = session["user"]["id"].as_str().unwrap().to_owned();
        let old_link = app.verification_tokens_for("ann@example.com", 1).await.remove(0);

        let updated = app
            .put_user(Some(access), &id, &json!({ "email": "ann.lee@example.com" }))
            .await
            .expect(200);

        assert_eq!(updated["emailVerified"], json!(false));
        let new_link = app.verification_tokens_for("ann.lee@example.com", 1).await.remove(0);
        app.verify_email(&old_link).await.expect_error(400, "Invalid or expired token");
        assert_eq!(app.verify_email(&new_link).await.status.as_u16(), 204);
        let me = app.me(Some(access)).await.expect(200);
        assert_eq!((me["email"].as_str(), &me["emailVerified"]), (Some("ann.lee@example.com"), &json!(true)));
    }
}

api_test! {
    async fn restating_the_same_address_keeps_it_verified(app) {
        let session = register(&app, "ann@example.com").await;
        let id = session["user"]["id"].as_str().unwrap().to_owned();
        let link = app.verification_tokens_for("ann@example.com", 1).await.remove(0);
        app.verify_email(&link).await;

        let updated = app
            .put_user(Some(text(&session, "accessToken")), &id, &json!({ "email": "ANN@example.com" }))
            .await
            .expect(200);

        assert_eq!(updated["emailVerified"], json!(true));
    }
}

api_test! {
    with [("REQUIRE_VERIFIED_EMAIL", "true")]
    async fn with_verification_required_an_unverified_user_cannot_log_in_or_refresh(app) {
        let session = register(&app, "ann@example.com").await;

        app.login("ann@example.com", PASSWORD).await.expect_error(403, "Email not verified");
        app.refresh(text(&session, "refreshToken")).await.expect_error(403, "Email not verified");
        // Only the right password learns that the address is unverified.
        app.login("ann@example.com", "a wrong password").await.expect_error(401, "Invalid email or password");

        let link = app.verification_tokens_for("ann@example.com", 1).await.remove(0);
        app.verify_email(&link).await;
        app.login("ann@example.com", PASSWORD).await.expect(200);
    }
}
