//! The Diesel schema shared by both backends (see `sql_types` for the two custom types).
//! Kept by hand, in step with `migrations/postgres` and `migrations/sqlite`.

diesel::table! {
    use diesel::sql_types::{BigInt, Nullable, Text};
    use crate::sql_types::{Id, UtcTime};

    users (id) {
        id -> Id,
        email -> Text,
        password_hash -> Text,
        name -> Nullable<Text>,
        role -> Text,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        session_version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::{Nullable, Text};
    use crate::sql_types::{Id, UtcTime};

    refresh_tokens (id) {
        id -> Id,
        user_id -> Id,
        family_id -> Id,
        token_hash -> Text,
        created_at -> UtcTime,
        expires_at -> UtcTime,
        used_at -> Nullable<UtcTime>,
        revoked_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::{Nullable, Text};
    use crate::sql_types::{Id, UtcTime};

    password_reset_tokens (id) {
        id -> Id,
        user_id -> Id,
        token_hash -> Text,
        created_at -> UtcTime,
        expires_at -> UtcTime,
        used_at -> Nullable<UtcTime>,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(password_reset_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, refresh_tokens, password_reset_tokens);
