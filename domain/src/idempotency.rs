//! Idempotency keys: a client's `Idempotency-Key`, and what the request that used it asked
//! for, so that a retry replays the first answer and a reuse for another request is refused.

use crate::id::AccountId;
use crate::money::Amount;

/// A client's `Idempotency-Key`: 1 to [`IdempotencyKey::MAX_LENGTH`] visible ASCII
/// characters, so that every backend stores and compares it byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Must be 1 to 255 visible ASCII characters")]
pub struct IdempotencyKeyError;

impl IdempotencyKey {
    /// The longest key a client may send.
    pub const MAX_LENGTH: usize = 255;

    /// The key of these raw header bytes (a header need not be UTF-8).
    pub fn parse(bytes: &[u8]) -> Result<Self, IdempotencyKeyError> {
        if !(1..=Self::MAX_LENGTH).contains(&bytes.len()) || !bytes.iter().all(u8::is_ascii_graphic)
        {
            return Err(IdempotencyKeyError);
        }
        Ok(Self(bytes.iter().map(|&byte| char::from(byte)).collect()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a request made with an idempotency key asked for. Stored with the key in its text
/// form ([`std::fmt::Display`]), which is all adapters compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFingerprint {
    Deposit {
        account: AccountId,
        amount: Amount,
    },
    Transfer {
        from: AccountId,
        to: AccountId,
        amount: Amount,
    },
}

impl std::fmt::Display for RequestFingerprint {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Deposit { account, amount } => {
                write!(formatter, "deposit:{account}:{}", amount.minor_units())
            }
            Self::Transfer { from, to, amount } => {
                write!(formatter, "transfer:{from}:{to}:{}", amount.minor_units())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert_eq!(
            IdempotencyKey::parse(b"retry-1").unwrap().as_str(),
            "retry-1"
        );
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        for refused in [
            &b""[..],
            &[b'k'; 256],
            b"with space",
            "café".as_bytes(),
            b"\xff",
        ] {
            assert_eq!(IdempotencyKey::parse(refused), Err(IdempotencyKeyError));
        }
    }

    #[test]
    fn fingerprints_of_different_requests_differ_in_their_stored_form() {
        let (a, b) = (AccountId::generate(), AccountId::generate());
        let amount = Amount::new(100).unwrap();
        let stored = [
            RequestFingerprint::Deposit { account: a, amount },
            RequestFingerprint::Transfer {
                from: a,
                to: b,
                amount,
            },
            RequestFingerprint::Transfer {
                from: b,
                to: a,
                amount,
            },
            RequestFingerprint::Transfer {
                from: a,
                to: b,
                amount: Amount::new(101).unwrap(),
            },
        ]
        .map(|fingerprint| fingerprint.to_string());
        for (index, text) in stored.iter().enumerate() {
            assert!(!stored[index + 1..].contains(text), "{text}");
        }
        assert_eq!(
            stored[1],
            format!("transfer:{a}:{b}:100"),
            "the form stored by earlier versions"
        );
    }
}
