//! Posts: value objects, the entity, and who may see or change them.

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::id::{PostId, UserId};
use crate::pagination::PageRequest;
use crate::user::SearchTerm;

const TITLE_MAX_CHARS: usize = 200;
const CONTENT_MAX_CHARS: usize = 100_000;

/// Why a string is not a [`PostTitle`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostTitleError {
    #[error("Must not be empty")]
    Empty,
    #[error("Must be at most {TITLE_MAX_CHARS} characters")]
    TooLong,
    #[error("Must not contain control characters")]
    ControlCharacter,
}

/// A post title: at most 200 characters, not blank, no control characters; stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostTitle(String);

impl PostTitle {
    /// Longest title, counted as typed (before trimming), as the API documents it.
    pub const MAX_CHARS: usize = TITLE_MAX_CHARS;

    pub fn parse(text: &str) -> Result<Self, PostTitleError> {
        if text.chars().count() > TITLE_MAX_CHARS {
            return Err(PostTitleError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(PostTitleError::ControlCharacter);
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(PostTitleError::Empty);
        }
        Ok(Self(text.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not [`PostContent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostContentError {
    #[error("Must be at most {CONTENT_MAX_CHARS} characters")]
    TooLong,
    #[error("Must not contain control characters other than tab and line breaks")]
    ControlCharacter,
}

/// A post body: up to 100,000 characters, kept as written; no control characters but tab,
/// line feed and carriage return (PostgreSQL cannot store NUL in text at all, and the rest
/// have no place in prose).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostContent(String);

impl PostContent {
    /// Longest content.
    pub const MAX_CHARS: usize = CONTENT_MAX_CHARS;

    pub fn parse(text: &str) -> Result<Self, PostContentError> {
        if text.chars().count() > CONTENT_MAX_CHARS {
            return Err(PostContentError::TooLong);
        }
        if text
            .chars()
            .any(|character| character.is_control() && !matches!(character, '\t' | '\n' | '\r'))
        {
            return Err(PostContentError::ControlCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: PostId,
    pub title: PostTitle,
    pub content: Option<PostContent>,
    pub published: bool,
    pub author_id: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A post to store.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub id: PostId,
    pub title: PostTitle,
    pub content: Option<PostContent>,
    pub published: bool,
    pub author_id: UserId,
    pub created_at: DateTime<Utc>,
}

/// A partial update of a post: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostChanges {
    pub title: Option<PostTitle>,
    pub content: Option<PostContent>,
    pub published: Option<bool>,
}

/// A filtered, paginated listing of the posts a viewer may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostQuery {
    pub page: PageRequest,
    pub author_id: Option<UserId>,
    pub published: Option<bool>,
    pub search: Option<SearchTerm>,
    /// Drafts are visible only to their author, unless this is `None` (an admin sees all).
    pub drafts_visible_to: Option<UserId>,
}

impl Actor {
    /// Published posts are public to every user; a draft only to its author and admins.
    #[must_use]
    pub fn may_see_post(&self, post: &Post) -> bool {
        post.published || self.is_admin() || post.author_id == self.user_id
    }

    /// Only the author or an admin may change or delete a post.
    #[must_use]
    pub fn may_change_post(&self, post: &Post) -> bool {
        self.is_admin() || post.author_id == self.user_id
    }

    /// Whose drafts a listing may include: the actor's own, or everyone's for an admin.
    #[must_use]
    pub fn draft_scope(&self) -> Option<UserId> {
        (!self.is_admin()).then_some(self.user_id)
    }
}

/// Whether an update publishes a post that was not published.
#[must_use]
pub fn becomes_published(before: &Post, after: &Post) -> bool {
    !before.published && after.published
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Role;

    fn post(author: UserId, published: bool) -> Post {
        Post {
            id: PostId::generate(),
            title: PostTitle::parse("Hello").unwrap(),
            content: None,
            published,
            author_id: author,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn nul_and_other_control_characters_are_refused_in_titles_and_content() {
        assert_eq!(
            PostTitle::parse("a\0b"),
            Err(PostTitleError::ControlCharacter)
        );
        assert_eq!(
            PostTitle::parse("a\nb"),
            Err(PostTitleError::ControlCharacter)
        );
        assert_eq!(
            PostContent::parse("a\0b"),
            Err(PostContentError::ControlCharacter)
        );
        assert_eq!(
            PostContent::parse("\u{1b}[31m"),
            Err(PostContentError::ControlCharacter)
        );
        assert!(PostContent::parse("line one\r\nline two\tend").is_ok());
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(PostTitle::parse("  Hi ").unwrap().as_str(), "Hi");
        assert_eq!(PostTitle::parse(" "), Err(PostTitleError::Empty));
        assert!(PostTitle::parse(&"t".repeat(200)).is_ok());
        assert_eq!(
            PostTitle::parse(&"t".repeat(201)),
            Err(PostTitleError::TooLong)
        );
    }

    #[test]
    fn a_title_is_measured_as_typed_before_it_is_trimmed() {
        // The documented `maxLength` applies to the string sent, spaces included.
        let padded = format!(" {} ", "t".repeat(199));
        assert_eq!(PostTitle::parse(&padded), Err(PostTitleError::TooLong));
    }

    #[test]
    fn content_is_bounded_at_100000_characters() {
        assert!(PostContent::parse(&"c".repeat(100_000)).is_ok());
        assert_eq!(
            PostContent::parse(&"c".repeat(100_001)),
            Err(PostContentError::TooLong)
        );
    }

    #[test]
    fn drafts_are_visible_to_their_author_and_admins_only() {
        let (ann, bob) = (UserId::generate(), UserId::generate());
        let draft = post(ann, false);
        assert!(
            Actor {
                user_id: ann,
                role: Role::User
            }
            .may_see_post(&draft)
        );
        assert!(
            !Actor {
                user_id: bob,
                role: Role::User
            }
            .may_see_post(&draft)
        );
        assert!(
            Actor {
                user_id: bob,
                role: Role::Admin
            }
            .may_see_post(&draft)
        );
        assert!(
            Actor {
                user_id: bob,
                role: Role::User
            }
            .may_see_post(&post(ann, true))
        );
    }

    #[test]
    fn only_the_author_or_an_admin_changes_a_post() {
        let (ann, bob) = (UserId::generate(), UserId::generate());
        let published = post(ann, true);
        assert!(
            Actor {
                user_id: ann,
                role: Role::User
            }
            .may_change_post(&published)
        );
        assert!(
            !Actor {
                user_id: bob,
                role: Role::User
            }
            .may_change_post(&published)
        );
        assert!(
            Actor {
                user_id: bob,
                role: Role::Admin
            }
            .may_change_post(&published)
        );
    }

    #[test]
    fn publishing_is_the_change_from_draft_to_published() {
        let ann = UserId::generate();
        let draft = post(ann, false);
        let published = Post {
            published: true,
            ..draft.clone()
        };
        assert!(becomes_published(&draft, &published));
        assert!(!becomes_published(&published, &published));
    }
}
