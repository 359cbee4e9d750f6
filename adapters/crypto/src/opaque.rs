//! Opaque tokens (refresh and password-reset): 32 random bytes from the operating system,
//! URL-safe base64 for the client, SHA-256 hex for storage. A fast hash is right here: the
//! tokens carry 256 bits of entropy, so there is nothing to brute-force, and the lookup by
//! hash must be cheap.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::ports::OpaqueTokenGenerator;
use domain::{OpaqueToken, TokenHash};
use rand::TryRngCore as _;
use sha2::{Digest as _, Sha256};

const TOKEN_BYTES: usize = 32;

/// [`OpaqueTokenGenerator`] with the OS random generator and SHA-256.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomTokens;

impl OpaqueTokenGenerator for RandomTokens {
    fn generate(&self) -> (OpaqueToken, TokenHash) {
        let mut bytes = [0_u8; TOKEN_BYTES];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random generator is available");
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = self.hash(&token);
        (OpaqueToken::new(token), hash)
    }

    fn hash(&self, presented: &str) -> TokenHash {
        let digest = Sha256::digest(presented.as_bytes());
        let hex = digest
            .iter()
            .fold(String::with_capacity(64), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            });
        TokenHash::from_hex(hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_has_256_bits_and_hashes_to_its_stored_hash() {
        let (token, hash) = RandomTokens.generate();

        assert_eq!(URL_SAFE_NO_PAD.decode(token.expose()).unwrap().len(), 32);
        assert_eq!(RandomTokens.hash(token.expose()), hash);
        assert_eq!(hash.as_str().len(), 64);
    }

    #[test]
    fn tokens_are_unique() {
        let (first, _) = RandomTokens.generate();
        let (second, _) = RandomTokens.generate();

        assert_ne!(first.expose(), second.expose());
    }
}
