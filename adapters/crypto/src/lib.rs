//! Crypto adapter: argon2id password hashing and HS256 access tokens, behind the domain's
//! `PasswordHasher`, `TokenIssuer` and `TokenVerifier` ports.

mod opaque;
mod password;
mod tokens;

pub use opaque::RandomTokens;
pub use password::Argon2Hasher;
pub use tokens::{JwtConfig, JwtTokens};
