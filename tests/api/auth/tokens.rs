//! Access tokens that must stop working: forged, expired, or outdated by a change to
//! their user.

use api_tests::{PASSWORD, api_test};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::Role;
use serde_json::json;

fn unsigned_token(claims: &serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{}.", URL_SAFE_NO_PAD.encode(claims.to_string()))
}

api_test! {
    async fn an_unsigned_alg_none_token_is_refused(app) {
        let ann = app.create_user(Role::Admin).await;
        let now = chrono::Utc::now().timestamp();
        let forged = unsigned_token(&json!({
            "sub": ann.id(), "role": "admin", "iat": now, "exp": now + 900,
            "iss": "backend", "aud": "backend-api", "ver": 0,
        }));

        app.me(Some(&forged)).await.expect_error(401, "Invalid token");
    }
}

api_test! {
    async fn a_tampered_payload_is_refused(app) {
        let ann = app.create_user(Role::User).await;
        let parts: Vec<&str> = ann.token.split('.').collect();
        let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap().replace("\"user\"", "\"admin\"");
        let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims), parts[2]);

        app.me(Some(&tampered)).await.expect_error(401, "Invalid token");
    }
}

api_test! {
    async fn an_expired_token_is_refused(app) {
        let ann = app.create_user(Role::User).await;
        let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);

        let expired = app.token_issued_at(&ann, an_hour_ago);

        app.me(Some(&expired)).await.expect_error(401, "Invalid token");
    }
}

api_test! {
    async fn the_token_of_a_deleted_user_stops_working(app) {
        let admin = app.create_user(Role::Admin).await;
        let bob = app.create_user(Role::User).await;
        app.me(Some(&bob.token)).await.expect(200);

        app.delete_user(Some(&admin.token), &bob.id()).await.expect(204);

        app.me(Some(&bob.token)).await.expect_error(401, "Invalid token");
    }
}

api_test! {
    async fn tokens_issued_before_a_role_change_stop_working(app) {
        let admin = app.create_user(Role::Admin).await;
        let bob = app.create_user_with("bob@example.com", None, Role::User).await;
        app.me(Some(&bob.token)).await.expect(200);

        app.put_user(Some(&admin.token), &bob.id(), &json!({ "role": "admin" })).await.expect(200);

        app.me(Some(&bob.token)).await.expect_error(401, "Invalid token");
        let fresh = app.login("bob@example.com", PASSWORD).await.expect(200);
        let me = app.me(Some(fresh["accessToken"].as_str().unwrap())).await.expect(200);
        assert_eq!(me["role"], "admin");
    }
}

api_test! {
    async fn a_profile_edit_that_keeps_the_role_keeps_the_session(app) {
        let bob = app.create_user(Role::User).await;

        app.put_user(Some(&bob.token), &bob.id(), &json!({ "name": "Bob", "role": "user" })).await.expect(200);

        app.me(Some(&bob.token)).await.expect(200);
    }
}

api_test! {
    async fn tokens_issued_before_a_password_reset_stop_working(app) {
        let ann = app.create_user_with("ann@example.com", None, Role::User).await;
        app.request_password_reset("ann@example.com").await.expect(202);
        let token = app.reset_token_for("ann@example.com").await;

        app.confirm_password_reset(&token, "a brand new password").await.expect(204);

        app.me(Some(&ann.token)).await.expect_error(401, "Invalid token");
    }
}
