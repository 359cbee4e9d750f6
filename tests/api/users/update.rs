//! `PUT /api/v1/users/{id}`.

use api_tests::api_test;
use domain::{Role, UserId};
use serde_json::json;

use super::assert_public_user_shape;

api_test! {
    async fn a_user_updates_their_own_profile(app) {
        let ann = app.create_user_with("ann@example.com", Some("Ann"), Role::User).await;

        let body = app
            .put_user(Some(&ann.token), &ann.id(), &json!({ "name": "Ann Lee", "email": "Ann.Lee@Example.com" }))
            .await
            .expect(200);

        assert_public_user_shape(&body);
        assert_eq!(body["name"], "Ann Lee");
        assert_eq!(body["email"], "ann.lee@example.com");
        assert_eq!(body["role"], "user");
        assert_ne!(body["updatedAt"], body["createdAt"]);
    }
}

api_test! {
    async fn a_user_may_not_update_someone_else(app) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;

        app.put_user(Some(&ann.token), &bob.id(), &json!({ "name": "Hacked" }))
            .await
            .expect_error(403, "Forbidden");
    }
}

api_test! {
    async fn a_user_may_not_make_themselves_admin_and_nothing_changes(app) {
        let ann = app.create_user_with("ann@example.com", Some("Ann"), Role::User).await;

        app.put_user(Some(&ann.token), &ann.id(), &json!({ "role": "admin", "name": "Boss" }))
            .await
            .expect_error(403, "Forbidden");

        let stored = app.get_user(Some(&ann.token), &ann.id()).await.expect(200);
        assert_eq!(stored["role"], "user");
        assert_eq!(stored["name"], "Ann");
    }
}

api_test! {
    async fn restating_ones_own_role_is_allowed(app) {
        let ann = app.create_user(Role::User).await;

        app.put_user(Some(&ann.token), &ann.id(), &json!({ "role": "user" })).await.expect(200);
    }
}

api_test! {
    async fn an_admin_changes_a_role(app) {
        let admin = app.create_user(Role::Admin).await;
        let bob = app.create_user(Role::User).await;

        let body = app.put_user(Some(&admin.token), &bob.id(), &json!({ "role": "admin" })).await.expect(200);

        assert_eq!(body["role"], "admin");
    }
}

api_test! {
    async fn changing_to_a_taken_email_is_a_conflict(app) {
        app.create_user_with("taken@example.com", None, Role::User).await;
        let ann = app.create_user(Role::User).await;

        app.put_user(Some(&ann.token), &ann.id(), &json!({ "email": "TAKEN@example.com" }))
            .await
            .expect_error(409, "A user with this email already exists");
    }
}

api_test! {
    async fn updating_a_missing_user_is_404_for_an_admin(app) {
        let admin = app.create_user(Role::Admin).await;
        let missing = UserId::generate().to_string();

        app.put_user(Some(&admin.token), &missing, &json!({ "name": "Ghost" }))
            .await
            .expect_error(404, &format!("User with ID {missing} not found"));
    }
}

api_test! {
    async fn a_password_cannot_be_changed_here(app) {
        let ann = app.create_user(Role::User).await;

        app.put_user(Some(&ann.token), &ann.id(), &json!({ "password": "a new password" }))
            .await
            .expect_validation_error(&json!({ "formErrors": ["Unrecognized key: 'password'"], "fieldErrors": {} }));
    }
}

api_test! {
    async fn invalid_changes_are_validation_errors(app) {
        let ann = app.create_user(Role::User).await;

        app.put_user(Some(&ann.token), &ann.id(), &json!({ "email": "nope", "name": "  " }))
            .await
            .expect_validation_error(&json!({ "formErrors": [], "fieldErrors": {
                "email": ["Invalid email address"],
                "name": ["Must not be empty"],
            } }));
    }
}

api_test! {
    async fn updating_needs_a_valid_id_and_token(app) {
        let ann = app.create_user(Role::User).await;

        app.put_user(Some(&ann.token), "42", &json!({})).await.expect_error(400, "Invalid ID format");
        app.put_user(None, &ann.id(), &json!({})).await.expect_error(401, "Authentication required");
    }
}
