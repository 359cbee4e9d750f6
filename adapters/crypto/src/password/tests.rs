use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

use super::*;

fn password(text: &str) -> Password {
    Password::parse(text).unwrap()
}

#[tokio::test]
async fn a_hash_is_argon2id_with_the_owasp_parameters_and_verifies() {
    let hasher = Argon2Hasher::new(2);

    let hash = hasher
        .hash(&password("correct horse battery"))
        .await
        .unwrap();

    assert!(hash.as_str().starts_with("$argon2id$v=19$m=12288,t=3,p=1$"));
    assert!(
        hasher
            .verify(&password("correct horse battery"), &hash)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_wrong_password_does_not_verify() {
    let hasher = Argon2Hasher::new(1);
    let hash = hasher
        .hash(&password("correct horse battery"))
        .await
        .unwrap();

    assert!(
        !hasher
            .verify(&password("wrong horse battery"), &hash)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_same_password_hashes_differently_each_time() {
    let hasher = Argon2Hasher::new(1);
    let first = hasher
        .hash(&password("correct horse battery"))
        .await
        .unwrap();
    let second = hasher
        .hash(&password("correct horse battery"))
        .await
        .unwrap();

    assert_ne!(first, second);
}

#[tokio::test]
async fn a_malformed_hash_does_not_verify_and_is_not_an_error() {
    let hasher = Argon2Hasher::new(1);
    let malformed = PasswordHash::from_phc("not a phc string".to_owned());

    assert!(
        !hasher
            .verify(&password("correct horse battery"), &malformed)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn hashes_interoperate_with_the_reference_argon2_implementation() {
    let hasher = Argon2Hasher::new(1);
    let ours = hasher
        .hash(&password("correct horse battery"))
        .await
        .unwrap();
    let reference = Argon2::default()
        .hash_password(b"correct horse battery")
        .unwrap()
        .to_string();
    let reference_with_other_params = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(8192, 3, 1, None).unwrap(),
    )
    .hash_password(b"correct horse battery")
    .unwrap()
    .to_string();

    assert!(
        Argon2::default()
            .verify_password(b"correct horse battery", ours.as_str())
            .is_ok()
    );
    for stored in [reference, reference_with_other_params] {
        assert!(
            hasher
                .verify(
                    &password("correct horse battery"),
                    &PasswordHash::from_phc(stored)
                )
                .await
                .unwrap()
        );
    }
}
