//! Accounts against an attacker: guesses that race the failed-login limit, a mailbox
//! flooded through password resets, the last admin, and search across scripts.

use api_tests::{PASSWORD, api_test};
use domain::{JobKind, Role};
use futures_util::future::join_all;
use serde_json::json;

/// Failed logins allowed per account (see bootstrap's `MAX_FAILED_LOGINS`).
const MAX_FAILED_LOGINS: usize = 5;

api_test! {
    async fn parallel_guesses_get_at_most_the_accounts_limit_of_password_checks(app) {
        let ann = app.create_user(Role::User).await;
        let email = ann.user.email.as_str().to_owned();

        // All wrong: a right guess that happened to be among the first checked would give
        // the account its allowance back (a success resets the count), so the bound below
        // would depend on the order the server took them in.
        let guesses = join_all((0..64).map(|index| {
            let (app, email) = (&app, email.clone());
            async move { app.login(&email, &format!("wrong password {index}")).await.status.as_u16() }
        }))
        .await;

        let checked = guesses.iter().filter(|status| **status != 429).count();
        assert!(checked <= MAX_FAILED_LOGINS, "{checked} guesses were checked: {guesses:?}");
        assert!(guesses.iter().all(|status| [401, 429].contains(status)), "{guesses:?}");
        // Locked: even the right password is not checked now.
        assert_eq!(app.login(&email, PASSWORD).await.status.as_u16(), 429);
    }
}

api_test! {
    async fn reset_requests_for_one_address_send_at_most_three_emails_an_hour(app) {
        let ann = app.create_user(Role::User).await;

        for _ in 0..6 {
            app.request_password_reset(ann.user.email.as_str()).await.expect(202);
        }

        let resets = app.jobs().await.into_iter().filter(|job| job.kind == JobKind::parse("mail.password-reset").unwrap()).count();
        assert_eq!(resets, 3);
    }
}

api_test! {
    async fn an_admin_cannot_delete_themselves_nor_demote_the_last_admin(app) {
        let admin = app.create_user(Role::Admin).await;

        app.delete_user(Some(&admin.token), &admin.id()).await.expect_error(409, "Admins cannot delete their own account");
        app.put_user(Some(&admin.token), &admin.id(), &json!({ "role": "user" }))
            .await
            .expect_error(409, "The last admin cannot be demoted");
        app.get_user(Some(&admin.token), &admin.id()).await.expect(200);
    }
}

api_test! {
    async fn two_admins_removing_each_other_at_once_leave_one_admin(app) {
        let ann = app.create_user(Role::Admin).await;
        let bob = app.create_user(Role::Admin).await;

        let (ann_id, bob_id, demotion) = (ann.id(), bob.id(), json!({ "role": "user" }));

        let (deleted_bob, demoted_ann) = tokio::join!(
            app.delete_user(Some(&ann.token), &bob_id),
            app.put_user(Some(&bob.token), &ann_id, &demotion),
        );

        let outcomes = [deleted_bob.status.as_u16(), demoted_ann.status.as_u16()];
        assert!(!outcomes.iter().all(|status| *status < 300), "both removals went through: {outcomes:?}");
        let someone = app.create_user(Role::User).await;
        let users = app.list_users(Some(&someone.token), "limit=100").await.expect(200);
        let admins = users["data"].as_array().unwrap().iter().filter(|user| user["role"] == "admin").count();
        assert_eq!(admins, 1, "after {outcomes:?}");
    }
}

api_test! {
    async fn search_folds_case_beyond_ascii_on_every_backend(app) {
        let caller = app.create_user(Role::User).await;
        app.create_user_with("elodie@example.com", Some("Élodie Durand"), Role::User).await;

        for term in ["ÉLODIE", "élodie", "Élodie"] {
            let page = app.list_users(Some(&caller.token), &format!("search={term}")).await.expect(200);

            assert_eq!(page["meta"]["total"], 1, "{term}");
        }
    }
}
