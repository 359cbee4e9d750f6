//! `GET /api/v1/users/{id}`.

use api_tests::api_test;
use domain::{Role, UserId};
use serde_json::json;

use super::{assert_no_secrets, assert_public_user_shape};

api_test! {
    async fn any_user_reads_any_user(app) {
        let reader = app.create_user(Role::User).await;
        let ann = app.create_user_with("Ann@Example.com", Some("Ann Lee"), Role::Admin).await;

        let response = app.get_user(Some(&reader.token), &ann.id()).await;

        let body = response.expect(200);
        assert_public_user_shape(&body);
        assert_eq!(body["id"], ann.id());
        assert_eq!(body["email"], "ann@example.com");
        assert_eq!(body["name"], "Ann Lee");
        assert_eq!(body["role"], "admin");
        assert_eq!(body["createdAt"], body["updatedAt"]);
        assert!(body["createdAt"].as_str().unwrap().ends_with('Z'), "UTC with Z: {body}");
        assert_no_secrets(&response);
    }
}

api_test! {
    async fn a_missing_user_is_404_with_its_id(app) {
        let reader = app.create_user(Role::User).await;
        let missing = UserId::generate().to_string();

        app.get_user(Some(&reader.token), &missing)
            .await
            .expect_error(404, &format!("User with ID {missing} not found"));
    }
}

api_test! {
    async fn a_malformed_id_is_400_invalid_id_format(app) {
        let reader = app.create_user(Role::User).await;

        for id in ["123", "not-a-uuid", "0191d3a2-xxxx-7000-8000-000000000000"] {
            app.get_user(Some(&reader.token), id).await.expect_error(400, "Invalid ID format");
        }
    }
}

api_test! {
    async fn reading_a_user_requires_a_bearer_token(app) {
        let ann = app.create_user(Role::User).await;

        app.get_user(None, &ann.id()).await.expect_error(401, "Authentication required");
        app.get_user(Some("a.b.c"), &ann.id()).await.expect_error(401, "Invalid token");
    }
}

api_test! {
    async fn a_name_may_be_absent(app) {
        let reader = app.create_user(Role::User).await;
        let nameless = app.create_user_with("nameless@example.com", None, Role::User).await;

        let body = app.get_user(Some(&reader.token), &nameless.id()).await.expect(200);

        assert_eq!(body["name"], json!(null));
    }
}
