//! The `SessionRepository` contract, continued: what a user sees of their sessions and how
//! they end (one, all, all but the current on a password change).

use std::sync::Arc;

use bootstrap::Storage;
use chrono::Duration;
use domain::ports::{ConsumeRefreshTokenError, SessionRepository};
use domain::{
    ClientInfo, JobKind, JobPayload, JobQuery, JobStatus, NewJob, PageRequest, PasswordChange,
    PasswordHash, QueueName, SessionId,
};

use super::sessions::{hash, refresh_token, start};
use super::{now, user};

contract!(Storage::sessions;
    live_sessions_are_listed_newest_first_with_their_client,
    a_rotation_records_the_last_use_and_its_client,
    only_the_owner_ends_a_session,
    revoking_all_ends_every_session_and_every_access_token,
    a_password_change_keeps_only_the_current_session_with_its_new_token,
);

async fn live_sessions_are_listed_newest_first_with_their_client(
    sessions: &Arc<dyn SessionRepository>,
    store: &Storage,
) {
    let (ann, bob) = (user(store).await, user(store).await);
    let (first, second, ended) = (
        SessionId::generate(),
        SessionId::generate(),
        SessionId::generate(),
    );
    start(sessions, ann, first, "first").await;
    start(sessions, ann, second, "second").await;
    start(sessions, ann, ended, "ended").await;
    start(sessions, bob, SessionId::generate(), "bob").await;
    sessions.revoke(ended, now()).await.unwrap();

    let page = sessions
        .list(ann, PageRequest::default(), now())
        .await
        .unwrap();
    let expired = sessions
        .list(ann, PageRequest::default(), now() + Duration::days(31))
        .await
        .unwrap();

    let ids: Vec<SessionId> = page.items.iter().map(|session| session.id).collect();
    assert_eq!(
        ids,
        vec![second, first],
        "newest first (ids break the tie of equal times)"
    );
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].user_agent.as_deref(), Some("test-agent/1.0"));
    assert_eq!(page.items[0].ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(page.items[0].created_at, now());
    assert_eq!(expired.total, 0);
    assert!(expired.items.is_empty());
}

async fn a_rotation_records_the_last_use_and_its_client(
    sessions: &Arc<dyn SessionRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
    let session = SessionId::generate();
    start(sessions, ann, session, "one").await;
    let mut next = refresh_token(ann, session, "two");
    next.created_at = now() + Duration::hours(1);
    next.expires_at = next.created_at + Duration::days(30);

    sessions
        .rotate(
            next,
            ClientInfo::new(Some("other-agent"), Some("198.51.100.7".to_owned())),
        )
        .await
        .unwrap();

    let listed = sessions
        .list(ann, PageRequest::default(), now())
        .await
        .unwrap();
    let listed = &listed.items[0];
    assert_eq!(listed.last_used_at, now() + Duration::hours(1));
    assert_eq!(
        listed.expires_at,
        now() + Duration::hours(1) + Duration::days(30)
    );
    assert_eq!(listed.created_at, now());
    assert_eq!(listed.user_agent.as_deref(), Some("other-agent"));
    assert_eq!(listed.ip.as_deref(), Some("198.51.100.7"));
}

async fn only_the_owner_ends_a_session(sessions: &Arc<dyn SessionRepository>, store: &Storage) {
    let (ann, bob) = (user(store).await, user(store).await);
    let session = SessionId::generate();
    start(sessions, ann, session, "ann").await;

    assert!(!sessions.revoke_owned(bob, session, now()).await.unwrap());
    assert!(sessions.is_live(session).await.unwrap());
    assert!(
        !sessions
            .revoke_owned(ann, SessionId::generate(), now())
            .await
            .unwrap()
    );
    assert!(sessions.revoke_owned(ann, session, now()).await.unwrap());
    assert!(
        !sessions.revoke_owned(ann, session, now()).await.unwrap(),
        "already ended"
    );
    assert!(!sessions.is_live(session).await.unwrap());
    assert!(matches!(
        sessions.consume_refresh_token(&hash("ann"), now()).await,
        Err(ConsumeRefreshTokenError::Revoked)
    ));
}

async fn revoking_all_ends_every_session_and_every_access_token(
    sessions: &Arc<dyn SessionRepository>,
    store: &Storage,
) {
    let users = store.users();
    let (ann, bob) = (user(store).await, user(store).await);
    let (first, second, bobs) = (
        SessionId::generate(),
        SessionId::generate(),
        SessionId::generate(),
    );
    start(sessions, ann, first, "first").await;
    start(sessions, ann, second, "second").await;
    start(sessions, bob, bobs, "bob").await;

    sessions.revoke_all(ann, now()).await.unwrap();

    assert!(!sessions.is_live(first).await.unwrap());
    assert!(!sessions.is_live(second).await.unwrap());
    assert!(sessions.is_live(bobs).await.unwrap());
    assert_eq!(
        users
            .find_auth_state(ann)
            .await
            .unwrap()
            .unwrap()
            .session_version,
        domain::SessionVersion::new(1)
    );
    assert_eq!(
        users
            .find_auth_state(bob)
            .await
            .unwrap()
            .unwrap()
            .session_version,
        domain::SessionVersion::new(0)
    );
    assert_eq!(
        sessions
            .list(ann, PageRequest::default(), now())
            .await
            .unwrap()
            .total,
        0
    );
}

async fn a_password_change_keeps_only_the_current_session_with_its_new_token(
    sessions: &Arc<dyn SessionRepository>,
    store: &Storage,
) {
    let users = store.users();
    let jobs = store.jobs();
    let ann = user(store).await;
    let (current, other) = (SessionId::generate(), SessionId::generate());
    start(sessions, ann, current, "current").await;
    start(sessions, ann, other, "other").await;
    let notice = NewJob::new(
        QueueName::parse("mail").unwrap(),
        JobKind::parse("mail.password-changed").unwrap(),
        JobPayload::from_json("{}".to_owned()),
        now(),
    );

    let version = sessions
        .change_password(PasswordChange {
            user_id: ann,
            session_id: current,
            password_hash: PasswordHash::from_phc("$argon2id$changed".to_owned()),
            next_token: refresh_token(ann, current, "renewed"),
            outbox: notice.into(),
            now: now(),
        })
        .await
        .unwrap();

    assert_eq!(version, domain::SessionVersion::new(1));
    assert_eq!(
        users
            .find_auth_state(ann)
            .await
            .unwrap()
            .unwrap()
            .session_version,
        domain::SessionVersion::new(1)
    );
    assert!(sessions.is_live(current).await.unwrap());
    assert!(!sessions.is_live(other).await.unwrap());
    for spent in ["current", "other"] {
        assert!(matches!(
            sessions.consume_refresh_token(&hash(spent), now()).await,
            Err(ConsumeRefreshTokenError::Revoked)
        ));
    }
    let renewed = sessions
        .consume_refresh_token(&hash("renewed"), now())
        .await
        .unwrap();
    assert_eq!(renewed.family_id, current);
    let email = users.find_by_id(ann).await.unwrap().unwrap().email;
    let credentials = users
        .find_credentials_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credentials.password_hash.as_str(), "$argon2id$changed");
    let queued = jobs
        .list(&JobQuery {
            status: Some(JobStatus::Queued),
            ..JobQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(queued.items.len(), 1);
    assert_eq!(queued.items[0].kind.as_str(), "mail.password-changed");
}
