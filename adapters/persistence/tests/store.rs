//! What a [`DieselStore`] shares between its repositories: the users' totals (behind the
//! [`CachedTotals`](adapter_persistence::CachedTotals) decorator) and the job queue's
//! wake-ups (behind the outbox of a write).

use std::time::Duration;

use adapter_persistence::testing::TestDatabase;
use adapter_persistence::{DieselStore, DieselUserRepository, JobSignals};
use chrono::Utc;
use domain::ports::{JobRepository as _, UserRepository};
use domain::{
    Email, JobKind, JobPayload, NewJob, NewUser, Outbox, PageRequest, PasswordHash, QueueName,
    Role, UserId, UserQuery,
};

fn new_user(number: usize) -> NewUser {
    NewUser {
        id: UserId::generate(),
        email: Email::parse(&format!("user{number}@example.com")).unwrap(),
        name: None,
        role: Role::User,
        password_hash: PasswordHash::from_phc("$argon2id$x".to_owned()),
        created_at: Utc::now(),
        email_verified: false,
        email_verification: None,
        outbox: Outbox::empty(),
    }
}

/// The first page of one user: it never shows the total, so the total is counted or reused.
fn first_of_all() -> UserQuery {
    UserQuery {
        page: PageRequest::new(Some(1), Some(1)).unwrap(),
        search: None,
    }
}

async fn total(users: &dyn UserRepository) -> u64 {
    users.list(&first_of_all()).await.unwrap().total
}

/// A repository on the same database that bypasses the store's totals (as another
/// process's would).
fn elsewhere(store: &DieselStore) -> DieselUserRepository {
    DieselUserRepository::new(store.database().clone(), JobSignals::default())
}

#[tokio::test]
async fn a_total_is_reused_until_a_write_through_the_store_forgets_it() {
    let database = TestDatabase::sqlite();
    let store = DieselStore::new(database.connect().await);
    let users = store.users();
    for number in 0..3 {
        users.insert(new_user(number)).await.unwrap();
    }
    assert_eq!(total(&users).await, 3);

    elsewhere(&store).insert(new_user(3)).await.unwrap();
    assert_eq!(total(&users).await, 3, "the counted total is reused");
    assert_eq!(
        total(&elsewhere(&store)).await,
        4,
        "the undecorated repository counts every time"
    );

    // Any users repository of the store forgets the totals of all of them when it writes.
    store.users().insert(new_user(4)).await.unwrap();
    assert_eq!(total(&users).await, 5);
    let first = users.list(&first_of_all()).await.unwrap().items[0].id;
    store.users().delete(first).await.unwrap();
    assert_eq!(total(&users).await, 4);
}

#[tokio::test]
async fn a_refused_write_keeps_the_totals() {
    let database = TestDatabase::sqlite();
    let store = DieselStore::new(database.connect().await);
    let users = store.users();
    users.insert(new_user(0)).await.unwrap();
    users.insert(new_user(1)).await.unwrap();
    assert_eq!(total(&users).await, 2);
    elsewhere(&store).insert(new_user(2)).await.unwrap();

    assert!(
        users.insert(new_user(0)).await.is_err(),
        "the email is taken"
    );

    assert_eq!(total(&users).await, 2, "nothing changed through the store");
}

#[tokio::test]
async fn a_job_in_the_outbox_of_a_new_user_wakes_a_waiting_worker() {
    let database = TestDatabase::sqlite();
    let store = DieselStore::new(database.connect().await);
    let jobs = store.jobs();
    let worker = tokio::spawn(async move { jobs.wait_for_jobs(Duration::from_mins(10)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!worker.is_finished(), "nothing was stored yet");

    let welcome = NewJob::new(
        QueueName::parse("mail").unwrap(),
        JobKind::parse("mail.welcome").unwrap(),
        JobPayload::from_json("{}".to_owned()),
        Utc::now(),
    );
    store
        .users()
        .insert(NewUser {
            outbox: welcome.into(),
            ..new_user(0)
        })
        .await
        .unwrap();

    tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .expect("the worker is woken, long before its own timeout")
        .unwrap();
}
