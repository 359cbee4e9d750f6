//! What socket clients send and receive: client payloads parsed into domain values (one
//! named function per event), the refusals they may get, and the shapes of the events the
//! server emits.
//!
//! Client payloads arrive as arbitrary JSON: a wrong type or a missing argument is a
//! refusal acknowledged with `{ok: false, error}`, never a dropped event or a disconnect.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::{ChatMessage, ChatMessageError, RoomName, RoomNameError, UserId};
use serde::Serialize;
use serde_json::Value;

/// Why the server did not do what a client event asked. `Display` is the `error` of the
/// acknowledgement, written for the person using the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    TooManyMessages,
    RoomNotAString,
    InvalidRoom(RoomNameError),
    MessageNotAnObject,
    UnknownField,
    MessageNotAString,
    InvalidMessage(ChatMessageError),
    PrivateRoom,
    OwnPrivateRoom,
    NotInRoom(RoomName),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooManyMessages => formatter.write_str("Too many messages: slow down"),
            Self::RoomNotAString => formatter.write_str("Room name must be a string"),
            Self::InvalidRoom(error) => write!(formatter, "Room name: {error}"),
            Self::MessageNotAnObject => formatter.write_str("Expected an object {room, message}"),
            Self::UnknownField => formatter.write_str("Only room and message are allowed"),
            Self::MessageNotAString => formatter.write_str("Message must be a string"),
            Self::InvalidMessage(error) => write!(formatter, "Message: {error}"),
            Self::PrivateRoom => {
                formatter.write_str("You may not join another user's private room")
            }
            Self::OwnPrivateRoom => formatter.write_str("You may not leave your private room"),
            Self::NotInRoom(room) => {
                write!(formatter, "You have not joined room {}", room.as_str())
            }
        }
    }
}

/// The argument of `join-room` and `leave-room`: a room name.
pub(crate) fn parse_room(payload: Option<&Value>) -> Result<RoomName, Refusal> {
    match payload {
        Some(Value::String(name)) => RoomName::parse(name).map_err(Refusal::InvalidRoom),
        _ => Err(Refusal::RoomNotAString),
    }
}

/// The argument of `message`: `{room, message}`, nothing else.
pub(crate) fn parse_chat(payload: Option<&Value>) -> Result<(RoomName, ChatMessage), Refusal> {
    let Some(Value::Object(fields)) = payload else {
        return Err(Refusal::MessageNotAnObject);
    };
    if fields.keys().any(|key| key != "room" && key != "message") {
        return Err(Refusal::UnknownField);
    }
    let room = parse_room(fields.get("room"))?;
    let message = match fields.get("message") {
        Some(Value::String(text)) => ChatMessage::parse(text).map_err(Refusal::InvalidMessage)?,
        _ => return Err(Refusal::MessageNotAString),
    };
    Ok((room, message))
}

/// The acknowledgement of every client event.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Ack {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<Result<(), Refusal>> for Ack {
    fn from(outcome: Result<(), Refusal>) -> Self {
        match outcome {
            Ok(()) => Self {
                ok: true,
                error: None,
            },
            Err(refusal) => Self {
                ok: false,
                error: Some(refusal.to_string()),
            },
        }
    }
}

/// `user-joined` and `user-left`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Membership<'a> {
    user_id: String,
    room: &'a str,
}

impl<'a> Membership<'a> {
    pub(crate) fn new(user_id: UserId, room: &'a RoomName) -> Self {
        Self {
            user_id: user_id.to_string(),
            room: room.as_str(),
        }
    }
}

/// `message`, as delivered to the room.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Delivery<'a> {
    user_id: String,
    room: &'a str,
    message: &'a str,
    /// RFC 3339 UTC with milliseconds and `Z`, like every timestamp of the REST API.
    timestamp: String,
}

impl<'a> Delivery<'a> {
    pub(crate) fn new(
        user_id: UserId,
        room: &'a RoomName,
        message: &'a ChatMessage,
        sent_at: DateTime<Utc>,
    ) -> Self {
        Self {
            user_id: user_id.to_string(),
            room: room.as_str(),
            message: message.as_str(),
            timestamp: sent_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_room_must_be_a_valid_string() {
        assert_eq!(parse_room(Some(&json!("lobby"))).unwrap().as_str(), "lobby");
        for payload in [
            None,
            Some(json!(5)),
            Some(json!(null)),
            Some(json!(["lobby"])),
        ] {
            assert_eq!(parse_room(payload.as_ref()), Err(Refusal::RoomNotAString));
        }
        assert_eq!(
            parse_room(Some(&json!(""))),
            Err(Refusal::InvalidRoom(RoomNameError::Empty))
        );
    }

    #[test]
    fn a_chat_payload_is_an_object_with_room_and_message_only() {
        let (room, message) =
            parse_chat(Some(&json!({ "room": "lobby", "message": "hi" }))).unwrap();
        assert_eq!((room.as_str(), message.as_str()), ("lobby", "hi"));

        let refused = [
            (None, Refusal::MessageNotAnObject),
            (Some(json!("hi")), Refusal::MessageNotAnObject),
            (Some(json!({ "room": "lobby" })), Refusal::MessageNotAString),
            (
                Some(json!({ "room": "lobby", "message": 1 })),
                Refusal::MessageNotAString,
            ),
            (Some(json!({ "message": "hi" })), Refusal::RoomNotAString),
            (
                Some(json!({ "room": "lobby", "message": "hi", "userId": "someone" })),
                Refusal::UnknownField,
            ),
            (
                Some(json!({ "room": "lobby", "message": "" })),
                Refusal::InvalidMessage(ChatMessageError::Empty),
            ),
        ];
        for (payload, refusal) in refused {
            assert_eq!(parse_chat(payload.as_ref()), Err(refusal), "{payload:?}");
        }
    }

    #[test]
    fn refusals_read_as_sentences() {
        assert_eq!(
            Refusal::InvalidRoom(RoomNameError::TooLong).to_string(),
            "Room name: Must be at most 64 characters"
        );
        assert_eq!(
            Refusal::NotInRoom(RoomName::parse("lobby").unwrap()).to_string(),
            "You have not joined room lobby"
        );
    }

    #[test]
    fn an_ack_is_ok_or_carries_the_refusal() {
        assert_eq!(
            serde_json::to_value(Ack::from(Ok(()))).unwrap(),
            json!({ "ok": true })
        );
        assert_eq!(
            serde_json::to_value(Ack::from(Err(Refusal::TooManyMessages))).unwrap(),
            json!({ "ok": false, "error": "Too many messages: slow down" })
        );
    }

    #[test]
    fn a_delivery_carries_a_millisecond_utc_timestamp() {
        let user = UserId::generate();
        let room = RoomName::parse("lobby").unwrap();
        let message = ChatMessage::parse("hi").unwrap();
        let sent_at = Utc.with_ymd_and_hms(2026, 11, 24, 15, 38, 12).unwrap()
            + chrono::Duration::microseconds(123_456);

        assert_eq!(
            serde_json::to_value(Delivery::new(user, &room, &message, sent_at)).unwrap(),
            json!({
                "userId": user.to_string(),
                "room": "lobby",
                "message": "hi",
                "timestamp": "2026-11-24T15:38:12.123Z",
            })
        );
    }
}
