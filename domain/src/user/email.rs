//! The email address: its one canonical form, parsed once.

use std::fmt;

use email_address::{EmailAddress, Options};

/// Longest email address accepted (RFC 5321 path limit).
const EMAIL_MAX_LEN: usize = 254;

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
    /// Longest address, in characters (every accepted address is ASCII).
    pub const MAX_LEN: usize = EMAIL_MAX_LEN;

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
    }
}
