//! The user: its value objects (each parsed once, never re-checked) and the entity.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use email_address::{EmailAddress, Options};
use secrecy::{ExposeSecret, SecretString};

use crate::id::UserId;
use crate::pagination::PageRequest;

/// Longest email address accepted (RFC 5321 path limit).
const EMAIL_MAX_LEN: usize = 254;
const NAME_MAX_CHARS: usize = 100;
const PASSWORD_MIN_CHARS: usize = 8;
const PASSWORD_MAX_CHARS: usize = 128;
const SEARCH_MAX_CHARS: usize = 100;

/// What a user may do beyond reading: admins manage users and may act on anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Admin,
}

/// A role name that is neither `user` nor `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Must be one of: user, admin")]
pub struct RoleError;

impl Role {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            _ => Err(RoleError),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Why a string is not an [`Email`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Invalid email address")]
    Invalid,
    #[error("Must be at most {EMAIL_MAX_LEN} characters")]
    TooLong,
}

/// An account's email address in its one canonical form, so that one mailbox is one
/// account and the address mailed is the address shown.
///
/// Accepted: the WHATWG HTML "valid email address" grammar with a top-level domain —
/// ASCII only, a dot-atom local part (letters, digits and ``.!#$%&'*+/=?^_`{|}~-``, no
/// leading, trailing or doubled dot), labels of letters, digits and inner hyphens. Refused:
/// quoted local parts (`"admin"@example.com` would be mailed to `admin@example.com`),
/// comments, display names, IP literals, and any non-ASCII character (look-alikes such as
/// a Cyrillic `а` or full-width letters). An internationalised domain is written in its
/// `xn--` form. Stored lower-cased, so uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, EmailError> {
        let text = text.trim();
        if text.len() > EMAIL_MAX_LEN {
            return Err(EmailError::TooLong);
        }
        // No display names ("Ann <a@b.c>") and no IP-literal domains: an account address
        // is a plain mailbox on a named domain with a top-level domain.
        let options = Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        EmailAddress::parse_with_options(text, options).map_err(|_| EmailError::Invalid)?;
        if !is_canonical_address(text) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether taking the admin role from `user` (by deletion or demotion) leaves the service
/// without an admin, given every current admin. Adapters judge it on the admins as locked
/// in the transaction that makes the change.
#[must_use]
pub fn leaves_no_admin(admins: &[UserId], user: UserId) -> bool {
    admins == [user]
}

/// The WHATWG grammar's checks on top of RFC 5322 syntax (see [`Email`]).
fn is_canonical_address(text: &str) -> bool {
    const LOCAL_SYMBOLS: &[u8] = b".!#$%&'*+/=?^_`{|}~-";
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || LOCAL_SYMBOLS.contains(&byte))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    local_ok && domain.split('.').all(label_ok)
}

impl fmt::Display for Email {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Why a string is not a [`UserName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserNameError {
    #[error("Must not be empty")]
    Empty,
    #[error("Must be at most {NAME_MAX_CHARS} characters")]
    TooLong,
    #[error("Must not contain control characters")]
    ControlCharacter,
}

/// A display name: 1 to 100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(text: &str) -> Result<Self, UserNameError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(UserNameError::Empty);
        }
        if text.chars().count() > NAME_MAX_CHARS {
            return Err(UserNameError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(UserNameError::ControlCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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

/// Why a string is not a [`SearchTerm`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchTermError {
    #[error("Must be at most {SEARCH_MAX_CHARS} characters")]
    TooLong,
    #[error("Must not contain control characters")]
    ControlCharacter,
}

/// A case-insensitive substring to look for in names and emails; empty means "no filter".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// `Ok(None)` for a blank term: searching for nothing filters nothing.
    pub fn parse(text: &str) -> Result<Option<Self>, SearchTermError> {
        let text = text.trim();
        if text.chars().count() > SEARCH_MAX_CHARS {
            return Err(SearchTermError::TooLong);
        }
        // Storage may separate searchable fields with control characters.
        if text.chars().any(char::is_control) {
            return Err(SearchTermError::ControlCharacter);
        }
        Ok((!text.is_empty()).then(|| Self(text.to_lowercase())))
    }

    /// The term, lower-cased.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registered user as every reader sees it: never with a password or its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: Option<UserName>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user together with the hash of their password, for login only.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: PasswordHash,
}

/// Everything needed to store a new user; the id and timestamps are chosen by the caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub name: Option<UserName>,
    pub role: Role,
    pub password_hash: PasswordHash,
    pub created_at: DateTime<Utc>,
}

/// A partial update of a user: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub email: Option<Email>,
    pub name: Option<UserName>,
    pub role: Option<Role>,
}

impl UserChanges {
    /// Whether applying these changes to `user` would change its role.
    #[must_use]
    pub fn changes_role_of(&self, user: &User) -> bool {
        self.role.is_some_and(|role| role != user.role)
    }
}

/// A filtered, paginated listing of users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub page: PageRequest,
    pub search: Option<SearchTerm>,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Ann.Lee@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ann.lee@example.com");
    }

    #[test]
    fn email_without_a_top_level_domain_is_invalid() {
        assert_eq!(Email::parse("ann@localhost"), Err(EmailError::Invalid));
    }

    #[test]
    fn email_with_a_display_name_or_ip_literal_is_invalid() {
        assert_eq!(
            Email::parse("Ann <ann@example.com>"),
            Err(EmailError::Invalid)
        );
        assert_eq!(Email::parse("ann@[127.0.0.1]"), Err(EmailError::Invalid));
    }

    #[test]
    fn only_removing_the_one_remaining_admin_leaves_no_admin() {
        let (ann, bob) = (UserId::generate(), UserId::generate());
        assert!(leaves_no_admin(&[ann], ann));
        assert!(!leaves_no_admin(&[ann, bob], ann));
        assert!(!leaves_no_admin(&[ann], bob));
        assert!(!leaves_no_admin(&[], ann));
    }

    #[test]
    fn quoted_local_parts_and_look_alike_addresses_are_refused() {
        for spoof in [
            "\"admin\"@example.com",
            "\"ad min\"@example.com",
            "\u{430}dmin@example.com", // Cyrillic а
            "\u{ff41}\u{ff44}\u{ff4d}\u{ff49}\u{ff4e}@example.com", // full-width admin
            "admin@\u{ff45}xample.com", // full-width e
            "admin@exämple.com",
            "admin(comment)@example.com",
            ".admin@example.com",
            "ad..min@example.com",
            "admin@-example.com",
        ] {
            assert_eq!(Email::parse(spoof), Err(EmailError::Invalid), "{spoof}");
        }
    }

    #[test]
    fn ordinary_and_punycode_addresses_are_accepted() {
        for address in [
            "ann.lee+news@example.com",
            "o'brien@example.co.uk",
            "x_y-z@sub.example-domain.org",
            "admin@xn--exmple-cua.com",
        ] {
            assert_eq!(
                Email::parse(address).unwrap().as_str(),
                address,
                "{address}"
            );
        }
    }

    #[test]
    fn email_longer_than_254_bytes_is_too_long() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn name_is_trimmed_and_must_not_be_blank() {
        assert_eq!(UserName::parse("  Ann ").unwrap().as_str(), "Ann");
        assert_eq!(UserName::parse("   "), Err(UserNameError::Empty));
    }

    #[test]
    fn name_counts_characters_not_bytes() {
        assert!(UserName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            UserName::parse(&"é".repeat(101)),
            Err(UserNameError::TooLong)
        );
    }

    #[test]
    fn name_with_a_control_character_is_refused() {
        assert_eq!(
            UserName::parse("Ann\u{0}Lee"),
            Err(UserNameError::ControlCharacter)
        );
    }

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

    #[test]
    fn role_parses_only_the_two_known_names() {
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!("user".parse::<Role>(), Ok(Role::User));
        assert_eq!("ADMIN".parse::<Role>(), Err(RoleError));
    }

    #[test]
    fn blank_search_term_means_no_filter() {
        assert_eq!(SearchTerm::parse("  "), Ok(None));
        assert_eq!(SearchTerm::parse(" Lee ").unwrap().unwrap().as_str(), "lee");
    }

    proptest! {
        #[test]
        fn a_parsed_email_parses_again_to_itself(local in "[a-zA-Z0-9._%+-]{1,30}", domain in "[a-z]{1,20}\\.[a-z]{2,6}") {
            if let Ok(email) = Email::parse(&format!("{local}@{domain}")) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
                prop_assert_eq!(email.as_str().to_lowercase(), email.as_str());
            }
        }

        #[test]
        fn email_parsing_never_panics(text in ".{0,300}") {
            let _ = Email::parse(&text);
        }

        #[test]
        fn a_parsed_name_is_never_blank_or_over_100_characters(text in "\\PC{0,120}") {
            if let Ok(name) = UserName::parse(&text) {
                prop_assert!(!name.as_str().trim().is_empty());
                prop_assert!(name.as_str().chars().count() <= 100);
            }
        }

        #[test]
        fn a_password_is_accepted_exactly_when_8_to_128_characters(text in "\\PC{0,140}") {
            let length = text.chars().count();
            prop_assert_eq!(Password::parse(&text).is_ok(), (8..=128).contains(&length));
        }
    }
}
