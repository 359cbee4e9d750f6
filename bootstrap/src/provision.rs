//! The administrator named by `ADMIN_EMAIL` and `ADMIN_PASSWORD`, created at start when
//! missing.

use application::{AdminProvisioning, UserService};
use domain::{Email, Password};
use secrecy::ExposeSecret as _;

use crate::settings::Settings;

/// Creates the configured administrator unless that user exists (whatever its role now).
pub(crate) async fn provision_admin(
    settings: &Settings,
    users: &UserService,
) -> anyhow::Result<()> {
    let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) else {
        return Ok(());
    };
    let email =
        Email::parse(email).map_err(|error| anyhow::anyhow!("invalid ADMIN_EMAIL: {error}"))?;
    let password = Password::parse(password.expose_secret())
        .map_err(|error| anyhow::anyhow!("invalid ADMIN_PASSWORD: {error}"))?;
    match users.ensure_admin(email.clone(), password).await? {
        AdminProvisioning::Created => {
            tracing::info!(email = %email, "created the administrator from ADMIN_EMAIL");
        }
        AdminProvisioning::AlreadyExists => {
            tracing::debug!(email = %email, "the administrator already exists");
        }
    }
    Ok(())
}
