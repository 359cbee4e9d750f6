//! Idempotency keys, claimed inside the transaction of the movement they guard.
//!
//! A macro, not a function: the same statements run on each backend's connection type
//! inside `with_connection!`, and the `?` must leave the caller's transaction.

/// Claims an idempotency key for `$resource` inside the current transaction, or finds what
/// it was used for: evaluates to `Ok(None)` (first use: go ahead), `Ok(Some(resource id))`
/// (the same request before: replay it), or `Err(Failure::IdempotencyConflict)`. The primary
/// key serialises concurrent claims: a later one waits for the first to commit, then sees it.
macro_rules! claim_key {
    ($connection:expr, $key:expr, $resource:expr, $now:expr) => {{
        let key: &IdempotencyClaim = $key;
        let fingerprint = key.fingerprint.to_string();
        let user = DbId(key.user_id.as_uuid());
        diesel::delete(
            idempotency_keys::table
                .filter(idempotency_keys::user_id.eq(user))
                .filter(idempotency_keys::key.eq(key.key.as_str()))
                .filter(idempotency_keys::expires_at.le($now)),
        )
        .execute($connection)
        .await?;
        let claimed = diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::user_id.eq(user),
                idempotency_keys::key.eq(key.key.as_str()),
                idempotency_keys::fingerprint.eq(&fingerprint),
                idempotency_keys::resource_id.eq(DbId($resource)),
                idempotency_keys::created_at.eq($now),
                idempotency_keys::expires_at.eq(DbTime(key.expires_at)),
            ))
            .on_conflict_do_nothing()
            .execute($connection)
            .await?;
        if claimed == 1 {
            Ok(None)
        } else {
            let (stored, resource): (String, DbId) = idempotency_keys::table
                .filter(idempotency_keys::user_id.eq(user))
                .filter(idempotency_keys::key.eq(key.key.as_str()))
                .select((idempotency_keys::fingerprint, idempotency_keys::resource_id))
                .first($connection)
                .await?;
            if stored == fingerprint {
                Ok(Some(resource.0))
            } else {
                Err(Failure::IdempotencyConflict)
            }
        }
    }};
}
