//! What every job repository stores for an outcome, so that the adapters agree on it: the
//! error of a failed attempt (cut to a readable length), the payload a succeeded job keeps,
//! and the error recorded when a lease expires.

use super::JobPayload;

/// Longer errors are cut: a stack of causes is useful, a megabyte of HTML error page is not.
pub const MAX_ERROR_CHARS: usize = 2_000;

/// The error recorded for a running job whose lease expired (its worker stopped or hung).
pub const LEASE_EXPIRED_ERROR: &str =
    "The worker's lease expired before it finished (it stopped or hung)";

/// `error` as stored with a failed attempt: at most [`MAX_ERROR_CHARS`] characters, cut on a
/// character boundary and marked with `…`.
#[must_use]
pub fn stored_error(error: &str) -> String {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &error[..cut]),
        None => error.to_owned(),
    }
}

impl JobPayload {
    /// What a succeeded job keeps of its payload: nothing (it may have carried a secret).
    pub const SPENT: &'static str = "{}";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR_CHARS + 10);

        let cut = stored_error(&long);

        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(stored_error("short"), "short");
    }
}
