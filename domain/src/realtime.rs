//! Chat rooms of the realtime gateway: room names, chat messages, and who may join a room.
//!
//! Pure rules; the socket adapter parses client payloads into these types and asks them
//! before it touches a room.

use crate::id::UserId;

/// The longest room name, in characters.
pub const ROOM_NAME_MAX_CHARS: usize = 64;
/// The longest chat message, in characters.
pub const CHAT_MESSAGE_MAX_CHARS: usize = 2000;
/// Rooms whose name starts with this are private: `user:<id>` belongs to one user.
const PRIVATE_ROOM_PREFIX: &str = "user:";
/// The room where every published post is announced.
const POSTS_ROOM: &str = "posts";

/// Why a string is not a [`RoomName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoomNameError {
    #[error("Must not be empty")]
    Empty,
    #[error("Must be at most {ROOM_NAME_MAX_CHARS} characters")]
    TooLong,
    /// Control characters would let a client forge lines in logs that quote the name.
    #[error("Must not contain control characters")]
    ControlCharacter,
}

/// A room name: 1 to 64 characters, no control characters, kept exactly as written (room
/// names are identifiers, so `" a"` and `"a"` are different rooms).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomName(String);

impl RoomName {
    pub fn parse(text: &str) -> Result<Self, RoomNameError> {
        if text.is_empty() {
            return Err(RoomNameError::Empty);
        }
        if text.chars().count() > ROOM_NAME_MAX_CHARS {
            return Err(RoomNameError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(RoomNameError::ControlCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    /// `user:<id>`: the private room every connection of `user` joins, where the events
    /// meant for that user alone (money received) are delivered.
    #[must_use]
    pub fn private_to(user: UserId) -> Self {
        Self(format!("{PRIVATE_ROOM_PREFIX}{user}"))
    }

    /// `posts`: where published posts are announced.
    #[must_use]
    pub fn posts() -> Self {
        Self(POSTS_ROOM.to_owned())
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `user` may join this room. Every name under `user:` is reserved: only
    /// `user:<own id>` may be joined, so nobody can listen in on another user's events or
    /// squat on a name like `user:admin`. Every other room is open to any user.
    #[must_use]
    pub fn may_be_joined_by(&self, user: UserId) -> bool {
        !self.0.starts_with(PRIVATE_ROOM_PREFIX) || *self == Self::private_to(user)
    }
}

/// Why a string is not a [`ChatMessage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChatMessageError {
    #[error("Must not be empty")]
    Empty,
    #[error("Must be at most {CHAT_MESSAGE_MAX_CHARS} characters")]
    TooLong,
}

/// The text of a chat message: 1 to 2,000 characters, kept as written (line breaks and
/// surrounding spaces are the sender's to choose).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage(String);

impl ChatMessage {
    pub fn parse(text: &str) -> Result<Self, ChatMessageError> {
        if text.is_empty() {
            return Err(ChatMessageError::Empty);
        }
        if text.chars().count() > CHAT_MESSAGE_MAX_CHARS {
            return Err(ChatMessageError::TooLong);
        }
        Ok(Self(text.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_room_name_is_one_to_sixty_four_characters_kept_as_written() {
        assert_eq!(RoomName::parse(""), Err(RoomNameError::Empty));
        assert_eq!(
            RoomName::parse(&"é".repeat(64)).unwrap().as_str(),
            "é".repeat(64)
        );
        assert_eq!(
            RoomName::parse(&"a".repeat(65)),
            Err(RoomNameError::TooLong)
        );
        assert_eq!(RoomName::parse(" lobby ").unwrap().as_str(), " lobby ");
    }

    #[test]
    fn a_room_name_refuses_control_characters() {
        assert_eq!(
            RoomName::parse("lobby\nforged log line"),
            Err(RoomNameError::ControlCharacter)
        );
        assert_eq!(
            RoomName::parse("a\u{7f}"),
            Err(RoomNameError::ControlCharacter)
        );
    }

    #[test]
    fn a_private_room_may_be_joined_by_its_user_only() {
        let owner = UserId::generate();
        let room = RoomName::private_to(owner);

        assert_eq!(room.as_str(), format!("user:{owner}"));
        assert!(room.may_be_joined_by(owner));
        assert!(!room.may_be_joined_by(UserId::generate()));
    }

    #[test]
    fn every_name_under_user_is_reserved() {
        let anyone = UserId::generate();
        for name in ["user:", "user:admin", "user:not-a-uuid"] {
            assert!(
                !RoomName::parse(name).unwrap().may_be_joined_by(anyone),
                "{name}"
            );
        }
    }

    #[test]
    fn public_rooms_may_be_joined_by_anyone() {
        let anyone = UserId::generate();
        assert!(RoomName::posts().may_be_joined_by(anyone));
        assert!(RoomName::parse("User:x").unwrap().may_be_joined_by(anyone));
        assert!(RoomName::parse("lobby").unwrap().may_be_joined_by(anyone));
    }

    #[test]
    fn a_chat_message_is_one_to_two_thousand_characters_kept_as_written() {
        assert_eq!(ChatMessage::parse(""), Err(ChatMessageError::Empty));
        assert_eq!(ChatMessage::parse(" hi\n").unwrap().as_str(), " hi\n");
        assert!(ChatMessage::parse(&"ü".repeat(2000)).is_ok());
        assert_eq!(
            ChatMessage::parse(&"a".repeat(2001)),
            Err(ChatMessageError::TooLong)
        );
    }

    proptest! {
        #[test]
        fn a_room_name_parses_exactly_when_its_length_and_characters_allow(text in "\\PC{0,80}|[\\x00-\\x1f]{1,3}") {
            let length = text.chars().count();
            let expected = (1..=ROOM_NAME_MAX_CHARS).contains(&length) && !text.chars().any(char::is_control);
            prop_assert_eq!(RoomName::parse(&text).is_ok(), expected);
            if let Ok(room) = RoomName::parse(&text) {
                prop_assert_eq!(room.as_str(), text.as_str());
            }
        }

        #[test]
        fn a_chat_message_parses_exactly_when_its_length_allows(length in 0_usize..2100) {
            let text = "x".repeat(length);
            prop_assert_eq!(ChatMessage::parse(&text).is_ok(), (1..=CHAT_MESSAGE_MAX_CHARS).contains(&length));
        }
    }
}
