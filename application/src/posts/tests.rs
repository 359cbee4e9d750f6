//! Use-case tests of posts with mocked ports.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use domain::ports::{DomainEvent, MockClock, MockEventPublisher, MockPostRepository};
use domain::{Actor, Post, PostChanges, PostId, PostTitle, Role, UserId};

use super::*;

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(|| Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap());
    Arc::new(clock)
}

fn post(author: UserId, published: bool) -> Post {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    Post {
        id: PostId::generate(),
        title: PostTitle::parse("Hello").unwrap(),
        content: None,
        published,
        author_id: author,
        created_at: now,
        updated_at: now,
    }
}

fn user(id: UserId) -> Actor {
    Actor {
        user_id: id,
        role: Role::User,
    }
}

fn service(posts: MockPostRepository, events: MockEventPublisher) -> PostService {
    PostService::new(Arc::new(posts), Arc::new(events), clock())
}

#[tokio::test]
async fn publishing_a_new_post_announces_it_and_a_draft_does_not() {
    let ann = UserId::generate();
    let mut posts = MockPostRepository::new();
    posts.expect_insert().returning(|new| {
        Ok(Post {
            id: new.id,
            title: new.title,
            content: new.content,
            published: new.published,
            author_id: new.author_id,
            created_at: new.created_at,
            updated_at: new.created_at,
        })
    });
    let mut events = MockEventPublisher::new();
    events
        .expect_publish()
        .withf(|event| matches!(event, DomainEvent::PostPublished(_)))
        .times(1)
        .returning(|_| ());
    let service = service(posts, events);
    let command = |published| CreatePost {
        title: PostTitle::parse("Hi").unwrap(),
        content: None,
        published,
    };

    service.create(user(ann), command(true)).await.unwrap();
    service.create(user(ann), command(false)).await.unwrap();
}

#[tokio::test]
async fn another_users_draft_is_not_found_rather_than_forbidden() {
    let draft = post(UserId::generate(), false);
    let id = draft.id;
    let mut posts = MockPostRepository::new();
    posts
        .expect_find_by_id()
        .returning(move |_| Ok(Some(draft.clone())));

    let result = service(posts, MockEventPublisher::new())
        .get(user(UserId::generate()), id)
        .await;

    assert!(matches!(result, Err(GetPostError::NotFound(missing)) if missing == id));
}

#[tokio::test]
async fn a_published_post_of_someone_else_cannot_be_changed_and_nothing_is_written() {
    let published = post(UserId::generate(), true);
    let id = published.id;
    let mut posts = MockPostRepository::new();
    posts
        .expect_find_by_id()
        .returning(move |_| Ok(Some(published.clone())));

    let result = service(posts, MockEventPublisher::new())
        .update(user(UserId::generate()), id, PostChanges::default())
        .await;

    assert!(matches!(result, Err(ChangePostError::Forbidden)));
}

#[tokio::test]
async fn publishing_a_draft_by_update_announces_it_once() {
    let ann = UserId::generate();
    let draft = post(ann, false);
    let (id, before) = (draft.id, draft.clone());
    let mut posts = MockPostRepository::new();
    posts
        .expect_find_by_id()
        .returning(move |_| Ok(Some(before.clone())));
    posts.expect_update().returning(move |_, _, _| {
        Ok(Some(Post {
            published: true,
            ..draft.clone()
        }))
    });
    let mut events = MockEventPublisher::new();
    events.expect_publish().times(1).returning(|_| ());
    let changes = PostChanges {
        published: Some(true),
        ..PostChanges::default()
    };

    service(posts, events)
        .update(user(ann), id, changes)
        .await
        .unwrap();
}

#[tokio::test]
async fn listings_limit_drafts_to_the_caller_unless_admin() {
    let ann = UserId::generate();
    let mut posts = MockPostRepository::new();
    posts
        .expect_list()
        .withf(move |query| query.drafts_visible_to == Some(ann))
        .returning(|query| {
            Ok(domain::Page {
                items: vec![],
                request: query.page,
                total: 0,
            })
        });
    posts
        .expect_list()
        .withf(|query| query.drafts_visible_to.is_none())
        .returning(|query| {
            Ok(domain::Page {
                items: vec![],
                request: query.page,
                total: 0,
            })
        });
    let service = service(posts, MockEventPublisher::new());

    service
        .list(user(ann), PostFilters::default())
        .await
        .unwrap();
    service
        .list(
            Actor {
                user_id: UserId::generate(),
                role: Role::Admin,
            },
            PostFilters::default(),
        )
        .await
        .unwrap();
}
