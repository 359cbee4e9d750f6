//! The `PostRepository` contract.

use std::sync::Arc;

use bootstrap::Storage;
use chrono::Duration;
use domain::ports::PostRepository;
use domain::{
    NewPost, PageRequest, PostChanges, PostContent, PostId, PostQuery, PostTitle, SearchTerm,
    UserId,
};

use super::{now, user};

contract!(Storage::posts;
    a_post_round_trips_and_updates_change_only_the_given_fields,
    listings_show_published_posts_and_the_viewers_drafts_newest_first,
    listings_filter_by_author_published_and_search,
    delete_reports_whether_the_post_existed,
);

async fn post(
    posts: &Arc<dyn PostRepository>,
    author: UserId,
    title: &str,
    published: bool,
    seconds: i64,
) -> PostId {
    let id = PostId::generate();
    posts
        .insert(NewPost {
            id,
            title: PostTitle::parse(title).unwrap(),
            content: Some(PostContent::parse("Body text").unwrap()),
            published,
            author_id: author,
            created_at: now() + Duration::seconds(seconds),
        })
        .await
        .unwrap();
    id
}

fn query(viewer: Option<UserId>) -> PostQuery {
    PostQuery {
        page: PageRequest::default(),
        author_id: None,
        published: None,
        search: None,
        drafts_visible_to: viewer,
    }
}

fn titles(page: &domain::Page<domain::Post>) -> Vec<&str> {
    page.items.iter().map(|post| post.title.as_str()).collect()
}

async fn a_post_round_trips_and_updates_change_only_the_given_fields(
    posts: &Arc<dyn PostRepository>,
    store: &Storage,
) {
    let ann = user(store).await;
    let id = post(posts, ann, "Hello", false, 0).await;

    let changes = PostChanges {
        published: Some(true),
        ..PostChanges::default()
    };
    let updated = posts
        .update(id, changes, now() + Duration::minutes(1))
        .await
        .unwrap()
        .unwrap();

    assert_eq!((updated.title.as_str(), updated.published), ("Hello", true));
    assert_eq!(
        updated.content.as_ref().map(PostContent::as_str),
        Some("Body text")
    );
    assert_eq!(updated.updated_at, now() + Duration::minutes(1));
    assert_eq!(posts.find_by_id(id).await.unwrap(), Some(updated));
    assert_eq!(
        posts
            .update(PostId::generate(), PostChanges::default(), now())
            .await
            .unwrap(),
        None
    );
}

async fn listings_show_published_posts_and_the_viewers_drafts_newest_first(
    posts: &Arc<dyn PostRepository>,
    store: &Storage,
) {
    let (ann, bob) = (user(store).await, user(store).await);
    post(posts, ann, "ann public", true, 0).await;
    post(posts, ann, "ann draft", false, 1).await;
    post(posts, bob, "bob draft", false, 2).await;

    let for_bob = posts.list(&query(Some(bob))).await.unwrap();
    let for_admin = posts.list(&query(None)).await.unwrap();

    assert_eq!(titles(&for_bob), ["bob draft", "ann public"]);
    assert_eq!(for_bob.total, 2);
    assert_eq!(titles(&for_admin), ["bob draft", "ann draft", "ann public"]);
}

async fn listings_filter_by_author_published_and_search(
    posts: &Arc<dyn PostRepository>,
    store: &Storage,
) {
    let (ann, bob) = (user(store).await, user(store).await);
    post(posts, ann, "Rust tips", true, 0).await;
    post(posts, ann, "Gardening", true, 1).await;
    post(posts, bob, "More RUST", true, 2).await;

    let by_bob = posts
        .list(&PostQuery {
            author_id: Some(bob),
            ..query(None)
        })
        .await
        .unwrap();
    let rust = posts
        .list(&PostQuery {
            search: SearchTerm::parse("rust").unwrap(),
            ..query(None)
        })
        .await
        .unwrap();
    let drafts = posts
        .list(&PostQuery {
            published: Some(false),
            ..query(None)
        })
        .await
        .unwrap();

    assert_eq!(titles(&by_bob), ["More RUST"]);
    assert_eq!(titles(&rust), ["More RUST", "Rust tips"]);
    assert!(drafts.items.is_empty());
}

async fn delete_reports_whether_the_post_existed(posts: &Arc<dyn PostRepository>, store: &Storage) {
    let ann = user(store).await;
    let id = post(posts, ann, "Bye", true, 0).await;

    assert!(posts.delete(id).await.unwrap());
    assert!(!posts.delete(id).await.unwrap());
    assert_eq!(posts.find_by_id(id).await.unwrap(), None);
}
