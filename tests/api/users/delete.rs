//! `DELETE /api/v1/users/{id}`.

use api_tests::api_test;
use domain::{Role, UserId};

api_test! {
    async fn an_admin_deletes_a_user(app) {
        let admin = app.create_user(Role::Admin).await;
        let bob = app.create_user(Role::User).await;

        let response = app.delete_user(Some(&admin.token), &bob.id()).await;

        assert_eq!(response.status.as_u16(), 204);
        assert!(response.body.is_empty());
        app.get_user(Some(&admin.token), &bob.id())
            .await
            .expect_error(404, &format!("User with ID {} not found", bob.id()));
    }
}

api_test! {
    async fn a_non_admin_may_not_delete_even_themselves(app) {
        let ann = app.create_user(Role::User).await;

        app.delete_user(Some(&ann.token), &ann.id()).await.expect_error(403, "Forbidden");

        app.get_user(Some(&ann.token), &ann.id()).await.expect(200);
    }
}

api_test! {
    async fn deleting_a_missing_user_is_404(app) {
        let admin = app.create_user(Role::Admin).await;
        let missing = UserId::generate().to_string();

        app.delete_user(Some(&admin.token), &missing)
            .await
            .expect_error(404, &format!("User with ID {missing} not found"));
    }
}

api_test! {
    async fn deleting_needs_a_valid_id_and_token(app) {
        let admin = app.create_user(Role::Admin).await;

        app.delete_user(Some(&admin.token), "nope").await.expect_error(400, "Invalid ID format");
        app.delete_user(None, &admin.id()).await.expect_error(401, "Authentication required");
    }
}
