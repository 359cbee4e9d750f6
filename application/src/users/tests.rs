//! Use-case tests of the users feature, with mockall mocks of every port. A mock without
//! an expectation panics when called, which proves a refused request touched nothing.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use domain::ports::{
    DeleteUserRecordError, DomainEvent, EventPublisher, InsertUserError, MockClock,
    MockEventPublisher, MockOpaqueTokenGenerator, MockPasswordHasher, MockUserRepository, NoEvents,
    PasswordHashError, RepositoryError, UpdateUserRecordError,
};
use domain::{
    Actor, Email, OpaqueToken, Page, PageRequest, Password, PasswordHash, RevocationReason, Role,
    TokenHash, User, UserChanges, UserCredentials, UserId, UserQuery,
};

use super::*;
use crate::auth_states::AuthStates;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    Arc::new(clock)
}

fn hasher() -> Arc<MockPasswordHasher> {
    let mut hasher = MockPasswordHasher::new();
    hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("$argon2id$hash".to_owned())));
    Arc::new(hasher)
}

fn service(users: MockUserRepository) -> UserService {
    service_with(Arc::new(users), hasher(), Arc::new(NoEvents))
}

fn service_with(
    users: Arc<MockUserRepository>,
    hasher: Arc<MockPasswordHasher>,
    events: Arc<dyn EventPublisher>,
) -> UserService {
    let mut tokens = MockOpaqueTokenGenerator::new();
    tokens.expect_generate().returning(|| {
        (
            OpaqueToken::new("verify".to_owned()),
            TokenHash::from_hex("verify-hash".to_owned()),
        )
    });
    UserService::new(
        UserPorts {
            users: users.clone(),
            hasher,
            clock: clock(),
            auth_states: auth_states(users),
            opaque_tokens: Arc::new(tokens),
            events,
        },
        std::time::Duration::from_hours(24),
    )
}

fn auth_states(users: Arc<MockUserRepository>) -> Arc<AuthStates> {
    Arc::new(AuthStates::new(
        users,
        clock(),
        chrono::Duration::seconds(1),
    ))
}

fn user(role: Role) -> User {
    User {
        id: UserId::generate(),
        email: Email::parse("ann@example.com").unwrap(),
        name: None,
        role,
        email_verified: false,
        created_at: now(),
        updated_at: now(),
    }
}

fn actor(user: &User) -> Actor {
    Actor {
        user_id: user.id,
        role: user.role,
    }
}

fn admin() -> Actor {
    Actor {
        user_id: UserId::generate(),
        role: Role::Admin,
    }
}

fn create_command(role: Role) -> CreateUser {
    CreateUser {
        email: Email::parse("new@example.com").unwrap(),
        password: Password::parse("long enough password").unwrap(),
        name: None,
        role,
    }
}

fn storage_down() -> RepositoryError {
    RepositoryError(anyhow::anyhow!("connection refused"))
}

#[tokio::test]
async fn listing_passes_the_query_to_the_repository() {
    let ann = user(Role::User);
    let listed = ann.clone();
    let mut users = MockUserRepository::new();
    users
        .expect_list()
        .withf(|query| query.page.limit() == 5)
        .returning(move |query| {
            Ok(Page {
                items: vec![listed.clone()],
                request: query.page,
                total: 1,
            })
        });
    let query = UserQuery {
        page: PageRequest::new(Some(1), Some(5)).unwrap(),
        search: None,
    };

    let page = service(users).list(actor(&ann), query).await.unwrap();

    assert_eq!(page.items, vec![ann]);
    assert_eq!(page.total, 1);
}

#[tokio::test]
async fn listing_fails_unexpectedly_when_storage_is_down() {
    let mut users = MockUserRepository::new();
    users.expect_list().returning(|_| Err(storage_down()));

    let result = service(users).list(admin(), UserQuery::default()).await;

    assert!(matches!(result, Err(ListUsersError::Unexpected(_))));
}

#[tokio::test]
async fn getting_a_missing_user_is_not_found() {
    let mut users = MockUserRepository::new();
    users.expect_find_by_id().returning(|_| Ok(None));
    let id = UserId::generate();

    let result = service(users).get(admin(), id).await;

    assert!(matches!(result, Err(GetUserError::NotFound(missing)) if missing == id));
}

#[tokio::test]
async fn getting_fails_unexpectedly_when_storage_is_down() {
    let mut users = MockUserRepository::new();
    users.expect_find_by_id().returning(|_| Err(storage_down()));

    let result = service(users).get(admin(), UserId::generate()).await;

    assert!(matches!(result, Err(GetUserError::Unexpected(_))));
}

#[tokio::test]
async fn an_admin_creates_a_user_with_a_hashed_password_the_clock_time_and_a_welcome_email() {
    let mut users = MockUserRepository::new();
    users
        .expect_insert()
        .withf(|new| {
            new.password_hash.as_str() == "$argon2id$hash"
                && new.created_at == now()
                && new.role == Role::Admin
                && new.email.as_str() == "new@example.com"
                && new
                    .outbox
                    .kinds()
                    .map(domain::JobKind::as_str)
                    .eq(["mail.welcome"])
        })
        .returning(|new| {
            Ok(User {
                id: new.id,
                email: new.email,
                name: new.name,
                role: new.role,
                email_verified: false,
                created_at: new.created_at,
                updated_at: new.created_at,
            })
        });

    let created = service(users)
        .create(admin(), create_command(Role::Admin))
        .await
        .unwrap();

    assert_eq!(created.role, Role::Admin);
    assert_eq!(created.created_at, now());
}

#[tokio::test]
async fn a_non_admin_may_not_create_users_and_nothing_is_stored() {
    let ann = user(Role::User);
    let users = MockUserRepository::new();
    let unused_hasher = Arc::new(MockPasswordHasher::new());
    let users = Arc::new(users);
    let service = service_with(users, unused_hasher, Arc::new(NoEvents));

    let result = service
        .create(actor(&ann), create_command(Role::User))
        .await;

    assert!(matches!(result, Err(CreateUserError::Forbidden)));
}

#[tokio::test]
async fn creating_a_user_with_a_taken_email_is_a_conflict() {
    let mut users = MockUserRepository::new();
    users
        .expect_insert()
        .returning(|_| Err(InsertUserError::EmailTaken));

    let result = service(users)
        .create(admin(), create_command(Role::User))
        .await;

    assert!(matches!(result, Err(CreateUserError::EmailTaken)));
}

#[tokio::test]
async fn creating_fails_unexpectedly_when_hashing_cannot_run() {
    let mut hasher = MockPasswordHasher::new();
    hasher
        .expect_hash()
        .returning(|_| Err(PasswordHashError(anyhow::anyhow!("pool closed"))));
    let users = Arc::new(MockUserRepository::new());
    let service = service_with(users, Arc::new(hasher), Arc::new(NoEvents));

    let result = service.create(admin(), create_command(Role::User)).await;

    assert!(matches!(result, Err(CreateUserError::Unexpected(_))));
}

#[tokio::test]
async fn a_user_updates_their_own_name() {
    let ann = user(Role::User);
    let (current, id) = (ann.clone(), ann.id);
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(current.clone())));
    users
        .expect_update()
        .withf(move |target, changes, verification, at| {
            *target == id && changes.name.is_some() && verification.is_none() && *at == now()
        })
        .returning(move |_, changes, _, at| {
            let mut updated = ann.clone();
            updated.name = changes.name;
            updated.updated_at = at;
            Ok(updated)
        });
    let changes = UserChanges {
        name: Some(domain::UserName::parse("Ann Lee").unwrap()),
        ..UserChanges::default()
    };
    let caller = Actor {
        user_id: id,
        role: Role::User,
    };

    let updated = service(users).update(caller, id, changes).await.unwrap();

    assert_eq!(updated.name.unwrap().as_str(), "Ann Lee");
}

#[tokio::test]
async fn a_user_may_not_update_another_user_and_nothing_is_read() {
    let (ann, bob) = (user(Role::User), user(Role::User));

    let result = service(MockUserRepository::new())
        .update(actor(&ann), bob.id, UserChanges::default())
        .await;

    assert!(matches!(result, Err(UpdateUserError::Forbidden)));
}

#[tokio::test]
async fn a_user_may_not_change_their_own_role() {
    let ann = user(Role::User);
    let current = ann.clone();
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(current.clone())));
    let changes = UserChanges {
        role: Some(Role::Admin),
        ..UserChanges::default()
    };

    let result = service(users).update(actor(&ann), ann.id, changes).await;

    assert!(matches!(result, Err(UpdateUserError::Forbidden)));
}

#[tokio::test]
async fn restating_the_current_role_does_not_reach_the_repository_as_a_role_change() {
    let ann = user(Role::User);
    let (current, updated, id) = (ann.clone(), ann.clone(), ann.id);
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(current.clone())));
    users
        .expect_update()
        .withf(|_, changes, _, _| changes.role.is_none())
        .returning(move |_, _, _, _| Ok(updated.clone()));
    let changes = UserChanges {
        role: Some(Role::User),
        ..UserChanges::default()
    };

    let result = service(users).update(actor(&ann), id, changes).await;

    assert!(result.is_ok());
}

#[tokio::test]
async fn an_admin_changing_a_role_passes_it_to_the_repository() {
    let bob = user(Role::User);
    let (current, id) = (bob.clone(), bob.id);
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(current.clone())));
    users
        .expect_update()
        .withf(|_, changes, _, _| changes.role == Some(Role::Admin))
        .returning(move |_, _, _, _| {
            Ok(User {
                role: Role::Admin,
                ..bob.clone()
            })
        });
    let changes = UserChanges {
        role: Some(Role::Admin),
        ..UserChanges::default()
    };

    let mut events = MockEventPublisher::new();
    events
        .expect_publish()
        .withf(move |event| {
            *event
                == DomainEvent::SessionsRevoked {
                    user: id,
                    session: None,
                    reason: RevocationReason::RoleChanged,
                }
        })
        .times(1)
        .returning(|_| ());
    let service = service_with(Arc::new(users), hasher(), Arc::new(events));

    let updated = service.update(admin(), id, changes).await.unwrap();

    assert_eq!(updated.role, Role::Admin);
}

#[tokio::test]
async fn a_new_address_is_stored_with_its_verification_token_and_email() {
    let ann = user(Role::User);
    let (current, id) = (ann.clone(), ann.id);
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(current.clone())));
    users
        .expect_update()
        .withf(move |_, changes, verification, _| {
            let new = Email::parse("ann.lee@example.com").unwrap();
            changes.email.as_ref() == Some(&new)
                && verification.as_ref().is_some_and(|token| {
                    let jobs = token.outbox.jobs();
                    token.email == new
                        && token.user_id == id
                        && jobs.len() == 1
                        && jobs[0].kind.as_str() == "mail.email-verification"
                        && jobs[0].payload.as_json().contains("ann.lee@example.com")
                })
        })
        .times(1)
        .returning(move |_, _, _, _| Ok(ann.clone()));
    let changes = UserChanges {
        email: Some(Email::parse("ann.lee@example.com").unwrap()),
        ..UserChanges::default()
    };

    service(users).update(admin(), id, changes).await.unwrap();
}

#[tokio::test]
async fn restating_the_current_address_sends_no_verification() {
    let ann = user(Role::User);
    let (current, id) = (ann.clone(), ann.id);
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(current.clone())));
    users
        .expect_update()
        .withf(|_, changes, verification, _| changes.email.is_none() && verification.is_none())
        .times(1)
        .returning(move |_, _, _, _| Ok(ann.clone()));
    let changes = UserChanges {
        email: Some(Email::parse("ANN@example.com").unwrap()),
        ..UserChanges::default()
    };

    service(users).update(admin(), id, changes).await.unwrap();
}

#[tokio::test]
async fn updating_a_missing_user_is_not_found() {
    let mut users = MockUserRepository::new();
    users.expect_find_by_id().returning(|_| Ok(None));
    let id = UserId::generate();

    let result = service(users)
        .update(admin(), id, UserChanges::default())
        .await;

    assert!(matches!(result, Err(UpdateUserError::NotFound(missing)) if missing == id));
}

#[tokio::test]
async fn a_user_deleted_between_read_and_write_is_not_found() {
    let bob = user(Role::User);
    let id = bob.id;
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(bob.clone())));
    users
        .expect_update()
        .returning(|_, _, _, _| Err(UpdateUserRecordError::NotFound));

    let result = service(users)
        .update(admin(), id, UserChanges::default())
        .await;

    assert!(matches!(result, Err(UpdateUserError::NotFound(missing)) if missing == id));
}

#[tokio::test]
async fn updating_to_a_taken_email_is_a_conflict() {
    let bob = user(Role::User);
    let id = bob.id;
    let mut users = MockUserRepository::new();
    users
        .expect_find_by_id()
        .returning(move |_| Ok(Some(bob.clone())));
    users
        .expect_update()
        .returning(|_, _, _, _| Err(UpdateUserRecordError::EmailTaken));
    let changes = UserChanges {
        email: Some(Email::parse("taken@example.com").unwrap()),
        ..UserChanges::default()
    };

    let result = service(users).update(admin(), id, changes).await;

    assert!(matches!(result, Err(UpdateUserError::EmailTaken)));
}

#[tokio::test]
async fn updating_fails_unexpectedly_when_storage_is_down() {
    let mut users = MockUserRepository::new();
    users.expect_find_by_id().returning(|_| Err(storage_down()));

    let result = service(users)
        .update(admin(), UserId::generate(), UserChanges::default())
        .await;

    assert!(matches!(result, Err(UpdateUserError::Unexpected(_))));
}

#[tokio::test]
async fn an_admin_deletes_a_user() {
    let id = UserId::generate();
    let mut users = MockUserRepository::new();
    users
        .expect_delete()
        .withf(move |target| *target == id)
        .returning(|_| Ok(()));

    assert!(service(users).delete(admin(), id).await.is_ok());
}

#[tokio::test]
async fn a_non_admin_may_not_delete_users() {
    let ann = user(Role::User);

    let result = service(MockUserRepository::new())
        .delete(actor(&ann), ann.id)
        .await;

    assert!(matches!(result, Err(DeleteUserError::Forbidden)));
}

#[tokio::test]
async fn deleting_a_missing_user_is_not_found() {
    let mut users = MockUserRepository::new();
    users
        .expect_delete()
        .returning(|_| Err(DeleteUserRecordError::NotFound));
    let id = UserId::generate();

    let result = service(users).delete(admin(), id).await;

    assert!(matches!(result, Err(DeleteUserError::NotFound(missing)) if missing == id));
}

#[tokio::test]
async fn deleting_fails_unexpectedly_when_storage_is_down() {
    let mut users = MockUserRepository::new();
    users
        .expect_delete()
        .returning(|_| Err(DeleteUserRecordError::Unexpected(storage_down())));

    let result = service(users).delete(admin(), UserId::generate()).await;

    assert!(matches!(result, Err(DeleteUserError::Unexpected(_))));
}

#[tokio::test]
async fn ensure_admin_creates_the_admin_when_absent_without_a_welcome_email() {
    let mut users = MockUserRepository::new();
    users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(None));
    users
        .expect_insert()
        .withf(|new| new.role == Role::Admin && new.outbox.is_empty())
        .times(1)
        .returning(|new| {
            Ok(User {
                id: new.id,
                email: new.email,
                name: None,
                role: new.role,
                email_verified: false,
                created_at: new.created_at,
                updated_at: new.created_at,
            })
        });

    let outcome = service(users)
        .ensure_admin(
            Email::parse("admin@example.com").unwrap(),
            Password::parse("admin-password-123").unwrap(),
        )
        .await
        .unwrap();

    assert_eq!(outcome, AdminProvisioning::Created);
}

#[tokio::test]
async fn ensure_admin_leaves_an_existing_account_alone() {
    let existing = user(Role::User);
    let mut users = MockUserRepository::new();
    users
        .expect_find_credentials_by_email()
        .returning(move |_| {
            Ok(Some(UserCredentials {
                user: existing.clone(),
                password_hash: PasswordHash::from_phc("$argon2id$old".to_owned()),
            }))
        });

    let outcome = service(users)
        .ensure_admin(
            Email::parse("ann@example.com").unwrap(),
            Password::parse("admin-password-123").unwrap(),
        )
        .await
        .unwrap();

    assert_eq!(outcome, AdminProvisioning::AlreadyExists);
}

#[tokio::test]
async fn ensure_admin_tolerates_losing_a_creation_race() {
    let mut users = MockUserRepository::new();
    users
        .expect_find_credentials_by_email()
        .returning(|_| Ok(None));
    users
        .expect_insert()
        .returning(|_| Err(InsertUserError::EmailTaken));

    let outcome = service(users)
        .ensure_admin(
            Email::parse("admin@example.com").unwrap(),
            Password::parse("admin-password-123").unwrap(),
        )
        .await
        .unwrap();

    assert_eq!(outcome, AdminProvisioning::AlreadyExists);
}
