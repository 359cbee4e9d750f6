//! The `UserRepository` contract.

use std::sync::Arc;

use bootstrap::Storage;
use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
use domain::ports::{
    DeleteUserRecordError, InsertUserError, UpdateUserRecordError, UserRepository,
};
use domain::{
    Email, NewUser, Outbox, PageRequest, PasswordHash, Role, SearchTerm, UserChanges, UserId,
    UserName, UserQuery,
};

contract!(Storage::users;
    an_inserted_user_is_found_by_id_and_by_email,
    a_missing_user_is_not_found,
    a_second_user_with_the_same_email_is_refused,
    timestamps_round_trip_to_the_microsecond,
    listing_pages_users_oldest_first_with_the_total,
    a_page_past_the_end_is_empty_but_knows_the_total,
    search_matches_name_or_email_ignoring_case,
    search_treats_like_wildcards_literally,
    update_changes_only_the_given_fields,
    update_to_a_taken_email_is_refused,
    updating_a_missing_user_is_not_found,
    delete_removes_the_user_and_a_second_delete_is_not_found,
    a_role_change_increments_the_session_version_and_other_changes_do_not,
    the_auth_state_of_a_missing_user_is_none,
    totals_follow_every_write_through_the_same_database_at_once,
);

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn new_user(email: &str, name: Option<&str>, created_at: DateTime<Utc>) -> NewUser {
    NewUser {
        id: UserId::generate(),
        email: Email::parse(email).unwrap(),
        name: name.map(|name| UserName::parse(name).unwrap()),
        role: Role::User,
        password_hash: PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        ),
        created_at,
        email_verified: false,
        email_verification: None,
        outbox: Outbox::empty(),
    }
}

fn query(page: u32, limit: u32, search: Option<&str>) -> UserQuery {
    UserQuery {
        page: PageRequest::new(Some(page), Some(limit)).unwrap(),
        search: search.and_then(|term| SearchTerm::parse(term).unwrap()),
    }
}

async fn an_inserted_user_is_found_by_id_and_by_email(
    repository: &Arc<dyn UserRepository>,
    _: &Storage,
) {
    let new = new_user("ann@example.com", Some("Ann Lee"), base_time());
    let id = new.id;

    let inserted = repository.insert(new).await.unwrap();

    assert_eq!(inserted.id, id);
    assert_eq!(inserted.updated_at, inserted.created_at);
    assert_eq!(
        repository.find_by_id(id).await.unwrap(),
        Some(inserted.clone())
    );
    let credentials = repository
        .find_credentials_by_email(&Email::parse("ann@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credentials.user, inserted);
    assert!(credentials.password_hash.as_str().starts_with("$argon2id$"));
}

async fn a_missing_user_is_not_found(repository: &Arc<dyn UserRepository>, _: &Storage) {
    assert_eq!(
        repository.find_by_id(UserId::generate()).await.unwrap(),
        None
    );
    let nobody = Email::parse("nobody@example.com").unwrap();
    assert!(
        repository
            .find_credentials_by_email(&nobody)
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_second_user_with_the_same_email_is_refused(
    repository: &Arc<dyn UserRepository>,
    _: &Storage,
) {
    repository
        .insert(new_user("ann@example.com", None, base_time()))
        .await
        .unwrap();

    // Emails are normalised by the domain, so a different case is the same address.
    let result = repository
        .insert(new_user("ANN@example.com", None, base_time()))
        .await;

    assert!(matches!(result, Err(InsertUserError::EmailTaken)));
}

async fn timestamps_round_trip_to_the_microsecond(
    repository: &Arc<dyn UserRepository>,
    _: &Storage,
) {
    let created_at = (base_time() + Duration::nanoseconds(123_456_000)).trunc_subsecs(6);
    let new = new_user("ann@example.com", None, created_at);
    let id = new.id;
    repository.insert(new).await.unwrap();

    let found = repository.find_by_id(id).await.unwrap().unwrap();

    assert_eq!(found.created_at, created_at);
}

async fn listing_pages_users_oldest_first_with_the_total(
    repository: &Arc<dyn UserRepository>,
    _: &Storage,
) {
    for index in 0..5 {
        let email = format!("user{index}@example.com");
        repository
            .insert(new_user(
                &email,
                None,
                base_time() + Duration::seconds(index),
            ))
            .await
            .unwrap();
    }

    let page = repository.list(&query(2, 2, None)).await.unwrap();

    let emails: Vec<_> = page.items.iter().map(|user| user.email.as_str()).collect();
    assert_eq!(emails, ["user2@example.com", "user3@example.com"]);
    assert_eq!(page.total, 5);
    assert_eq!(page.total_pages(), 3);
}

async fn a_page_past_the_end_is_empty_but_knows_the_total(
    repository: &Arc<dyn UserRepository>,
    _: &Storage,
) {
    repository
        .insert(new_user("ann@example.com", None, base_time()))
        .await
        .unwrap();

    let page = repository.list(&query(3, 10, None)).await.unwrap();

    assert!(page.items.is_empty());
    assert_eq!(page.total, 1);
}

async fn search_matches_name_or_email_ignoring_case(
    repository: &Arc<dyn UserRepository>,
    _: &Storage,
) {
    repository
        .insert(new_user("ann@example.com", Some("Ann Lee"), base_time()))
        .await
        .unwrap();
    repository
        .insert(new_user(
            "bob.leeds@example.com",
            None,
            base_time() + Duration::seconds(1),
        ))
        .await
        .unwrap();
    repository
        .insert(new_user(
            "cy@example.com",
            Some("Cy Young"),
            base_time() + Duration::seconds(2),
        ))
        .await
        .unwrap();

    let page = repository.list(&query(1, 10, Some("LEE"))).await.unwrap();

    let emails: Vec<_> = page.items.iter().map(|user| user.email.as_str()).collect();
    assert_eq!(emails, ["ann@example.com", "bob.leeds@example.com"]);
    assert_eq!(page.total, 2);
}

async fn search_treats_like_wildcards_literally(repository: &Arc<dyn UserRepository>, _: &Storage) {
    repository
        .insert(new_user("ann@example.com", Some("Ann"), base_time()))
        .await
        .unwrap();
    repository
        .insert(new_user(
            "pct@example.com",
            Some("100% Pat"),
            base_time() + Duration::seconds(1),
        ))
        .await
        .unwrap();

    let percent = repository.list(&query(1, 10, Some("%"))).await.unwrap();
    let underscore = repository.list(&query(1, 10, Some("_"))).await.unwrap();

    assert_eq!(percent.total, 1);
    assert_eq!(percent.items[0].email.as_str(), "pct@example.com");
    assert_eq!(underscore.total, 0);
}

async fn update_changes_only_the_given_fields(repository: &Arc<dyn UserRepository>, _: &Storage) {
    let new = new_user("ann@example.com", Some("Ann"), base_time());
    let id = new.id;
    repository.insert(new).await.unwrap();
    let later = base_time() + Duration::minutes(5);
    let changes = UserChanges {
        name: Some(UserName::parse("Ann Lee").unwrap()),
        ..UserChanges::default()
    };

    let updated = repository.update(id, changes, None, later).await.unwrap();

    assert_eq!(updated.name.as_ref().map(UserName::as_str), Some("Ann Lee"));
    assert_eq!(updated.email.as_str(), "ann@example.com");
    assert_eq!(updated.role, Role::User);
    assert_eq!(updated.created_at, base_time());
    assert_eq!(updated.updated_at, later);
    assert_eq!(repository.find_by_id(id).await.unwrap(), Some(updated));
}

async fn update_to_a_taken_email_is_refused(repository: &Arc<dyn UserRepository>, _: &Storage) {
    repository
        .insert(new_user("ann@example.com", None, base_time()))
        .await
        .unwrap();
    let bob = new_user("bob@example.com", None, base_time());
    let bob_id = bob.id;
    repository.insert(bob).await.unwrap();
    let changes = UserChanges {
        email: Some(Email::parse("ann@example.com").unwrap()),
        ..UserChanges::default()
    };

    let result = repository.update(bob_id, changes, None, base_time()).await;

    assert!(matches!(result, Err(UpdateUserRecordError::EmailTaken)));
}

async fn updating_a_missing_user_is_not_found(repository: &Arc<dyn UserRepository>, _: &Storage) {
    let result = repository
        .update(
            UserId::generate(),
            UserChanges::default(),
            None,
            base_time(),
        )
        .await;

    assert!(matches!(result, Err(UpdateUserRecordError::NotFound)));
}

async fn delete_removes_the_user_and_a_second_delete_is_not_found(
    repository: &Arc<dyn UserRepository>,
    _: &Storage,
) {
    let new = new_user("ann@example.com", None, base_time());
    let id = new.id;
    repository.insert(new).await.unwrap();

    repository.delete(id).await.unwrap();

    assert_eq!(repository.find_by_id(id).await.unwrap(), None);
    assert!(matches!(
        repository.delete(id).await,
        Err(DeleteUserRecordError::NotFound)
    ));
}

async fn a_role_change_increments_the_session_version_and_other_changes_do_not(
    repository: &Arc<dyn UserRepository>,
    _: &Storage,
) {
    let new = new_user("ann@example.com", None, base_time());
    let id = new.id;
    repository.insert(new).await.unwrap();
    assert_eq!(
        repository
            .find_auth_state(id)
            .await
            .unwrap()
            .unwrap()
            .session_version,
        domain::SessionVersion::new(0)
    );

    let rename = UserChanges {
        name: Some(UserName::parse("Ann").unwrap()),
        ..UserChanges::default()
    };
    repository
        .update(id, rename, None, base_time())
        .await
        .unwrap();
    assert_eq!(
        repository
            .find_auth_state(id)
            .await
            .unwrap()
            .unwrap()
            .session_version,
        domain::SessionVersion::new(0)
    );

    let promote = UserChanges {
        role: Some(Role::Admin),
        ..UserChanges::default()
    };
    repository
        .update(id, promote, None, base_time())
        .await
        .unwrap();
    let state = repository.find_auth_state(id).await.unwrap().unwrap();
    assert_eq!(
        (state.role, state.session_version),
        (Role::Admin, domain::SessionVersion::new(1))
    );
}

async fn the_auth_state_of_a_missing_user_is_none(
    repository: &Arc<dyn UserRepository>,
    _: &Storage,
) {
    assert_eq!(
        repository
            .find_auth_state(UserId::generate())
            .await
            .unwrap(),
        None
    );
}

async fn totals_follow_every_write_through_the_same_database_at_once(
    repository: &Arc<dyn UserRepository>,
    store: &Storage,
) {
    // Another repository on the same handle, as the app's and the harness's are.
    let other = store.users();
    for (index, email) in ["ann@example.com", "anna@example.com"].iter().enumerate() {
        let created_at = base_time() + Duration::seconds(i64::try_from(index).unwrap());
        repository
            .insert(new_user(email, None, created_at))
            .await
            .unwrap();
    }
    // A page of one: the total must be counted (and may be remembered).
    let before = repository.list(&query(1, 1, Some("ann"))).await.unwrap();

    let third = other
        .insert(new_user(
            "annie@example.com",
            None,
            base_time() + Duration::seconds(5),
        ))
        .await
        .unwrap();
    let after_insert = repository.list(&query(1, 1, Some("ann"))).await.unwrap();
    other
        .update(
            third.id,
            UserChanges {
                email: Some(Email::parse("zoe@example.com").unwrap()),
                name: None,
                role: None,
            },
            None,
            base_time(),
        )
        .await
        .unwrap();
    let after_update = repository.list(&query(1, 1, Some("ann"))).await.unwrap();
    other.delete(third.id).await.unwrap();
    let everyone = repository.list(&query(1, 1, None)).await.unwrap();

    assert_eq!(before.total, 2);
    assert_eq!(after_insert.total, 3);
    assert_eq!(after_update.total, 2);
    assert_eq!(everyone.total, 2);
}
