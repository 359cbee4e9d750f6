//! HS256 access tokens (JWT).
//!
//! Verification is explicit about everything jsonwebtoken would otherwise default: the one
//! accepted algorithm is HS256 (so `alg: none` and algorithm-confusion tokens fail), the
//! issuer and audience must match, `exp`, `iat`, `sub`, `iss` and `aud` are required, and
//! time is checked against the service's clock with a few seconds of leeway (the library's
//! default leeway is a whole minute).

use chrono::{DateTime, Duration, Utc};
use domain::ports::{AccessClaims, AccessToken, InvalidToken, TokenIssuer, TokenVerifier};
use domain::{Actor, Role, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};

/// Clock skew tolerated between the issuer and the verifier.
const LEEWAY_SECONDS: i64 = 5;

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
        }
    }
}

impl TokenIssuer for JwtTokens {
    fn issue(
        &self,
        actor: Actor,
        session_version: i64,
        now: DateTime<Utc>,
    ) -> anyhow::Result<AccessToken> {
        let lifetime = i64::try_from(self.access_ttl_seconds)?;
        let claims = Claims {
            sub: actor.user_id.to_string(),
            role: actor.role.as_str().to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + lifetime,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            ver: session_version,
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding_key)?;
        Ok(AccessToken {
            token,
            expires_in_seconds: self.access_ttl_seconds,
        })
    }
}

impl TokenVerifier for JwtTokens {
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, InvalidToken> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding_key, &self.validation)
            .map_err(|_| InvalidToken)?
            .claims;
        let issued_at = DateTime::from_timestamp(claims.iat, 0).ok_or(InvalidToken)?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(InvalidToken)?;
        let leeway = Duration::seconds(LEEWAY_SECONDS);
        if expires_at + leeway <= now || issued_at - leeway > now {
            return Err(InvalidToken);
        }
        Ok(AccessClaims {
            user_id: claims.sub.parse::<UserId>().map_err(|_| InvalidToken)?,
            role: claims.role.parse::<Role>().map_err(|_| InvalidToken)?,
            session_version: claims.ver,
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chrono::TimeZone;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn tokens_with(secret: &[u8], issuer: &str, audience: &str) -> JwtTokens {
        JwtTokens::new(&JwtConfig {
            secret: SecretSlice::from(secret.to_vec()),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            access_ttl_seconds: 900,
        })
    }

    fn tokens() -> JwtTokens {
        tokens_with(SECRET, "backend", "backend-api")
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn actor() -> Actor {
        Actor {
            user_id: UserId::generate(),
            role: Role::Admin,
        }
    }

    fn sign(header_json: &str, payload_json: &str, secret: Option<&[u8]>) -> String {
        use hmac::Mac as _;
        let header = URL_SAFE_NO_PAD.encode(header_json);
        let payload = URL_SAFE_NO_PAD.encode(payload_json);
        let signature = secret.map_or_else(String::new, |secret| {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
            mac.update(format!("{header}.{payload}").as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        });
        format!("{header}.{payload}.{signature}")
    }

    fn payload(actor: Actor) -> String {
        format!(
            r#"{{"sub":"{}","role":"admin","iat":{},"exp":{},"iss":"backend","aud":"backend-api","ver":0}}"#,
            actor.user_id,
            now().timestamp(),
            now().timestamp() + 900
        )
    }

    #[test]
    fn an_issued_token_verifies_to_its_actor_and_lifetime() {
        let actor = actor();
        let issued = tokens().issue(actor, 7, now()).unwrap();

        let claims = tokens().verify(&issued.token, now()).unwrap();

        assert_eq!(claims.actor(), actor);
        assert_eq!(claims.session_version, 7);
        assert_eq!(claims.issued_at, now());
        assert_eq!(claims.expires_at, now() + Duration::seconds(900));
        assert_eq!(issued.expires_in_seconds, 900);
    }

    #[test]
    fn a_hand_signed_token_with_the_right_key_verifies() {
        let actor = actor();
        let token = sign(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &payload(actor),
            Some(SECRET),
        );

        assert_eq!(tokens().verify(&token, now()).unwrap().actor(), actor);
    }

    #[test]
    fn an_expired_token_is_invalid_beyond_a_few_seconds_of_leeway() {
        let issued = tokens().issue(actor(), 0, now()).unwrap();

        assert!(
            tokens()
                .verify(&issued.token, now() + Duration::seconds(902))
                .is_ok()
        );
        assert_eq!(
            tokens().verify(&issued.token, now() + Duration::seconds(906)),
            Err(InvalidToken)
        );
    }

    #[test]
    fn a_token_issued_in_the_future_is_invalid() {
        let issued = tokens()
            .issue(actor(), 0, now() + Duration::minutes(10))
            .unwrap();

        assert_eq!(tokens().verify(&issued.token, now()), Err(InvalidToken));
    }

    #[test]
    fn an_unsigned_alg_none_token_is_invalid() {
        let token = sign(r#"{"alg":"none","typ":"JWT"}"#, &payload(actor()), None);

        assert_eq!(tokens().verify(&token, now()), Err(InvalidToken));
    }

    #[test]
    fn a_token_with_another_algorithm_is_invalid() {
        let token = sign(
            r#"{"alg":"HS512","typ":"JWT"}"#,
            &payload(actor()),
            Some(SECRET),
        );

        assert_eq!(tokens().verify(&token, now()), Err(InvalidToken));
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let issued = tokens_with(
            b"another-secret-another-secret-32",
            "backend",
            "backend-api",
        )
        .issue(actor(), 0, now())
        .unwrap();

        assert_eq!(tokens().verify(&issued.token, now()), Err(InvalidToken));
    }

    #[test]
    fn a_tampered_payload_is_invalid() {
        let issued = tokens()
            .issue(
                Actor {
                    role: Role::User,
                    ..actor()
                },
                0,
                now(),
            )
            .unwrap();
        let mut parts: Vec<String> = issued.token.split('.').map(str::to_owned).collect();
        let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        parts[1] = URL_SAFE_NO_PAD.encode(claims.replace("\"user\"", "\"admin\""));

        assert_eq!(tokens().verify(&parts.join("."), now()), Err(InvalidToken));
    }

    #[test]
    fn a_token_for_another_issuer_or_audience_is_invalid() {
        let other_issuer = tokens_with(SECRET, "elsewhere", "backend-api")
            .issue(actor(), 0, now())
            .unwrap();
        let other_audience = tokens_with(SECRET, "backend", "other-api")
            .issue(actor(), 0, now())
            .unwrap();

        assert_eq!(
            tokens().verify(&other_issuer.token, now()),
            Err(InvalidToken)
        );
        assert_eq!(
            tokens().verify(&other_audience.token, now()),
            Err(InvalidToken)
        );
    }

    #[test]
    fn a_token_missing_a_required_claim_is_invalid() {
        let without_iat = format!(
            r#"{{"sub":"{}","role":"admin","exp":{},"iss":"backend","aud":"backend-api","ver":0}}"#,
            UserId::generate(),
            now().timestamp() + 900
        );
        let token = sign(r#"{"alg":"HS256","typ":"JWT"}"#, &without_iat, Some(SECRET));

        assert_eq!(tokens().verify(&token, now()), Err(InvalidToken));
    }

    #[test]
    fn garbage_is_an_invalid_token() {
        assert_eq!(tokens().verify("not.a.jwt", now()), Err(InvalidToken));
        assert_eq!(tokens().verify("", now()), Err(InvalidToken));
    }
}
