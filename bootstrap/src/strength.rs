//! Whether a secret from the configuration is too weak for production: the JWT signing key
//! and the initial admin's password.
//!
//! Length alone lets through `aaaa…a`, `changeme-changeme-…` and `password1234`, so a
//! secret must also:
//! - not repeat a shorter unit (`aaaa`, `changeme-changeme-…`, `abcabc…`);
//! - not be, in its letters alone, a placeholder or common word (`changeme`, `password`)
//!   or one word repeated (`secret1secret2secret3…`), whatever digits and separators are
//!   around it;
//! - carry enough estimated entropy: the Shannon entropy of its characters times its
//!   length, a lower bound for a random string of the same alphabet and far above what a
//!   pattern gets.
//!
//! A phrase such as `my-super-secret-jwt-key-for-production` passes: no estimate can tell a
//! memorable phrase from a key, and a check against breached-password corpora would need
//! the network. The load kits' production secrets (`../shared/bench`) must pass, and a
//! test holds them.

/// Words that, alone or repeated, mark a placeholder or a common password.
const PLACEHOLDERS: [&str; 16] = [
    "admin",
    "changeme",
    "default",
    "example",
    "jwtsecret",
    "letmein",
    "mysecret",
    "passw",
    "password",
    "placeholder",
    "qwerty",
    "secret",
    "secretkey",
    "supersecret",
    "test",
    "welcome",
];

/// The least estimated entropy of a JWT secret: 32 random base64 or hex characters carry
/// more, any pattern of 32+ characters far less.
const MIN_JWT_SECRET_BITS: f64 = 100.0;
/// The least estimated entropy of the admin's password (a 12-character mix of cases,
/// digits and symbols carries ~40).
const MIN_ADMIN_PASSWORD_BITS: f64 = 36.0;
/// The shortest admin password production accepts.
const MIN_ADMIN_PASSWORD_CHARS: usize = 12;

/// Why a JWT secret is refused in production, if it is.
pub(crate) fn weak_jwt_secret(secret: &str) -> Option<&'static str> {
    weakness(secret, MIN_JWT_SECRET_BITS)
}

/// Why an admin password is refused in production, if it is.
pub(crate) fn weak_admin_password(password: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_ADMIN_PASSWORD_CHARS {
        return Some("must be at least 12 characters in production");
    }
    weakness(password, MIN_ADMIN_PASSWORD_BITS)
}

fn weakness(secret: &str, min_bits: f64) -> Option<&'static str> {
    if repeats_itself(secret.as_bytes()) {
        return Some("repeats a shorter pattern; generate a random one");
    }
    let letters: String = secret
        .chars()
        .filter(|character| character.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    if PLACEHOLDERS.contains(&letters.as_str())
        || (letters.len() >= 6 && repeats_itself(letters.as_bytes()))
    {
        return Some("is a placeholder, a common word or a repeated word; generate a random one");
    }
    if estimated_bits(secret) < min_bits {
        return Some(
            "has too little entropy; generate a random one (e.g. `openssl rand -base64 48`)",
        );
    }
    None
}

/// Whether the string is a shorter unit repeated (whole or cut short at the end), or one
/// character run, like `abcabcab` or `aaaa`.
fn repeats_itself(bytes: &[u8]) -> bool {
    (1..=bytes.len() / 2).any(|period| bytes.iter().zip(&bytes[period..]).all(|(a, b)| a == b))
}

/// Shannon entropy of the character distribution, times the length, in bits.
#[allow(clippy::cast_precision_loss)] // counts of a configuration string
fn estimated_bits(secret: &str) -> f64 {
    let mut counts = std::collections::HashMap::<char, usize>::new();
    for character in secret.chars() {
        *counts.entry(character).or_default() += 1;
    }
    let length = secret.chars().count() as f64;
    let per_character: f64 = counts
        .values()
        .map(|&count| {
            let share = count as f64 / length;
            -share * share.log2()
        })
        .sum();
    per_character * length
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterned_and_placeholder_jwt_secrets_are_weak() {
        for weak in [
            "a".repeat(40),
            "changeme-changeme-changeme-changeme".to_owned(),
            "correct-correct-correct-correct-correct".to_owned(),
            "abcabcabcabcabcabcabcabcabcabcabcabc".to_owned(),
            "0123456789012345678901234567890123".to_owned(),
            "bench-secret-bench-secret-bench-secret!!".to_owned(),
            "changeme1234567890123456789012345678".to_owned(),
            "Secret_1-SECRET_2-secret_3-Secret_4-secret_5".to_owned(),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab".to_owned(),
        ] {
            assert!(weak_jwt_secret(&weak).is_some(), "{weak} passed");
        }
    }

    #[test]
    fn generated_jwt_secrets_are_strong() {
        for strong in [
            // openssl rand -hex 16, -hex 32, -base64 32, -base64 48
            "9f86d081884c7d659a2feaa0c55ad015",
            "a3f1c9e07b2d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7",
            "q0Vn3ZfK8xH1s7rT2yW5uB9eL4mC6pA0dJ8gN3kR1tQ=",
            "Zr8u1YkQ7mW3xP0cV5nB2tL9sD4fH6jG1aE8rT3yU7iO0pK5lM2nB9vC4xZ6qW1e",
        ] {
            assert_eq!(weak_jwt_secret(strong), None, "{strong} refused");
        }
    }

    #[test]
    fn the_load_kits_production_secrets_are_accepted() {
        // ../shared/bench/peer-axum/compare.sh and ../shared/bench/README.md start the
        // service with APP_ENV=production and these.
        assert_eq!(
            weak_jwt_secret("compare-secret-compare-secret-0123456789abcdef"),
            None
        );
        assert_eq!(weak_admin_password("admin-password-123"), None);
    }

    #[test]
    fn weak_admin_passwords_are_refused_and_strong_ones_pass() {
        for weak in [
            "12345678",
            "password1234",
            "Password!2026",
            "admin-admin-admin",
            "aaaaaaaaaaaaaaa",
            "abababababababab",
            "Summer2026!",
        ] {
            assert!(weak_admin_password(weak).is_some(), "{weak} passed");
        }
        for strong in [
            "correct horse battery staple",
            "T4k!n9-vX2#qLm",
            "kX9#mP2$vL7@nQ4",
        ] {
            assert_eq!(weak_admin_password(strong), None, "{strong} refused");
        }
    }
}
