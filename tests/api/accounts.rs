//! `/api/v1/accounts`, deposits and `/api/v1/transfers`.

use api_tests::{TestApp, TestUser, api_test};
use domain::{AccountId, Role};
use reqwest::Method;
use serde_json::{Value, json};

async fn balance(app: &TestApp, admin: &TestUser, id: &str) -> i64 {
    app.send(
        Method::GET,
        &format!("/api/v1/accounts/{id}"),
        Some(&admin.token),
        None,
    )
    .await
    .expect(200)["balance"]
        .as_i64()
        .unwrap()
}

api_test! {
    async fn a_user_opens_accounts_in_usd_by_default_or_another_currency(app) {
        let ann = app.create_user(Role::User).await;

        let usd = app.open_account(&ann.token, &json!({})).await.expect(201);
        let eur = app.open_account(&ann.token, &json!({ "currency": "EUR" })).await.expect(201);

        assert_eq!((usd["balance"].as_i64(), usd["currency"].as_str()), (Some(0), Some("USD")));
        assert_eq!(usd["ownerId"], ann.id());
        assert_eq!(eur["currency"], "EUR");
        app.open_account(&ann.token, &json!({ "currency": "EURO" }))
            .await
            .expect_validation_error(&json!({ "formErrors": [], "fieldErrors": { "currency": ["Must be an ISO 4217 currency code, e.g. USD"] } }));
    }
}

api_test! {
    async fn accounts_are_visible_to_their_owner_and_admins_only(app) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        let id = app.open_account(&ann.token, &json!({})).await.expect(201)["id"].as_str().unwrap().to_owned();
        app.open_account(&bob.token, &json!({})).await.expect(201);
        let path = format!("/api/v1/accounts/{id}");

        app.send(Method::GET, &path, Some(&ann.token), None).await.expect(200);
        app.send(Method::GET, &path, Some(&admin.token), None).await.expect(200);
        app.send(Method::GET, &path, Some(&bob.token), None).await.expect_error(404, &format!("Account with ID {id} not found"));
        app.send(Method::GET, &format!("{path}/transfers"), Some(&bob.token), None).await.expect(404);
        let mine = app.send(Method::GET, "/api/v1/accounts", Some(&ann.token), None).await.expect(200);
        assert_eq!(mine["meta"]["total"], 1);
        let all = app.send(Method::GET, "/api/v1/accounts", Some(&admin.token), None).await.expect(200);
        assert_eq!(all["meta"]["total"], 2);
        let bobs = app.send(Method::GET, &format!("/api/v1/accounts?ownerId={}", bob.id()), Some(&admin.token), None).await.expect(200);
        assert_eq!(bobs["data"][0]["ownerId"], bob.id());
        app.send(Method::GET, &format!("/api/v1/accounts?ownerId={}", bob.id()), Some(&ann.token), None)
            .await
            .expect_error(403, "Forbidden");
    }
}

api_test! {
    async fn only_admins_deposit_whole_positive_amounts(app) {
        let ann = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        let id = app.open_account(&ann.token, &json!({})).await.expect(201)["id"].as_str().unwrap().to_owned();

        let funded = app.deposit(&admin.token, &id, &json!(1050), None).await.expect(201);

        assert_eq!(funded["balance"], 1050);
        app.deposit(&ann.token, &id, &json!(100), None).await.expect_error(403, "Forbidden");
        let amount_error = json!({ "formErrors": [], "fieldErrors": { "amount": ["Must be a whole number of minor units from 1 to 1000000000000"] } });
        for amount in [json!(0), json!(-5), json!(1_000_000_000_001_i64)] {
            app.deposit(&admin.token, &id, &amount, None).await.expect_validation_error(&amount_error);
        }
        app.deposit(&admin.token, &id, &json!(10.5), None).await.expect_validation_error(
            &json!({ "formErrors": [], "fieldErrors": { "amount": ["Expected an integer, received number"] } }),
        );
        let missing = AccountId::generate().to_string();
        app.deposit(&admin.token, &missing, &json!(1), None).await.expect_error(404, &format!("Account with ID {missing} not found"));
        assert_eq!(balance(&app, &admin, &id).await, 1050);
    }
}

api_test! {
    async fn a_deposit_retried_with_its_key_counts_once(app) {
        let admin = app.create_user(Role::Admin).await;
        let id = app.funded_account(&admin.token, &admin.token, "USD", 0).await;

        app.deposit(&admin.token, &id, &json!(500), Some("deposit-1")).await.expect(201);
        app.deposit(&admin.token, &id, &json!(500), Some("deposit-1")).await.expect(201);

        assert_eq!(balance(&app, &admin, &id).await, 500);
        app.deposit(&admin.token, &id, &json!(700), Some("deposit-1"))
            .await
            .expect_error(409, "Idempotency-Key was already used with a different request");
    }
}

api_test! {
    async fn a_transfer_moves_money_and_appears_in_both_histories(app) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        let from = app.funded_account(&ann.token, &admin.token, "USD", 1000).await;
        let to = app.funded_account(&bob.token, &admin.token, "USD", 0).await;

        let transfer = app.transfer(&ann.token, &from, &to, &json!(300), None).await.expect(201);

        assert_eq!((transfer["fromAccountId"].as_str(), transfer["toAccountId"].as_str()), (Some(from.as_str()), Some(to.as_str())));
        assert_eq!((transfer["amount"].as_i64(), transfer["currency"].as_str()), (Some(300), Some("USD")));
        assert_eq!((balance(&app, &admin, &from).await, balance(&app, &admin, &to).await), (700, 300));
        let history = app.send(Method::GET, &format!("/api/v1/accounts/{to}/transfers"), Some(&bob.token), None).await.expect(200);
        assert_eq!(history["data"][0]["id"], transfer["id"]);
        assert_eq!(history["meta"]["total"], 1);
    }
}

api_test! {
    async fn refused_transfers_say_why_and_move_nothing(app) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        let usd = app.funded_account(&ann.token, &admin.token, "USD", 100).await;
        let eur = app.funded_account(&ann.token, &admin.token, "EUR", 100).await;
        let bobs = app.funded_account(&bob.token, &admin.token, "USD", 100).await;
        let missing = AccountId::generate().to_string();

        app.transfer(&ann.token, &usd, &bobs, &json!(101), None).await.expect_error(422, "Insufficient funds");
        app.transfer(&ann.token, &usd, &eur, &json!(1), None).await.expect_error(422, "Currency mismatch");
        app.transfer(&ann.token, &usd, &usd, &json!(1), None).await.expect_error(422, "Cannot transfer to the same account");
        app.transfer(&ann.token, &bobs, &usd, &json!(1), None).await.expect_error(403, "Forbidden");
        app.transfer(&ann.token, &usd, &missing, &json!(1), None).await.expect_error(404, &format!("Account with ID {missing} not found"));
        app.transfer(&ann.token, &usd, &bobs, &json!(1.5), None).await.expect_validation_error(
            &json!({ "formErrors": [], "fieldErrors": { "amount": ["Expected an integer, received number"] } }),
        );
        app.transfer(&ann.token, &usd, &bobs, &json!(0), None).await.expect(400);
        app.transfer(&ann.token, "nope", &bobs, &json!(1), None).await.expect(400);

        for id in [&usd, &eur, &bobs] {
            assert_eq!(balance(&app, &admin, id).await, 100);
        }
    }
}

api_test! {
    async fn a_transfer_retried_with_its_key_happens_once(app) {
        let ann = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        let from = app.funded_account(&ann.token, &admin.token, "USD", 1000).await;
        let to = app.funded_account(&ann.token, &admin.token, "USD", 0).await;

        let first = app.transfer(&ann.token, &from, &to, &json!(100), Some("order-7")).await;
        let retry = app.transfer(&ann.token, &from, &to, &json!(100), Some("order-7")).await;

        assert_eq!(first.expect(201)["id"], retry.expect(201)["id"]);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(first.header("idempotent-replayed"), None);
        assert_eq!(balance(&app, &admin, &to).await, 100);
        app.transfer(&ann.token, &from, &to, &json!(200), Some("order-7"))
            .await
            .expect_error(409, "Idempotency-Key was already used with a different request");
    }
}

api_test! {
    async fn concurrent_retries_with_one_key_make_one_transfer(app) {
        let ann = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        let from = app.funded_account(&ann.token, &admin.token, "USD", 1000).await;
        let to = app.funded_account(&ann.token, &admin.token, "USD", 0).await;
        let app = std::sync::Arc::new(app);

        let attempts = (0..8).map(|_| {
            let (app, token, from, to) = (app.clone(), ann.token.clone(), from.clone(), to.clone());
            tokio::spawn(async move { app.transfer(&token, &from, &to, &json!(100), Some("same-key")).await })
        });
        let responses: Vec<_> = futures_join(attempts).await;

        let ids: std::collections::HashSet<String> =
            responses.iter().map(|response| response.expect(201)["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 1);
        assert_eq!(balance(&app, &admin, &to).await, 100);
    }
}

async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        results.push(handle.await.expect("the task finished"));
    }
    results
}

api_test! {
    async fn history_is_newest_first_and_paginated(app) {
        let ann = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        let from = app.funded_account(&ann.token, &admin.token, "USD", 1000).await;
        let to = app.funded_account(&ann.token, &admin.token, "USD", 0).await;
        let mut ids = Vec::new();
        for amount in 1..=3 {
            let transfer = app.transfer(&ann.token, &from, &to, &json!(amount), None).await.expect(201);
            ids.push(transfer["id"].as_str().unwrap().to_owned());
        }

        let page: Value = app.send(Method::GET, &format!("/api/v1/accounts/{from}/transfers?limit=2"), Some(&ann.token), None).await.expect(200);

        let listed: Vec<&str> = page["data"].as_array().unwrap().iter().map(|transfer| transfer["id"].as_str().unwrap()).collect();
        assert_eq!(listed, [ids[2].as_str(), ids[1].as_str()]);
        assert_eq!(page["meta"], json!({ "page": 1, "limit": 2, "total": 3, "totalPages": 2 }));
    }
}

api_test! {
    async fn a_user_who_owns_accounts_cannot_be_deleted(app) {
        let ann = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        app.open_account(&ann.token, &json!({})).await.expect(201);

        app.delete_user(Some(&admin.token), &ann.id()).await.expect_error(409, "The user owns accounts and cannot be deleted");
    }
}
