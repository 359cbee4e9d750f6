//! Typed identifiers. Each entity has its own id type so that a `UserId` cannot be passed
//! where another entity's id is expected. Ids are UUIDs, time-ordered (v7) when generated
//! here, so that indexes on them stay append-mostly.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A string that is not a UUID was given where an id was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Invalid ID format")]
pub struct InvalidId;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (UUID v7) id.
            #[must_use]
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an id read back from storage or a verified token.
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map(Self).map_err(|_| InvalidId)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(formatter)
            }
        }
    };
}

define_id!(
    /// Identifies a [`crate::User`].
    UserId
);
define_id!(
    /// Identifies a [`crate::Post`].
    PostId
);
define_id!(
    /// Identifies an [`crate::Account`].
    AccountId
);
define_id!(
    /// Identifies a [`crate::Transfer`].
    TransferId
);
define_id!(
    /// Identifies a [`crate::Job`].
    JobId
);
define_id!(
    /// Identifies a session: one login and the refresh tokens rotated from it (its
    /// "family"). Access tokens carry it, so that ending a session ends them too.
    SessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_time_ordered_and_distinct() {
        let first = UserId::generate();
        let second = UserId::generate();
        assert_ne!(first, second);
        assert_eq!(first.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn an_id_round_trips_through_its_text_form() {
        let id = UserId::generate();
        assert_eq!(id.to_string().parse::<UserId>(), Ok(id));
    }

    #[test]
    fn text_that_is_not_a_uuid_is_an_invalid_id() {
        assert_eq!("42".parse::<UserId>(), Err(InvalidId));
        assert_eq!("".parse::<UserId>(), Err(InvalidId));
    }
}
