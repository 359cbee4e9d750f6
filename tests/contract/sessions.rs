//! The `SessionRepository` contract: refresh tokens (listing and ending sessions are in
//! `session_lifecycle`, password resets in `resets`).

use std::sync::Arc;

use bootstrap::Storage;
use chrono::Duration;
use domain::ports::{ConsumeRefreshTokenError, SessionRepository};
use domain::{ClientInfo, NewRefreshToken, NewSession, SessionId, TokenHash, UserId};
use uuid::Uuid;

use super::{now, user};

contract!(Storage::sessions;
    a_refresh_token_is_consumed_exactly_once,
    concurrent_presentations_of_one_token_let_exactly_one_through,
    unknown_and_expired_refresh_tokens_are_told_apart,
    revoking_a_family_revokes_all_its_tokens_and_no_other,
    logout_revokes_only_the_callers_own_family,
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
    sessions: &Arc<dyn SessionRepository>,
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
    sessions: &Arc<dyn SessionRepository>,
    store: &Storage,
) {
    let user_id = user(store).await;
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
    sessions: &Arc<dyn SessionRepository>,
    store: &Storage,
) {
    let user_id = user(store).await;
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
    sessions: &Arc<dyn SessionRepository>,
    store: &Storage,
) {
    let user_id = user(store).await;
    start(sessions, user_id, SessionId::generate(), "old").await;

    let unknown = sessions.consume_refresh_token(&hash("nope"), now()).await;
    let expired = sessions
        .consume_refresh_token(&hash("old"), now() + Duration::days(31))
        .await;

    assert!(matches!(unknown, Err(ConsumeRefreshTokenError::Unknown)));
    assert!(matches!(expired, Err(ConsumeRefreshTokenError::Expired)));
}

async fn revoking_a_family_revokes_all_its_tokens_and_no_other(
    sessions: &Arc<dyn SessionRepository>,
    store: &Storage,
) {
    let user_id = user(store).await;
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
    sessions: &Arc<dyn SessionRepository>,
    store: &Storage,
) {
    let (ann, bob) = (user(store).await, user(store).await);
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
