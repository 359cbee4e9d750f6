//! Input an attacker or a careless client sends: every present-but-invalid value is a 400,
//! never ignored and never a 500.

use api_tests::api_test;
use domain::Role;
use reqwest::header::HeaderValue;
use serde_json::json;

api_test! {
    async fn a_non_ascii_idempotency_key_is_refused_and_no_transfer_moves_twice(app) {
        let admin = app.create_user(Role::Admin).await;
        let ann = app.create_user(Role::User).await;
        let from = app.funded_account(&ann.token, &admin.token, "EUR", 1_000).await;
        let to = app.funded_account(&ann.token, &admin.token, "EUR", 0).await;

        for key in [&b"caf\xc3\xa9"[..], b"k\xff"] {
            for _ in 0..2 {
                let response = app
                    .send_raw(
                        app.client
                            .post(app.url("/api/v1/transfers"))
                            .bearer_auth(&ann.token)
                            .header("idempotency-key", HeaderValue::from_bytes(key).unwrap())
                            .json(&json!({ "fromAccountId": from, "toAccountId": to, "amount": 100 })),
                    )
                    .await;
                response.expect_validation_error(&json!({
                    "formErrors": [],
                    "fieldErrors": { "Idempotency-Key": ["Must be 1 to 255 visible ASCII characters"] }
                }));
            }
        }
        let history = app.send(reqwest::Method::GET, &format!("/api/v1/accounts/{from}/transfers"), Some(&ann.token), None).await.expect(200);
        assert_eq!(history["meta"]["total"], 0);
    }
}

api_test! {
    async fn a_bad_amount_and_a_bad_idempotency_key_are_reported_together(app) {
        let admin = app.create_user(Role::Admin).await;
        let ann = app.create_user(Role::User).await;
        let from = app.funded_account(&ann.token, &admin.token, "EUR", 1_000).await;
        let to = app.funded_account(&ann.token, &admin.token, "EUR", 0).await;
        let amount = "Must be a whole number of minor units from 1 to 1000000000000";
        let key = "Must be 1 to 255 visible ASCII characters";

        let transfer = app
            .send_raw(
                app.client
                    .post(app.url("/api/v1/transfers"))
                    .bearer_auth(&ann.token)
                    .header("idempotency-key", HeaderValue::from_bytes(b"k\xff").unwrap())
                    .json(&json!({ "fromAccountId": from, "toAccountId": to, "amount": 0 })),
            )
            .await;
        let deposit = app
            .send_raw(
                app.client
                    .post(app.url(&format!("/api/v1/accounts/{to}/deposits")))
                    .bearer_auth(&admin.token)
                    .header("idempotency-key", HeaderValue::from_bytes(b"k\xff").unwrap())
                    .json(&json!({ "amount": -5 })),
            )
            .await;

        for response in [transfer, deposit] {
            response.expect_validation_error(&json!({
                "formErrors": [],
                "fieldErrors": { "amount": [amount], "Idempotency-Key": [key] }
            }));
        }
    }
}

api_test! {
    async fn nul_in_a_post_title_or_content_is_a_400_on_every_backend(app) {
        let ann = app.create_user(Role::User).await;

        let title = app.create_post(&ann.token, &json!({ "title": "a\u{0}b" })).await;
        let content = app.create_post(&ann.token, &json!({ "title": "ok", "content": "x\u{0}y" })).await;

        title.expect_validation_error(&json!({ "formErrors": [], "fieldErrors": { "title": ["Must not contain control characters"] } }));
        content.expect_validation_error(&json!({
            "formErrors": [],
            "fieldErrors": { "content": ["Must not contain control characters other than tab and line breaks"] }
        }));
    }
}

api_test! {
    async fn quoted_and_look_alike_addresses_cannot_register(app) {
        for email in ["\"admin\"@example.com", "\u{430}dmin@example.com", "\u{ff41}dmin@example.com", "admin@\u{ff45}xample.com"] {
            let response = app.register(&json!({ "email": email, "password": "long enough password" })).await;

            response.expect_validation_error(&json!({ "formErrors": [], "fieldErrors": { "email": ["Invalid email address"] } }));
        }
    }
}

api_test! {
    async fn a_json_body_with_a_duplicate_key_is_refused(app) {
        let response = app
            .post_text(
                "/api/v1/auth/register",
                "application/json",
                r#"{"email":"ann@example.com","password":"long enough password","email":"bob@example.com"}"#,
            )
            .await;

        response.expect_validation_error(&json!({ "formErrors": ["Malformed JSON: duplicate key `email`"], "fieldErrors": {} }));
        app.login("bob@example.com", "long enough password").await.expect_error(401, "Invalid email or password");
    }
}

api_test! {
    async fn a_json_body_declared_in_another_charset_is_unsupported(app) {
        let response = app
            .post_text(
                "/api/v1/auth/login",
                "application/json; charset=latin1",
                r#"{"email":"ann@example.com","password":"long enough password"}"#,
            )
            .await;

        response.expect_error(415, "Unsupported media type");
    }
}

api_test! {
    async fn parameter_errors_name_no_internal_type(app) {
        let ann = app.create_user(Role::User).await;

        let response = app.list_users(Some(&ann.token), "page=abc").await;

        response.expect_validation_error(&json!({ "formErrors": [], "fieldErrors": { "page": ["Expected an integer"] } }));
    }
}

api_test! {
    async fn the_document_offers_no_xml_or_yaml_payload(app) {
        // quick-xml is in the tree through poem-openapi but runs only for XML payloads: this
        // keeps the accepted advisory exception true (ARCHITECTURE.md).
        let document = app.openapi().await.expect(200);

        let mut content_types = Vec::new();
        for operations in document["paths"].as_object().unwrap().values() {
            for operation in operations.as_object().unwrap().values() {
                let bodies = operation["requestBody"]["content"].as_object().into_iter().flat_map(|content| content.keys());
                let answers = operation["responses"].as_object().unwrap().values().filter_map(|response| response["content"].as_object()).flat_map(|content| content.keys());
                content_types.extend(bodies.chain(answers).cloned());
            }
        }
        assert!(!content_types.is_empty());
        for content_type in content_types {
            assert!(!content_type.contains("xml") && !content_type.contains("yaml"), "{content_type}");
        }
    }
}
