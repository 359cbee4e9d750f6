//! The `SessionRepository` contract (refresh tokens; listing and ending sessions are in
//! `session_lifecycle`) and the `PasswordResetRepository` contract.

use adapter_persistence::{Database, DieselSessionRepository, DieselUserRepository};
use chrono::{DateTime, Duration, Utc};
use domain::ports::{
    ConsumeRefreshTokenError, PasswordResetRepository, ResetPasswordError, SessionRepository,
    UserRepository,
};
use domain::{
    ClientInfo, NewRefreshToken, NewResetToken, NewSession, PasswordHash, SessionId, TokenHash,
    UserId,
};
use uuid::Uuid;

use super::{now, user};

contract!(DieselSessionRepository;
    a_refresh_token_is_consumed_exactly_once,
    concurrent_presentations_of_one_token_let_exactly_one_through,
    unknown_and_expired_refresh_tokens_are_told_apart,
    revoking_a_family_revokes_all_its_tokens_and_no_other,
    logout_revokes_only_the_callers_own_family,
    a_reset_token_resets_once_and_ends_every_session,
    a_newer_reset_request_supersedes_the_older_token,
    an_expired_reset_token_is_invalid,
);

pub(super) fn refresh_token(user_id: UserId, family_id: SessionId, hash: &str) -> NewRefreshToken {
    NewRefreshToken {
        id: Uuid::now_v7(),
        user_id,
        family_id,
        token_hash: TokenHash::from_hex(hash.to_owned()),
        created_at: now(),
        expires_at: now() + Duration::days(30),
    }
}

/// Starts a session of `user_id` whose first refresh token has `hash`.
pub(super) async fn start(
    sessions: &DieselSessionRepository,
    user_id: UserId,
    session: SessionId,
    hash: &str,
) {
    sessions
        .start(
            NewSession {
                id: session,
                user_id,
                client: ClientInfo::new(Some("test-agent/1.0"), Some("192.0.2.1".to_owned())),
                created_at: now(),
                expires_at: now() + Duration::days(30),
            },
            refresh_token(user_id, session, hash),
        )
        .await
        .unwrap();
}

pub(super) fn hash(text: &str) -> TokenHash {
    TokenHash::from_hex(text.to_owned())
}

async fn a_refresh_token_is_consumed_exactly_once(
    sessions: &DieselSessionRepository,
    database: &Database,
) {
    let user_id = user(database).await;
    let family = SessionId::generate();
    start(sessions, user_id, family, "a").await;

    let consumed = sessions
        .consume_refresh_token(&hash("a"), now())
        .await
        .unwrap();
    let again = sessions.consume_refresh_token(&hash("a"), now()).await;

    assert_eq!((consumed.user_id, consumed.family_id), (user_id, family));
    assert!(
        matches!(again, Err(ConsumeRefreshTokenError::AlreadyUsed { user_id: owner, family_id }) if owner == user_id && family_id == family)
    );
}

async fn concurrent_presentations_of_one_token_let_exactly_one_through(
    sessions: &DieselSessionRepository,
    database: &Database,
) {
    let user_id = user(database).await;
    start(sessions, user_id, SessionId::generate(), "race").await;

    let attempts = (0..8).map(|_| {
        let sessions = sessions.clone();
        tokio::spawn(async move { sessions.consume_refresh_token(&hash("race"), now()).await })
    });
    let results: Vec<_> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    assert_eq!(
        results.iter().filter(|result| result.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|result| result.is_err())
            .all(|result| matches!(result, Err(ConsumeRefreshTokenError::AlreadyUsed { .. })))
    );
}

async fn unknown_and_expired_refresh_tokens_are_told_apart(
    sessions: &DieselSessionRepository,
    database: &Database,
) {
    let user_id = user(database).await;
    start(sessions, user_id, SessionId::generate(), "old").await;

    let unknown = sessions.consume_refresh_token(&hash("nope"), now()).await;
    let expired = sessions
        .consume_refresh_token(&hash("old"), now() + Duration::days(31))
        .await;

    assert!(matches!(unknown, Err(ConsumeRefreshTokenError::Unknown)));
    assert!(matches!(expired, Err(ConsumeRefreshTokenError::Expired)));
}

async fn revoking_a_family_revokes_all_its_tokens_and_no_other(
    sessions: &DieselSessionRepository,
    database: &Database,
) {
    let user_id = user(database).await;
    let (family, other) = (SessionId::generate(), SessionId::generate());
    start(sessions, user_id, family, "f1").await;
    sessions
        .rotate(refresh_token(user_id, family, "f2"), ClientInfo::default())
        .await
        .unwrap();
    start(sessions, user_id, other, "o1").await;

    sessions.revoke(family, now()).await.unwrap();

    assert!(matches!(
        sessions.consume_refresh_token(&hash("f1"), now()).await,
        Err(ConsumeRefreshTokenError::Revoked)
    ));
    assert!(matches!(
        sessions.consume_refresh_token(&hash("f2"), now()).await,
        Err(ConsumeRefreshTokenError::Revoked)
    ));
    assert!(
        sessions
            .consume_refresh_token(&hash("o1"), now())
            .await
            .is_ok()
    );
    assert!(!sessions.is_live(family).await.unwrap());
    assert!(sessions.is_live(other).await.unwrap());
}

async fn logout_revokes_only_the_callers_own_family(
    sessions: &DieselSessionRepository,
    database: &Database,
) {
    let (ann, bob) = (user(database).await, user(database).await);
    let session = SessionId::generate();
    start(sessions, ann, session, "ann").await;

    assert_eq!(
        sessions
            .revoke_by_token(&hash("ann"), bob, now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        sessions
            .revoke_by_token(&hash("unknown"), ann, now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        sessions
            .revoke_by_token(&hash("ann"), ann, now())
            .await
            .unwrap(),
        Some(session)
    );
    assert!(!sessions.is_live(session).await.unwrap());
    assert!(matches!(
        sessions.consume_refresh_token(&hash("ann"), now()).await,
        Err(ConsumeRefreshTokenError::Revoked)
    ));
}

fn reset_token(user_id: UserId, hash: &str, created_at: DateTime<Utc>) -> NewResetToken {
    NewResetToken {
        id: Uuid::now_v7(),
        user_id,
        token_hash: TokenHash::from_hex(hash.to_owned()),
        created_at,
        expires_at: created_at + Duration::minutes(30),
    }
}

async fn a_reset_token_resets_once_and_ends_every_session(
    sessions: &DieselSessionRepository,
    database: &Database,
) {
    let user_id = user(database).await;
    let users = DieselUserRepository::new(database.clone());
    let session = SessionId::generate();
    start(sessions, user_id, session, "session").await;
    sessions
        .replace_reset_token(reset_token(user_id, "reset", now()), Vec::new())
        .await
        .unwrap();
    let new_hash = PasswordHash::from_phc("$argon2id$new".to_owned());

    let reset = sessions
        .reset_password(&hash("reset"), new_hash.clone(), now())
        .await
        .unwrap();
    let again = sessions
        .reset_password(&hash("reset"), new_hash, now())
        .await;

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
        1
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
    sessions: &DieselSessionRepository,
    database: &Database,
) {
    let user_id = user(database).await;
    sessions
        .replace_reset_token(reset_token(user_id, "first", now()), Vec::new())
        .await
        .unwrap();
    sessions
        .replace_reset_token(
            reset_token(user_id, "second", now() + Duration::minutes(1)),
            Vec::new(),
        )
        .await
        .unwrap();
    let new_hash = PasswordHash::from_phc("$argon2id$new".to_owned());

    let first = sessions
        .reset_password(&hash("first"), new_hash.clone(), now())
        .await;
    let second = sessions
        .reset_password(&hash("second"), new_hash, now())
        .await;

    assert!(matches!(first, Err(ResetPasswordError::InvalidToken)));
    assert_eq!(second.unwrap(), user_id);
}

async fn an_expired_reset_token_is_invalid(
    sessions: &DieselSessionRepository,
    database: &Database,
) {
    let user_id = user(database).await;
    sessions
        .replace_reset_token(reset_token(user_id, "late", now()), Vec::new())
        .await
        .unwrap();

    let result = sessions
        .reset_password(
            &hash("late"),
            PasswordHash::from_phc("$argon2id$new".to_owned()),
            now() + Duration::minutes(31),
        )
        .await;

    assert!(matches!(result, Err(ResetPasswordError::InvalidToken)));
}
