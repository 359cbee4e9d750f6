//! The `EmailVerificationRepository` contract, and what storing users does with
//! verification tokens (a new user's, a changed address's).

use std::sync::Arc;

use bootstrap::Storage;
use chrono::{DateTime, Duration, Utc};
use domain::ports::{EmailVerificationRepository, VerifyEmailError};
use domain::{Email, NewUser, NewVerificationToken, Outbox, UserChanges, UserId};
use uuid::Uuid;

use super::sessions::hash;
use super::{now, user};

contract!(Storage::verifications;
    a_verification_token_verifies_its_address_once,
    a_newer_verification_token_supersedes_the_older,
    an_expired_verification_token_is_invalid,
    a_token_for_a_former_address_does_not_verify_the_new_one,
    a_new_user_is_stored_with_its_verification_token,
    an_operators_user_is_verified_from_the_start,
);

fn token(
    user_id: UserId,
    email: &str,
    hash: &str,
    created_at: DateTime<Utc>,
) -> NewVerificationToken {
    NewVerificationToken {
        id: Uuid::now_v7(),
        user_id,
        email: Email::parse(email).unwrap(),
        token_hash: super::sessions::hash(hash),
        created_at,
        expires_at: created_at + Duration::hours(24),
        outbox: Outbox::empty(),
    }
}

async fn email_of(store: &Storage, id: UserId) -> (String, bool) {
    let user = store.users().find_by_id(id).await.unwrap().unwrap();
    (user.email.as_str().to_owned(), user.email_verified)
}

async fn a_verification_token_verifies_its_address_once(
    verifications: &Arc<dyn EmailVerificationRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
    let (email, verified) = email_of(store, ann).await;
    assert!(!verified);
    verifications
        .replace_verification_token(token(ann, &email, "v1", now()))
        .await
        .unwrap();

    assert_eq!(
        verifications
            .verify_email(&hash("v1"), now())
            .await
            .unwrap(),
        ann
    );
    assert!(email_of(store, ann).await.1);
    assert!(matches!(
        verifications.verify_email(&hash("v1"), now()).await,
        Err(VerifyEmailError::InvalidToken)
    ));
    assert!(matches!(
        verifications.verify_email(&hash("unknown"), now()).await,
        Err(VerifyEmailError::InvalidToken)
    ));
}

async fn a_newer_verification_token_supersedes_the_older(
    verifications: &Arc<dyn EmailVerificationRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
    let (email, _) = email_of(store, ann).await;
    verifications
        .replace_verification_token(token(ann, &email, "old", now()))
        .await
        .unwrap();
    verifications
        .replace_verification_token(token(ann, &email, "new", now() + Duration::minutes(1)))
        .await
        .unwrap();

    assert!(matches!(
        verifications.verify_email(&hash("old"), now()).await,
        Err(VerifyEmailError::InvalidToken)
    ));
    assert!(!email_of(store, ann).await.1);
    assert_eq!(
        verifications
            .verify_email(&hash("new"), now())
            .await
            .unwrap(),
        ann
    );
}

async fn an_expired_verification_token_is_invalid(
    verifications: &Arc<dyn EmailVerificationRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
    let (email, _) = email_of(store, ann).await;
    verifications
        .replace_verification_token(token(ann, &email, "late", now()))
        .await
        .unwrap();

    let late = verifications
        .verify_email(&hash("late"), now() + Duration::hours(24))
        .await;

    assert!(matches!(late, Err(VerifyEmailError::InvalidToken)));
    assert!(!email_of(store, ann).await.1);
}

async fn a_token_for_a_former_address_does_not_verify_the_new_one(
    verifications: &Arc<dyn EmailVerificationRepository>,
    store: &Storage,
) {
    let users = store.users();
    let ann = user(store).await;
    let (email, _) = email_of(store, ann).await;
    verifications
        .replace_verification_token(token(ann, &email, "former", now()))
        .await
        .unwrap();
    verifications
        .verify_email(&hash("former"), now())
        .await
        .unwrap();
    assert!(email_of(store, ann).await.1);
    verifications
        .replace_verification_token(token(ann, &email, "stale", now()))
        .await
        .unwrap();

    let changed = users
        .update(
            ann,
            UserChanges {
                email: Some(Email::parse("ann.new@example.com").unwrap()),
                ..UserChanges::default()
            },
            Some(token(ann, "ann.new@example.com", "fresh", now())),
            now(),
        )
        .await
        .unwrap();

    assert!(!changed.email_verified, "a new address starts unverified");
    assert!(matches!(
        verifications.verify_email(&hash("stale"), now()).await,
        Err(VerifyEmailError::InvalidToken)
    ));
    assert_eq!(
        verifications
            .verify_email(&hash("fresh"), now())
            .await
            .unwrap(),
        ann
    );
    assert_eq!(
        email_of(store, ann).await,
        ("ann.new@example.com".to_owned(), true)
    );
}

fn new_user(email: &str, verified: bool) -> NewUser {
    NewUser {
        email_verified: verified,
        ..super::new_user(email)
    }
}

async fn a_new_user_is_stored_with_its_verification_token(
    verifications: &Arc<dyn EmailVerificationRepository>,
    store: &Storage,
) {
    let mut ann = new_user("ann@example.com", false);
    ann.email_verification = Some(token(ann.id, "ann@example.com", "welcome", now()));
    let id = ann.id;

    let stored = store.users().insert(ann).await.unwrap();

    assert!(!stored.email_verified);
    assert_eq!(
        verifications
            .verify_email(&hash("welcome"), now())
            .await
            .unwrap(),
        id
    );
}

async fn an_operators_user_is_verified_from_the_start(
    _verifications: &Arc<dyn EmailVerificationRepository>,
    store: &Storage,
) {
    let stored = store
        .users()
        .insert(new_user("root@example.com", true))
        .await
        .unwrap();

    assert!(stored.email_verified);
}
