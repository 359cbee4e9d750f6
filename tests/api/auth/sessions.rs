//! Refresh-token rotation, reuse detection and logout.

use api_tests::{PASSWORD, TestApp, api_test};
use domain::Role;
use serde_json::{Value, json};

async fn logged_in(app: &TestApp) -> Value {
    app.create_user_with("ann@example.com", None, Role::User)
        .await;
    app.login("ann@example.com", PASSWORD).await.expect(200)
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap()
}

api_test! {
    async fn a_refresh_returns_a_new_pair_and_spends_the_old_token(app) {
        let session = logged_in(&app).await;

        let renewed = app.refresh(field(&session, "refreshToken")).await.expect(200);

        assert_ne!(field(&renewed, "refreshToken"), field(&session, "refreshToken"));
        assert_eq!(renewed["user"], session["user"]);
        app.me(Some(field(&renewed, "accessToken"))).await.expect(200);
    }
}

api_test! {
    async fn reusing_a_spent_refresh_token_revokes_the_whole_family(app) {
        let session = logged_in(&app).await;
        let renewed = app.refresh(field(&session, "refreshToken")).await.expect(200);

        // An attacker replays the first token...
        app.refresh(field(&session, "refreshToken")).await.expect_error(401, "Invalid token");

        // ...and the legitimate holder's newer token is revoked with it.
        app.refresh(field(&renewed, "refreshToken")).await.expect_error(401, "Invalid token");
    }
}

api_test! {
    async fn other_sessions_survive_the_revocation_of_one_family(app) {
        let first = logged_in(&app).await;
        let second = app.login("ann@example.com", PASSWORD).await.expect(200);
        app.refresh(field(&first, "refreshToken")).await.expect(200);
        app.refresh(field(&first, "refreshToken")).await.expect(401);

        app.refresh(field(&second, "refreshToken")).await.expect(200);
    }
}

api_test! {
    async fn an_unknown_or_malformed_refresh_token_is_refused(app) {
        app.refresh("not-a-token").await.expect_error(401, "Invalid token");
        app.refresh("").await.expect_validation_error(&json!({ "formErrors": [], "fieldErrors": {
            "refreshToken": ["Must be 1 to 512 characters"],
        } }));
    }
}

api_test! {
    async fn logout_ends_the_session_of_the_refresh_token(app) {
        let session = logged_in(&app).await;

        let response = app.logout(Some(field(&session, "accessToken")), field(&session, "refreshToken")).await;

        assert_eq!(response.status.as_u16(), 204);
        app.refresh(field(&session, "refreshToken")).await.expect_error(401, "Invalid token");
    }
}

api_test! {
    async fn logout_cannot_end_another_users_session(app) {
        let ann = logged_in(&app).await;
        let bob = app.create_user(Role::User).await;

        app.logout(Some(&bob.token), field(&ann, "refreshToken")).await.expect(204);

        app.refresh(field(&ann, "refreshToken")).await.expect(200);
    }
}

api_test! {
    async fn logout_requires_authentication(app) {
        app.logout(None, "anything").await.expect_error(401, "Authentication required");
    }
}
