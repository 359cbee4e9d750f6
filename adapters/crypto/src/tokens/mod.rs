//! HS256 access tokens (JWT).
//!
//! Verification is explicit about everything jsonwebtoken would otherwise default: the one
//! accepted algorithm is HS256 (so `alg: none` and algorithm-confusion tokens fail), the
//! issuer and audience must match, `exp`, `iat`, `sub`, `iss` and `aud` are required, and
//! time is checked against the service's clock with a few seconds of leeway (the library's
//! default leeway is a whole minute).
//!
//! A client sends the same token with every request for its lifetime, and checking its
//! signature and decoding its claims is a large share of the work of a small authenticated
//! request (`bench/results/sessions-and-tokens-20261204.md`). So tokens whose signature verified are remembered
//! with their claims; a remembered token still has its time checked on every use, and only
//! the exact same string hits (a token that differs in any byte is verified afresh). The
//! memory is bounded: past `MAX_REMEMBERED` tokens it starts over.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use chrono::{DateTime, Duration, Utc};
use domain::ports::{
    AccessClaims, AccessToken, InvalidToken, SigningError, TokenIssuer, TokenVerifier,
};
use domain::{Actor, Role, SessionId, SessionVersion, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};

/// Clock skew tolerated between the issuer and the verifier.
const LEEWAY_SECONDS: i64 = 5;
/// Verified tokens remembered at most (a few MB).
const MAX_REMEMBERED: usize = 10_000;

/// Keys and lifetimes of access tokens.
#[derive(Debug)]
pub struct JwtConfig {
    /// The HS256 key (at least 32 bytes; enforced by the configuration).
    pub secret: SecretSlice<u8>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl_seconds: u64,
}

/// [`TokenIssuer`] and [`TokenVerifier`] with HS256 JWTs.
pub struct JwtTokens {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl_seconds: u64,
    /// Tokens whose signature and claims verified, with their claims.
    verified: RwLock<HashMap<Box<str>, AccessClaims>>,
}

impl std::fmt::Debug for JwtTokens {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JwtTokens")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
    /// The session the token belongs to (a token without one is refused).
    sid: String,
    /// The user's session version at issue time.
    ver: i64,
}

impl JwtTokens {
    #[must_use]
    pub fn new(config: &JwtConfig) -> Self {
        let secret = config.secret.expose_secret();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        // Expiry is checked below against the service's clock, with our own leeway.
        validation.validate_exp = false;
        validation.validate_nbf = true;
        validation.leeway = 0;
        Self {
            encoding_key: EncodingKey::from_secret(secret),
            decoding_key: DecodingKey::from_secret(secret),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl_seconds: config.access_ttl_seconds,
            verified: RwLock::new(HashMap::new()),
        }
    }

    /// The claims of a token whose signature verifies (time is not checked here).
    fn decode(&self, token: &str) -> Result<AccessClaims, InvalidToken> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding_key, &self.validation)
            .map_err(|_| InvalidToken)?
            .claims;
        Ok(AccessClaims {
            user_id: claims.sub.parse::<UserId>().map_err(|_| InvalidToken)?,
            role: claims.role.parse::<Role>().map_err(|_| InvalidToken)?,
            session_id: claims.sid.parse::<SessionId>().map_err(|_| InvalidToken)?,
            session_version: SessionVersion::new(claims.ver),
            issued_at: DateTime::from_timestamp(claims.iat, 0).ok_or(InvalidToken)?,
            expires_at: DateTime::from_timestamp(claims.exp, 0).ok_or(InvalidToken)?,
        })
    }

    fn remember(&self, token: &str, claims: AccessClaims) {
        let mut verified = self
            .verified
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= MAX_REMEMBERED {
            verified.clear();
        }
        verified.insert(token.into(), claims);
    }
}

/// Whether the claims' lifetime covers `now`, give or take the leeway.
fn valid_at(claims: &AccessClaims, now: DateTime<Utc>) -> bool {
    let leeway = Duration::seconds(LEEWAY_SECONDS);
    claims.expires_at + leeway > now && claims.issued_at - leeway <= now
}

impl TokenIssuer for JwtTokens {
    fn issue(
        &self,
        actor: Actor,
        session_id: SessionId,
        session_version: SessionVersion,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, SigningError> {
        let lifetime =
            i64::try_from(self.access_ttl_seconds).map_err(|error| SigningError(error.into()))?;
        let claims = Claims {
            sub: actor.user_id.to_string(),
            role: actor.role.as_str().to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + lifetime,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sid: session_id.to_string(),
            ver: session_version.get(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding_key)
                .map_err(|error| SigningError(error.into()))?;
        Ok(AccessToken {
            token,
            expires_in_seconds: self.access_ttl_seconds,
        })
    }
}

impl TokenVerifier for JwtTokens {
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, InvalidToken> {
        let remembered = self
            .verified
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .copied();
        let claims = if let Some(claims) = remembered {
            claims
        } else {
            let claims = self.decode(token)?;
            if valid_at(&claims, now) {
                self.remember(token, claims);
            }
            claims
        };
        if !valid_at(&claims, now) {
            return Err(InvalidToken);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests;
