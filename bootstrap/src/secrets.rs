//! The JWT signing key: from `JWT_SECRET`, or, in development and test only, generated once
//! and kept in `<DATA_DIR>/jwt-secret` so that tokens survive restarts.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretSlice};

use crate::settings::{MIN_JWT_SECRET_BYTES, Settings};

const SECRET_FILE: &str = "jwt-secret";

/// The key to sign access tokens with.
pub fn jwt_secret(settings: &Settings) -> anyhow::Result<SecretSlice<u8>> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(SecretSlice::from(
            secret.expose_secret().as_bytes().to_vec(),
        ));
    }
    // Settings refuse a missing secret in production, so this is development or test.
    let path = settings.data_dir.join(SECRET_FILE);
    let secret = match std::fs::read_to_string(&path) {
        Ok(existing) if existing.trim().len() >= MIN_JWT_SECRET_BYTES => existing.trim().to_owned(),
        _ => generate_and_store(&path)?,
    };
    tracing::warn!(
        path = %path.display(),
        "JWT_SECRET is not set: using a generated development secret (set JWT_SECRET in production)"
    );
    Ok(SecretSlice::from(secret.into_bytes()))
}

fn generate_and_store(path: &Path) -> anyhow::Result<String> {
    let mut bytes = [0_u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_private(path, &secret)?;
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    fn settings_in(directory: &Path) -> Settings {
        let data_dir = directory.display().to_string();
        Settings::from_lookup(|name| (name == "DATA_DIR").then(|| data_dir.clone())).unwrap()
    }

    #[test]
    fn a_generated_secret_is_kept_and_reused() {
        let directory = tempfile::tempdir().unwrap();
        let settings = settings_in(directory.path());

        let first = jwt_secret(&settings).unwrap();
        let second = jwt_secret(&settings).unwrap();

        assert!(first.expose_secret().len() >= MIN_JWT_SECRET_BYTES);
        assert_eq!(first.expose_secret(), second.expose_secret());
    }
}
