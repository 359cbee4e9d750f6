//! `/api/v1/posts`.

use api_tests::{TestApp, api_test};
use domain::{PostId, Role};
use reqwest::Method;
use serde_json::{Value, json};

async fn post(app: &TestApp, token: &str, title: &str, published: bool) -> Value {
    app.create_post(
        token,
        &json!({ "title": title, "content": "Body", "published": published }),
    )
    .await
    .expect(201)
}

fn titles(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|post| post["title"].as_str().unwrap())
        .collect()
}

api_test! {
    async fn a_user_writes_a_draft_they_alone_can_see(app) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;

        let draft = app.create_post(&ann.token, &json!({ "title": "  Draft  " })).await.expect(201);

        assert_eq!(draft["title"], "Draft");
        assert_eq!(draft["published"], false);
        assert_eq!(draft["content"], json!(null));
        assert_eq!(draft["authorId"], ann.id());
        let id = draft["id"].as_str().unwrap();
        app.send(Method::GET, &format!("/api/v1/posts/{id}"), Some(&ann.token), None).await.expect(200);
        app.send(Method::GET, &format!("/api/v1/posts/{id}"), Some(&bob.token), None)
            .await
            .expect_error(404, &format!("Post with ID {id} not found"));
    }
}

api_test! {
    async fn listings_show_published_posts_and_only_ones_own_drafts(app) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        post(&app, &ann.token, "ann public", true).await;
        post(&app, &ann.token, "ann draft", false).await;
        post(&app, &bob.token, "bob draft", false).await;

        let for_bob = app.send(Method::GET, "/api/v1/posts", Some(&bob.token), None).await.expect(200);
        let for_admin = app.send(Method::GET, "/api/v1/posts", Some(&admin.token), None).await.expect(200);

        assert_eq!(titles(&for_bob), ["bob draft", "ann public"]);
        assert_eq!(for_bob["meta"]["total"], 2);
        assert_eq!(titles(&for_admin), ["bob draft", "ann draft", "ann public"]);
    }
}

api_test! {
    async fn listings_filter_by_author_published_and_search(app) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        post(&app, &ann.token, "Rust tips", true).await;
        post(&app, &ann.token, "Gardening", true).await;
        post(&app, &bob.token, "More RUST", true).await;
        post(&app, &ann.token, "rust draft", false).await;
        let get = |query: String| {
            let token = ann.token.clone();
            let app = &app;
            async move { app.send(Method::GET, &format!("/api/v1/posts?{query}"), Some(&token), None).await.expect(200) }
        };

        assert_eq!(titles(&get(format!("authorId={}", bob.id())).await), ["More RUST"]);
        assert_eq!(titles(&get("published=false".to_owned()).await), ["rust draft"]);
        assert_eq!(titles(&get("search=rust&published=true".to_owned()).await), ["More RUST", "Rust tips"]);
    }
}

api_test! {
    async fn only_the_author_or_an_admin_changes_or_deletes_a_post(app) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let admin = app.create_user(Role::Admin).await;
        let id = post(&app, &ann.token, "Hello", true).await["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/posts/{id}");

        app.send(Method::PUT, &path, Some(&bob.token), Some(&json!({ "title": "Hacked" }))).await.expect_error(403, "Forbidden");
        app.send(Method::DELETE, &path, Some(&bob.token), None).await.expect_error(403, "Forbidden");
        let updated = app.send(Method::PUT, &path, Some(&ann.token), Some(&json!({ "title": "Hello again", "published": false }))).await.expect(200);
        assert_eq!((updated["title"].as_str(), updated["published"].as_bool()), (Some("Hello again"), Some(false)));
        app.send(Method::PUT, &path, Some(&admin.token), Some(&json!({ "published": true }))).await.expect(200);
        let deleted = app.send(Method::DELETE, &path, Some(&ann.token), None).await;
        assert_eq!(deleted.status.as_u16(), 204);
        app.send(Method::GET, &path, Some(&ann.token), None).await.expect_error(404, &format!("Post with ID {id} not found"));
    }
}

api_test! {
    async fn another_users_draft_cannot_be_changed_and_stays_hidden(app) {
        let ann = app.create_user(Role::User).await;
        let bob = app.create_user(Role::User).await;
        let id = post(&app, &ann.token, "Secret", false).await["id"].as_str().unwrap().to_owned();

        app.send(Method::PUT, &format!("/api/v1/posts/{id}"), Some(&bob.token), Some(&json!({ "title": "x" })))
            .await
            .expect_error(404, &format!("Post with ID {id} not found"));
    }
}

api_test! {
    async fn invalid_posts_are_refused_with_the_exact_problems(app) {
        let ann = app.create_user(Role::User).await;
        let cases = [
            (json!({ "title": " " }), json!({ "formErrors": [], "fieldErrors": { "title": ["Must not be empty"] } })),
            (json!({ "title": "t".repeat(201) }), json!({ "formErrors": [], "fieldErrors": { "title": ["Must be at most 200 characters"] } })),
            (json!({ "content": "c" }), json!({ "formErrors": [], "fieldErrors": { "title": ["Required"] } })),
            (json!({ "title": "ok", "published": "yes" }), json!({ "formErrors": [], "fieldErrors": { "published": ["Expected a boolean, received string"] } })),
            (json!({ "title": "ok", "authorId": ann.id() }), json!({ "formErrors": ["Unrecognized key: 'authorId'"], "fieldErrors": {} })),
        ];
        for (body, details) in cases {
            app.create_post(&ann.token, &body).await.expect_validation_error(&details);
        }
    }
}

api_test! {
    async fn post_ids_must_be_uuids_and_exist(app) {
        let ann = app.create_user(Role::User).await;
        let missing = PostId::generate().to_string();

        app.send(Method::GET, "/api/v1/posts/42", Some(&ann.token), None).await.expect_error(400, "Invalid ID format");
        app.send(Method::DELETE, &format!("/api/v1/posts/{missing}"), Some(&ann.token), None)
            .await
            .expect_error(404, &format!("Post with ID {missing} not found"));
        app.send(Method::GET, "/api/v1/posts", None, None).await.expect_error(401, "Authentication required");
    }
}

api_test! {
    async fn the_longest_post_the_document_allows_is_accepted_and_one_more_character_is_not(app) {
        let ann = app.create_user(Role::User).await;
        // Four-byte characters: the body is about 392 KiB, far past the 10 KiB default.
        let longest = json!({ "title": "𝄞".repeat(200), "content": "𝄞".repeat(100_000) });
        let too_long = json!({ "title": "t", "content": "c".repeat(100_001) });

        let created = app.create_post(&ann.token, &longest).await.expect(201);
        app.create_post(&ann.token, &too_long).await.expect_validation_error(
            &json!({ "formErrors": [], "fieldErrors": { "content": ["Must be at most 100000 characters"] } }),
        );

        assert_eq!(created["content"].as_str().unwrap().chars().count(), 100_000);
    }
}
