//! Passwords as typed (never printed) and as stored (a PHC hash string).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

const PASSWORD_MIN_CHARS: usize = 8;
const PASSWORD_MAX_CHARS: usize = 128;

/// Why a string is not an acceptable [`Password`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Must be at least {PASSWORD_MIN_CHARS} characters")]
    TooShort,
    #[error("Must be at most {PASSWORD_MAX_CHARS} characters")]
    TooLong,
}

/// A plain-text password of 8 to 128 characters. It never prints: `Debug` shows a
/// placeholder, and the text is reachable only through [`Password::expose`].
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = PASSWORD_MIN_CHARS;
    pub const MAX_CHARS: usize = PASSWORD_MAX_CHARS;

    pub fn parse(text: &str) -> Result<Self, PasswordError> {
        let length = text.chars().count();
        if length < PASSWORD_MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if length > PASSWORD_MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(SecretString::from(text)))
    }

    /// The plain text, for the password hasher only.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Password(<redacted>)")
    }
}

/// A password hash in PHC string format, as produced by the `PasswordHasher` port.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by a hasher or read back from storage.
    #[must_use]
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn password_length_is_bounded_on_both_sides() {
        assert_eq!(
            Password::parse("1234567").unwrap_err(),
            PasswordError::TooShort
        );
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129)).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn password_and_hash_never_print_their_content() {
        let password = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
        let hash = PasswordHash::from_phc("$argon2id$secret".to_owned());
        assert!(!format!("{hash:?}").contains("secret"));
    }

    proptest! {
        #[test]
        fn a_password_is_accepted_exactly_when_8_to_128_characters(text in "\\PC{0,140}") {
            let length = text.chars().count();
            prop_assert_eq!(Password::parse(&text).is_ok(), (8..=128).contains(&length));
        }
    }
}
