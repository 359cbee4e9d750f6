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
        email_verified_at -> Nullable<UtcTime>,
        /// Generated: lower(name) || '\n' || email. Read-only.
        search_text -> Text,
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

diesel::table! {
    use diesel::sql_types::{Nullable, Text};
    use crate::sql_types::{Id, UtcTime};

    sessions (id) {
        id -> Id,
        user_id -> Id,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        created_at -> UtcTime,
        last_used_at -> UtcTime,
        expires_at -> UtcTime,
        revoked_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::{Nullable, Text};
    use crate::sql_types::{Id, UtcTime};

    email_verification_tokens (id) {
        id -> Id,
        user_id -> Id,
        email -> Text,
        token_hash -> Text,
        created_at -> UtcTime,
        expires_at -> UtcTime,
        used_at -> Nullable<UtcTime>,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(password_reset_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(email_verification_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    refresh_tokens,
    password_reset_tokens,
    sessions,
    email_verification_tokens
);

diesel::table! {
    use diesel::sql_types::{Bool, Nullable, Text};
    use crate::sql_types::{Id, UtcTime};

    posts (id) {
        id -> Id,
        title -> Text,
        content -> Nullable<Text>,
        published -> Bool,
        author_id -> Id,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Text};
    use crate::sql_types::{Id, UtcTime};

    accounts (id) {
        id -> Id,
        owner_id -> Id,
        balance -> BigInt,
        currency -> Text,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::BigInt;
    use crate::sql_types::{Id, UtcTime};

    deposits (id) {
        id -> Id,
        account_id -> Id,
        amount -> BigInt,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::{BigInt, Text};
    use crate::sql_types::{Id, UtcTime};

    transfers (id) {
        id -> Id,
        from_account_id -> Id,
        to_account_id -> Id,
        amount -> BigInt,
        currency -> Text,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::Text;
    use crate::sql_types::{Id, UtcTime};

    idempotency_keys (user_id, key) {
        user_id -> Id,
        key -> Text,
        fingerprint -> Text,
        resource_id -> Id,
        created_at -> UtcTime,
        expires_at -> UtcTime,
    }
}

diesel::joinable!(posts -> users (author_id));
diesel::joinable!(accounts -> users (owner_id));
diesel::joinable!(deposits -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(
    posts,
    accounts,
    deposits,
    transfers,
    idempotency_keys,
    users
);

diesel::table! {
    use diesel::sql_types::{Integer, Nullable, Text};
    use crate::sql_types::{Id, UtcTime};

    jobs (id) {
        id -> Id,
        queue -> Text,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> UtcTime,
        locked_by -> Nullable<Id>,
        locked_until -> Nullable<UtcTime>,
        last_error -> Nullable<Text>,
        dedup_key -> Nullable<Text>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        trace_parent -> Nullable<Text>,
    }
}
