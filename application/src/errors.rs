//! What every use case's error enum shares: infrastructure faults (storage, hashing, any
//! `anyhow` cause) become its opaque `Unexpected` variant.

/// Implements `From` the storage port's `RepositoryError`, the hasher's `PasswordHashError`
/// and `anyhow::Error` for each error type, wrapping the fault with `$wrap` (the type's
/// `Unexpected` variant, or a tuple struct's constructor).
macro_rules! unexpected_from_infrastructure {
    ($($error:ident => $wrap:path),+ $(,)?) => {$(
        impl From<domain::ports::RepositoryError> for $error {
            fn from(error: domain::ports::RepositoryError) -> Self {
                $wrap(anyhow::Error::new(error))
            }
        }
        impl From<domain::ports::PasswordHashError> for $error {
            fn from(error: domain::ports::PasswordHashError) -> Self {
                $wrap(anyhow::Error::new(error))
            }
        }
        impl From<anyhow::Error> for $error {
            fn from(error: anyhow::Error) -> Self {
                $wrap(error)
            }
        }
    )+};
}

pub(crate) use unexpected_from_infrastructure;
