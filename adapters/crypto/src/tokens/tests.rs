//! Access tokens: issued and verified, and every way a token is refused.

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
        r#"{{"sub":"{}","role":"admin","iat":{},"exp":{},"iss":"backend","aud":"backend-api","sid":"{}","ver":0}}"#,
        actor.user_id,
        now().timestamp(),
        now().timestamp() + 900,
        session(),
    )
}

fn session() -> SessionId {
    SessionId::from_uuid(uuid::Uuid::from_u128(
        0x0193_0000_0000_7000_8000_0000_0000_0042,
    ))
}

#[test]
fn a_token_without_a_session_is_invalid() {
    let claims = payload(actor()).replace(&format!(r#","sid":"{}""#, session()), "");
    let token = sign(r#"{"alg":"HS256","typ":"JWT"}"#, &claims, Some(SECRET));

    assert_eq!(tokens().verify(&token, now()), Err(InvalidToken));
}

#[test]
fn an_issued_token_verifies_to_its_actor_and_lifetime() {
    let actor = actor();
    let issued = tokens()
        .issue(actor, session(), SessionVersion::new(7), now())
        .unwrap();

    let claims = tokens().verify(&issued.token, now()).unwrap();

    assert_eq!(claims.actor(), actor);
    assert_eq!(claims.session_id, session());
    assert_eq!(claims.session_version, SessionVersion::new(7));
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
    let issued = tokens()
        .issue(actor(), session(), SessionVersion::INITIAL, now())
        .unwrap();

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
        .issue(
            actor(),
            session(),
            SessionVersion::INITIAL,
            now() + Duration::minutes(10),
        )
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
    .issue(actor(), session(), SessionVersion::INITIAL, now())
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
            session(),
            SessionVersion::INITIAL,
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
        .issue(actor(), session(), SessionVersion::INITIAL, now())
        .unwrap();
    let other_audience = tokens_with(SECRET, "backend", "other-api")
        .issue(actor(), session(), SessionVersion::INITIAL, now())
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

#[test]
fn a_remembered_token_still_expires() {
    let tokens = tokens();
    let issued = tokens
        .issue(actor(), session(), SessionVersion::INITIAL, now())
        .unwrap();

    assert!(tokens.verify(&issued.token, now()).is_ok());
    assert!(tokens.verify(&issued.token, now()).is_ok(), "from memory");
    assert_eq!(
        tokens.verify(&issued.token, now() + Duration::seconds(906)),
        Err(InvalidToken)
    );
}

#[test]
fn a_token_differing_from_a_remembered_one_is_verified_afresh() {
    let tokens = tokens();
    let issued = tokens
        .issue(actor(), session(), SessionVersion::INITIAL, now())
        .unwrap();
    tokens.verify(&issued.token, now()).unwrap();
    // One character of the signature changed (not its last, which carries padding bits).
    let mut forged = issued.token.clone().into_bytes();
    let at = forged.len() - 5;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();

    assert_eq!(tokens.verify(&forged, now()), Err(InvalidToken));
}

#[test]
fn a_token_not_yet_valid_is_not_remembered_as_valid() {
    let tokens = tokens();
    let issued = tokens
        .issue(
            actor(),
            session(),
            SessionVersion::INITIAL,
            now() + Duration::minutes(10),
        )
        .unwrap();

    assert_eq!(tokens.verify(&issued.token, now()), Err(InvalidToken));
    assert!(
        tokens
            .verify(&issued.token, now() + Duration::minutes(10))
            .is_ok()
    );
}
