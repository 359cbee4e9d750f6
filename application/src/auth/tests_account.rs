//! Use-case tests of the signed-in account's security (login gate, password change,
//! sessions), with the mocks of `tests`.

use domain::ports::{DomainEvent, RepositoryError};
use domain::{
    Actor, ClientInfo, Page, PageRequest, Password, PasswordHash, RevocationReason, Role,
    SessionId, UserId,
};

use super::tests::{Mocks, credentials, decision, login_args, user};
use super::*;
use crate::authenticator::Caller;

fn caller() -> Caller {
    Caller {
        actor: Actor {
            user_id: UserId::generate(),
            role: Role::User,
        },
        session_id: SessionId::generate(),
    }
}

fn passwords() -> (Password, Password) {
    (
        Password::parse("the current password").unwrap(),
        Password::parse("an entirely new password").unwrap(),
    )
}

#[tokio::test]
async fn with_verification_required_the_right_password_of_an_unverified_user_is_refused() {
    let mut mocks = Mocks::default();
    mocks
        .rate_limiter
        .expect_hit()
        .returning(|_, _| decision(4));
    mocks
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(Some(credentials())));
    mocks.hasher.expect_verify().returning(|_, _| Ok(true));
    mocks.rate_limiter.expect_reset().returning(|_| ());
    // No session is started: the session repository has no expectation.
    let (email, password) = login_args();

    let result = mocks
        .build_with(|config| config.require_verified_email = true)
        .login(&email, &password, ClientInfo::default())
        .await;

    assert!(matches!(result, Err(LoginError::EmailNotVerified)));
}

#[tokio::test]
async fn a_wrong_current_password_changes_nothing() {
    let mut mocks = Mocks::default();
    mocks
        .users
        .expect_find_by_id()
        .returning(|_| Ok(Some(user(Role::User))));
    mocks
        .rate_limiter
        .expect_hit()
        .returning(|_, _| decision(4));
    mocks
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(Some(credentials())));
    mocks.hasher.expect_verify().returning(|_, _| Ok(false));
    // No expectation on change_password, hash or events: touching them fails the test.
    let (current, new) = passwords();

    let result = mocks
        .build()
        .change_password(caller(), &current, &new)
        .await;

    assert!(matches!(
        result,
        Err(ChangePasswordError::IncorrectPassword)
    ));
}

#[tokio::test]
async fn a_password_change_renews_this_session_and_disconnects_the_users_sockets() {
    let caller = caller();
    let mut mocks = Mocks::default();
    mocks
        .users
        .expect_find_by_id()
        .returning(|_| Ok(Some(user(Role::User))));
    mocks
        .rate_limiter
        .expect_hit()
        .returning(|_, _| decision(4));
    mocks.rate_limiter.expect_reset().times(1).returning(|_| ());
    mocks
        .users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(Some(credentials())));
    mocks.hasher.expect_verify().returning(|_, _| Ok(true));
    mocks
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$argon2id$new".to_owned())));
    mocks.expect_session_start();
    mocks
        .sessions
        .expect_change_password()
        .withf(move |change| {
            change.session_id == caller.session_id
                && change.next_token.family_id == caller.session_id
                && change.password_hash.as_str() == "$argon2id$new"
                && change
                    .outbox
                    .kinds()
                    .map(domain::JobKind::as_str)
                    .eq(["mail.password-changed"])
        })
        .times(1)
        .returning(|_| Ok(domain::SessionVersion::new(3)));
    mocks
        .events
        .expect_publish()
        .withf(move |event| {
            *event
                == DomainEvent::SessionsRevoked {
                    user: caller.actor.user_id,
                    session: None,
                    reason: RevocationReason::PasswordChanged,
                }
        })
        .times(1)
        .returning(|_| ());
    let (current, new) = passwords();

    let session = mocks
        .build()
        .change_password(caller, &current, &new)
        .await
        .unwrap();

    assert_eq!(session.refresh.expose(), "refresh");
}

#[tokio::test]
async fn deleting_a_session_that_is_not_the_callers_is_not_found_and_disconnects_nothing() {
    let mut mocks = Mocks::default();
    mocks
        .sessions
        .expect_revoke_owned()
        .returning(|_, _, _| Ok(false));
    let session = SessionId::generate();

    let result = mocks.build().delete_session(caller(), session).await;

    assert!(matches!(result, Err(DeleteSessionError::NotFound(id)) if id == session));
}

#[tokio::test]
async fn logout_all_ends_every_session_and_disconnects_every_socket() {
    let caller = caller();
    let mut mocks = Mocks::default();
    mocks
        .sessions
        .expect_revoke_all()
        .withf(move |user, _| *user == caller.actor.user_id)
        .times(1)
        .returning(|_, _| Ok(()));
    mocks
        .events
        .expect_publish()
        .withf(|event| {
            matches!(
                event,
                DomainEvent::SessionsRevoked {
                    session: None,
                    reason: RevocationReason::LoggedOutEverywhere,
                    ..
                }
            )
        })
        .times(1)
        .returning(|_| ());

    mocks.build().logout_all(caller).await.unwrap();
}

#[tokio::test]
async fn a_storage_failure_while_listing_is_unexpected() {
    let mut mocks = Mocks::default();
    mocks
        .sessions
        .expect_list()
        .returning(|_, _, _| Err(RepositoryError(anyhow::anyhow!("down"))));

    let result: Result<Page<_>, _> = mocks
        .build()
        .list_sessions(caller(), PageRequest::default())
        .await;

    assert!(matches!(result, Err(SessionsError::Unexpected(_))));
}

#[tokio::test]
async fn resending_to_a_verified_address_is_refused_and_sends_nothing() {
    let mut mocks = Mocks::default();
    mocks.users.expect_find_by_id().returning(|_| {
        Ok(Some(domain::User {
            email_verified: true,
            ..user(Role::User)
        }))
    });

    let result = mocks.build().resend_verification(caller().actor).await;

    assert!(matches!(
        result,
        Err(ResendVerificationError::AlreadyVerified)
    ));
}
