//! The `PasswordResetRepository` contract: one live token per user, spent by the reset
//! that sets the password and ends every session.

use std::sync::Arc;

use bootstrap::Storage;
use chrono::{DateTime, Duration, Utc};
use domain::ports::{ConsumeRefreshTokenError, PasswordResetRepository, ResetPasswordError};
use domain::{NewResetToken, Outbox, PasswordHash, SessionId, TokenHash, UserId};
use uuid::Uuid;

use super::sessions::{hash, start};
use super::{now, user};

contract!(Storage::resets;
    a_reset_token_resets_once_and_ends_every_session,
    a_newer_reset_request_supersedes_the_older_token,
    an_expired_reset_token_is_invalid,
);

fn reset_token(user_id: UserId, hash: &str, created_at: DateTime<Utc>) -> NewResetToken {
    NewResetToken {
        id: Uuid::now_v7(),
        user_id,
        token_hash: TokenHash::from_hex(hash.to_owned()),
        created_at,
        expires_at: created_at + Duration::minutes(30),
        outbox: Outbox::empty(),
    }
}

async fn a_reset_token_resets_once_and_ends_every_session(
    resets: &Arc<dyn PasswordResetRepository>,
    store: &Storage,
) {
    let user_id = user(store).await;
    let sessions = &store.sessions();
    let users = store.users();
    let session = SessionId::generate();
    start(sessions, user_id, session, "session").await;
    resets
        .replace_reset_token(reset_token(user_id, "reset", now()))
        .await
        .unwrap();
    let new_hash = PasswordHash::from_phc("$argon2id$new".to_owned());

    let reset = resets
        .reset_password(&hash("reset"), new_hash.clone(), now())
        .await
        .unwrap();
    let again = resets.reset_password(&hash("reset"), new_hash, now()).await;

    assert_eq!(reset, user_id);
    assert!(matches!(again, Err(ResetPasswordError::InvalidToken)));
    let email = users.find_by_id(user_id).await.unwrap().unwrap().email;
    let credentials = users
        .find_credentials_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credentials.password_hash.as_str(), "$argon2id$new");
    assert_eq!(
        users
            .find_auth_state(user_id)
            .await
            .unwrap()
            .unwrap()
            .session_version,
        domain::SessionVersion::new(1)
    );
    assert!(matches!(
        sessions
            .consume_refresh_token(&hash("session"), now())
            .await,
        Err(ConsumeRefreshTokenError::Revoked)
    ));
    assert!(!sessions.is_live(session).await.unwrap());
}

async fn a_newer_reset_request_supersedes_the_older_token(
    resets: &Arc<dyn PasswordResetRepository>,
    store: &Storage,
) {
    let user_id = user(store).await;
    resets
        .replace_reset_token(reset_token(user_id, "first", now()))
        .await
        .unwrap();
    resets
        .replace_reset_token(reset_token(user_id, "second", now() + Duration::minutes(1)))
        .await
        .unwrap();
    let new_hash = PasswordHash::from_phc("$argon2id$new".to_owned());

    let first = resets
        .reset_password(&hash("first"), new_hash.clone(), now())
        .await;
    let second = resets
        .reset_password(&hash("second"), new_hash, now())
        .await;

    assert!(matches!(first, Err(ResetPasswordError::InvalidToken)));
    assert_eq!(second.unwrap(), user_id);
}

async fn an_expired_reset_token_is_invalid(
    resets: &Arc<dyn PasswordResetRepository>,
    store: &Storage,
) {
    let user_id = user(store).await;
    resets
        .replace_reset_token(reset_token(user_id, "late", now()))
        .await
        .unwrap();

    let result = resets
        .reset_password(
            &hash("late"),
            PasswordHash::from_phc("$argon2id$new".to_owned()),
            now() + Duration::minutes(31),
        )
        .await;

    assert!(matches!(result, Err(ResetPasswordError::InvalidToken)));
}
