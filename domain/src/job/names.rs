//! The names of queues and job kinds: short, lower-case, and checked at compile time when
//! they are fixed in the code.

use std::borrow::Cow;
use std::fmt;

/// Longest queue name or job kind.
pub const MAX_JOB_NAME_LENGTH: usize = 64;

/// Why a queue name or a job kind was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Must be 1 to {MAX_JOB_NAME_LENGTH} characters of lower-case letters, digits, '.', '-' or '_'"
)]
pub struct JobNameError;

/// 1 to 64 characters of `a-z`, `0-9`, `.`, `-`, `_` (a `const fn`, so that names fixed in
/// the code are checked when it compiles).
const fn is_job_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_JOB_NAME_LENGTH {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if !(byte.is_ascii_lowercase()
            || byte.is_ascii_digit()
            || byte == b'.'
            || byte == b'-'
            || byte == b'_')
        {
            return false;
        }
        index += 1;
    }
    true
}

macro_rules! define_job_name {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Cow<'static, str>);

        impl $name {
            /// Parses a name: 1 to 64 characters of `a-z`, `0-9`, `.`, `-`, `_`.
            pub fn parse(text: &str) -> Result<Self, JobNameError> {
                if is_job_name(text) {
                    Ok(Self(Cow::Owned(text.to_owned())))
                } else {
                    Err(JobNameError)
                }
            }

            /// A name fixed in the code. Used in a `const`, an invalid name fails the build.
            ///
            /// # Panics
            /// When `text` is not a valid name (at compile time, in a `const`).
            #[must_use]
            pub const fn from_static(text: &'static str) -> Self {
                assert!(is_job_name(text), "not a valid job name");
                Self(Cow::Borrowed(text))
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    };
}

define_job_name!(
    /// A named queue (`mail`, `default`, ...): lets admins filter and operators reason about
    /// groups of jobs.
    QueueName
);
define_job_name!(
    /// What a job does (`mail.welcome`, ...): selects the handler that runs it.
    JobKind
);
