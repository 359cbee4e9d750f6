//! The Diesel schema shared by both backends (see `sql_types` for the two custom types).
//! Kept by hand, in step with `migrations/postgres` and `migrations/sqlite`.

diesel::table! {
    use diesel::sql_types::{Nullable, Text};
    use crate::sql_types::{Id, UtcTime};

    users (id) {
        id -> Id,
        email -> Text,
        password_hash -> Text,
        name -> Nullable<Text>,
        role -> Text,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}
