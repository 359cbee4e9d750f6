//! The caller's sessions (listing, ending one, ending all), logout ending its access
//! tokens, and the password change.

use api_tests::{PASSWORD, TestApp, api_test, text};
use domain::Role;
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "an entirely new passphrase";

/// Ann's two sessions: her registration's, then a login from a phone app.
async fn two_logins(app: &TestApp) -> (Value, Value) {
    let first = app
        .register(&json!({ "email": "ann@example.com", "password": PASSWORD }))
        .await
        .expect(201);
    let second = app
        .send_raw(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("user-agent", "phone-app/2.1")
                .json(&json!({ "email": "ann@example.com", "password": PASSWORD })),
        )
        .await
        .expect(200);
    (first, second)
}

fn access(session: &Value) -> &str {
    text(session, "accessToken")
}

api_test! {
    async fn the_sessions_are_listed_newest_first_with_the_current_one_marked(app) {
        let (first, second) = two_logins(&app).await;

        let page = app.list_sessions(Some(access(&second)), "").await.expect(200);

        let sessions = page["data"].as_array().unwrap();
        assert_eq!(page["meta"], json!({ "page": 1, "limit": 10, "total": 2, "totalPages": 1 }));
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0]["current"], json!(true));
        assert_eq!(sessions[0]["userAgent"], json!("phone-app/2.1"));
        assert_eq!(sessions[0]["ip"], json!("127.0.0.1"));
        assert_eq!(sessions[1]["current"], json!(false));
        for field in ["id", "createdAt", "lastUsedAt", "expiresAt"] {
            assert!(sessions[0][field].is_string(), "{field}: {page}");
        }
        let from_first = app.list_sessions(Some(access(&first)), "").await.expect(200);
        assert_eq!(from_first["data"][1]["current"], json!(true));
        app.list_sessions(Some(access(&first)), "limit=0").await.expect(400);
        app.list_sessions(None, "").await.expect_error(401, "Authentication required");
    }
}

api_test! {
    async fn deleting_another_session_ends_its_tokens_within_a_second(app) {
        let (first, second) = two_logins(&app).await;
        let listed = app.list_sessions(Some(access(&second)), "").await.expect(200);
        let other = listed["data"][1]["id"].as_str().unwrap().to_owned();

        let deleted = app.delete_session(Some(access(&second)), &other).await;

        assert_eq!(deleted.status.as_u16(), 204);
        app.expect_refused_within_a_second(access(&first)).await;
        app.refresh(text(&first, "refreshToken")).await.expect_error(401, "Invalid token");
        app.me(Some(access(&second))).await.expect(200);
        let remaining = app.list_sessions(Some(access(&second)), "").await.expect(200);
        assert_eq!(remaining["meta"]["total"], json!(1));
        app.delete_session(Some(access(&second)), &other)
            .await
            .expect_error(404, &format!("Session with ID {other} not found"));
    }
}

api_test! {
    async fn another_users_session_is_not_found_and_survives(app) {
        let (ann, _) = two_logins(&app).await;
        let anns = app.list_sessions(Some(access(&ann)), "").await.expect(200);
        let anns_session = anns["data"][0]["id"].as_str().unwrap().to_owned();
        let bob = app.create_user(Role::User).await;

        app.delete_session(Some(&bob.token), &anns_session)
            .await
            .expect_error(404, &format!("Session with ID {anns_session} not found"));
        app.delete_session(Some(&bob.token), "not-a-uuid").await.expect_error(400, "Invalid ID format");

        app.me(Some(access(&ann))).await.expect(200);
    }
}

api_test! {
    async fn logout_all_ends_every_session_including_this_one(app) {
        let (first, second) = two_logins(&app).await;

        let response = app.logout_all(Some(access(&first))).await;

        assert_eq!(response.status.as_u16(), 204);
        app.expect_refused_within_a_second(access(&first)).await;
        app.expect_refused_within_a_second(access(&second)).await;
        for session in [&first, &second] {
            app.refresh(text(session, "refreshToken")).await.expect_error(401, "Invalid token");
        }
        app.login("ann@example.com", PASSWORD).await.expect(200);
    }
}

api_test! {
    async fn logout_ends_the_access_tokens_of_its_session_only(app) {
        let (first, second) = two_logins(&app).await;

        let response = app.logout(Some(access(&first)), text(&first, "refreshToken")).await;

        assert_eq!(response.status.as_u16(), 204);
        app.expect_refused_within_a_second(access(&first)).await;
        app.me(Some(access(&second))).await.expect(200);
    }
}

api_test! {
    async fn a_wrong_current_password_changes_nothing(app) {
        let (first, _) = two_logins(&app).await;

        app.change_password(Some(access(&first)), "not the password", NEW_PASSWORD)
            .await
            .expect_error(422, "Current password is incorrect");
        app.change_password(Some(access(&first)), PASSWORD, "short")
            .await
            .expect(400);

        app.me(Some(access(&first))).await.expect(200);
        app.login("ann@example.com", PASSWORD).await.expect(200);
    }
}

api_test! {
    async fn a_password_change_keeps_only_this_session_and_mails_a_notice(app) {
        let (first, second) = two_logins(&app).await;

        let renewed = app
            .change_password(Some(access(&second)), PASSWORD, NEW_PASSWORD)
            .await
            .expect(200);

        assert_eq!(renewed["tokenType"], json!("Bearer"));
        assert_eq!(renewed["user"]["email"], json!("ann@example.com"));
        app.expect_refused_within_a_second(access(&first)).await;
        app.expect_refused_within_a_second(access(&second)).await;
        app.refresh(text(&first, "refreshToken")).await.expect_error(401, "Invalid token");
        app.refresh(text(&second, "refreshToken")).await.expect_error(401, "Invalid token");
        app.me(Some(access(&renewed))).await.expect(200);
        let sessions = app.list_sessions(Some(access(&renewed)), "").await.expect(200);
        assert_eq!(sessions["meta"]["total"], json!(1));
        assert_eq!(sessions["data"][0]["current"], json!(true));
        app.refresh(text(&renewed, "refreshToken")).await.expect(200);
        app.login("ann@example.com", PASSWORD).await.expect_error(401, "Invalid email or password");
        app.login("ann@example.com", NEW_PASSWORD).await.expect(200);
        let notice = api_tests::eventually("the password-changed email", || async {
            app.outbox().into_iter().find(|message| message.contains("Subject: Your password was changed"))
        })
        .await;
        assert!(notice.contains("To: ann@example.com"));
        assert!(notice.contains("https://app.example.com/forgot-password"));
    }
}

api_test! {
    with [("AUTH_RATE_LIMIT_MAX", "1000000")]
    async fn wrong_current_passwords_count_against_the_failed_login_limit(app) {
        let (first, _) = two_logins(&app).await;

        for _ in 0..5 {
            app.change_password(Some(access(&first)), "not the password", NEW_PASSWORD)
                .await
                .expect_error(422, "Current password is incorrect");
        }

        let limited = app.change_password(Some(access(&first)), PASSWORD, NEW_PASSWORD).await;
        limited.expect_error(429, "Too many requests");
        assert!(limited.header("retry-after").is_some());
        app.login("ann@example.com", PASSWORD).await.expect(429);
    }
}

api_test! {
    with [("TRUSTED_PROXIES", "127.0.0.1")]
    async fn a_session_records_the_client_behind_a_trusted_proxy(app) {
        let session = app
            .send_raw(
                app.client
                    .post(app.url("/api/v1/auth/register"))
                    .header("x-forwarded-for", "198.51.100.23")
                    .header("user-agent", "browser/1.0")
                    .json(&json!({ "email": "ann@example.com", "password": PASSWORD })),
            )
            .await
            .expect(201);

        let listed = app.list_sessions(Some(access(&session)), "").await.expect(200);

        assert_eq!(listed["data"][0]["ip"], json!("198.51.100.23"));
        assert_eq!(listed["data"][0]["userAgent"], json!("browser/1.0"));
    }
}

api_test! {
    async fn a_refresh_records_where_the_session_was_last_used(app) {
        let (first, _) = two_logins(&app).await;
        let before = app.list_sessions(Some(access(&first)), "").await.expect(200)["data"][1].clone();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;

        let renewed = app
            .send_raw(
                app.client
                    .post(app.url("/api/v1/auth/refresh"))
                    .header("user-agent", "desktop-app/3.0")
                    .json(&json!({ "refreshToken": text(&first, "refreshToken") })),
            )
            .await
            .expect(200);

        let after = app.list_sessions(Some(access(&renewed)), "").await.expect(200)["data"][1].clone();
        assert_eq!(after["id"], before["id"], "a refresh continues the session");
        assert_eq!(after["current"], json!(true));
        assert_eq!(after["createdAt"], before["createdAt"]);
        assert!(after["lastUsedAt"].as_str() > before["lastUsedAt"].as_str(), "{before} {after}");
        assert_eq!(after["userAgent"], json!("desktop-app/3.0"));
    }
}

api_test! {
    async fn the_account_operations_need_a_valid_token_and_say_what_is_wrong_with_a_body(app) {
        let session_id = uuid::Uuid::now_v7().to_string();
        app.change_password(None, PASSWORD, NEW_PASSWORD).await.expect_error(401, "Authentication required");
        app.logout_all(None).await.expect_error(401, "Authentication required");
        app.delete_session(None, &session_id).await.expect_error(401, "Authentication required");
        app.list_sessions(Some("not.a.token"), "").await.expect_error(401, "Invalid token");
        let ann = app.create_user(Role::User).await;

        app.change_password(Some(&ann.token), "", "short").await.expect_validation_error(&json!({
            "formErrors": [],
            "fieldErrors": {
                "currentPassword": ["Must be at least 8 characters"],
                "newPassword": ["Must be at least 8 characters"],
            },
        }));
    }
}
