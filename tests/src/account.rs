//! `TestApp` helpers for the signed-in account's own security: email verification,
//! password change, sessions.

use reqwest::Method;
use serde_json::{Value, json};

use crate::app::{TestApp, eventually, link_token_in};
use crate::response::TestResponse;

impl TestApp {
    pub async fn verify_email(&self, token: &str) -> TestResponse {
        let body = json!({ "token": token });
        self.send(Method::POST, "/api/v1/auth/verify-email", None, Some(&body))
            .await
    }

    pub async fn resend_verification(&self, token: Option<&str>) -> TestResponse {
        self.send(
            Method::POST,
            "/api/v1/auth/verify-email/resend",
            token,
            None,
        )
        .await
    }

    pub async fn change_password(
        &self,
        token: Option<&str>,
        current: &str,
        new: &str,
    ) -> TestResponse {
        let body = json!({ "currentPassword": current, "newPassword": new });
        self.send(Method::POST, "/api/v1/auth/password", token, Some(&body))
            .await
    }

    pub async fn list_sessions(&self, token: Option<&str>, query: &str) -> TestResponse {
        self.send(
            Method::GET,
            &format!("/api/v1/auth/sessions?{query}"),
            token,
            None,
        )
        .await
    }

    pub async fn delete_session(&self, token: Option<&str>, id: &str) -> TestResponse {
        self.send(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{id}"),
            token,
            None,
        )
        .await
    }

    pub async fn logout_all(&self, token: Option<&str>) -> TestResponse {
        self.send(Method::POST, "/api/v1/auth/logout-all", token, None)
            .await
    }

    /// Waits until `count` emails to `email` carry a verification link; returns their
    /// tokens, oldest first.
    pub async fn verification_tokens_for(&self, email: &str, count: usize) -> Vec<String> {
        eventually(
            &format!("{count} verification links to {email}"),
            || async {
                let tokens: Vec<String> = self
                    .outbox()
                    .iter()
                    .filter(|message| message.contains(&format!("To: {email}")))
                    .filter_map(|message| link_token_in(message, "verify-email"))
                    .collect();
                (tokens.len() >= count).then_some(tokens)
            },
        )
        .await
    }

    /// Waits until the access token is refused (401 `Invalid token`), for up to one
    /// second: the bound the contract gives for a revocation to reach every request.
    pub async fn expect_refused_within_a_second(&self, access_token: &str) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            let response = self.me(Some(access_token)).await;
            if response.status.as_u16() == 401 {
                response.expect_error(401, "Invalid token");
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the access token still works after a second: {}",
                response.status
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// `body[name]` as a string (token pairs, ids).
#[must_use]
pub fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
}
