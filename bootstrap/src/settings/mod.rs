//! Typed settings, loaded once at start: defaults, then an optional `KEY=VALUE` file named
//! by `CONFIG_FILE`, then the environment (which wins). The variable names are the contract
//! in API.md; every one is documented in `.env.example`. A bad value is a start-up error
//! that names the variable.

mod http;
mod jobs;
#[cfg(test)]
mod tests;
mod traces;
mod values;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use secrecy::SecretString;

pub use self::http::HttpLimits;
pub use self::jobs::JobSettings;
use self::values::{invalid, list, parse, parse_network, positive_setting, read_config_file};

/// Where the service runs; production is strict about secrets and hides error details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

pub use adapter_tracing::LogFormat;

/// A setting that could not be used, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

/// Every setting of the service.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub host: IpAddr,
    pub port: u16,
    pub database_url: SecretString,
    pub database_max_connections: usize,
    /// Longest wait for a connection plus its statements, then 503.
    pub database_timeout_seconds: u64,
    /// `None` in development and test means "generate one and keep it under ./data".
    pub jwt_secret: Option<SecretString>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub jwt_access_ttl_seconds: u64,
    pub jwt_refresh_ttl_seconds: u64,
    pub allowed_origins: Vec<String>,
    pub trusted_proxies: Vec<IpNet>,
    pub rate_limit_max: u32,
    pub rate_limit_window_seconds: u64,
    pub auth_rate_limit_max: u32,
    /// Requests per user (with a valid bearer token, from any address) per window.
    pub user_rate_limit_max: u32,
    /// `REDIS_URL`: where the instances share their rate-limit counters; `None`: in process.
    pub redis_url: Option<SecretString>,
    /// Prefix of this service's keys in Redis (`REDIS_KEY_PREFIX`), for sharing a database.
    pub redis_key_prefix: String,
    /// Refuse login and refresh to users whose email address is not verified.
    pub require_verified_email: bool,
    /// How long an email-verification link works.
    pub email_verification_ttl_seconds: u64,
    pub smtp_url: Option<SecretString>,
    pub mail_outbox_dir: PathBuf,
    pub mail_from: String,
    pub public_url: String,
    pub admin_email: Option<String>,
    pub admin_password: Option<SecretString>,
    /// The job queue's workers and timings (`JOB_*` variables).
    pub jobs: JobSettings,
    /// Longest an SMTP delivery attempt may take, greeting included.
    pub smtp_timeout_seconds: u64,
    pub log_format: LogFormat,
    /// Limits on the clients' connections and request bodies.
    pub http: HttpLimits,
    /// Sockets one user may hold open at once.
    pub max_sockets_per_user: usize,
    /// `METRICS_ADDR`: a listener of its own for `/metrics`; `None` serves it on the API
    /// listener to loopback peers (not in production).
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: export spans there; `None` exports nothing.
    pub otlp: Option<adapter_tracing::OtlpConfig>,
    /// Directory for generated local state (the development JWT secret).
    pub data_dir: PathBuf,
}

/// The JWT secret must be at least this long (HS256 wants a 256-bit key).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Settings {
    /// Settings from the process environment (and `CONFIG_FILE`, when set).
    pub fn from_env() -> Result<Self, ConfigError> {
        let file = match std::env::var("CONFIG_FILE") {
            Ok(path) => read_config_file(&path)?,
            Err(_) => HashMap::new(),
        };
        Self::from_lookup(|name| std::env::var(name).ok().or_else(|| file.get(name).cloned()))
    }

    /// Settings from any source of variables (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let environment = match get("APP_ENV").as_deref().unwrap_or("development") {
            "development" => Environment::Development,
            "test" => Environment::Test,
            "production" => Environment::Production,
            other => {
                return Err(invalid(
                    "APP_ENV",
                    format!("expected development, test or production, got '{other}'"),
                ));
            }
        };
        let host: IpAddr = parse(&get, "HOST", "127.0.0.1", "an IP address")?;
        let port: u16 = parse(&get, "PORT", "3000", "a port number from 0 to 65535")?;
        let jwt_secret = get("JWT_SECRET").map(SecretString::from);
        if let Some(secret) = &jwt_secret {
            if secrecy::ExposeSecret::expose_secret(secret).len() < MIN_JWT_SECRET_BYTES {
                return Err(invalid(
                    "JWT_SECRET",
                    format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
                ));
            }
            if environment == Environment::Production
                && let Some(weakness) =
                    crate::strength::weak_jwt_secret(secrecy::ExposeSecret::expose_secret(secret))
            {
                return Err(invalid("JWT_SECRET", weakness.to_owned()));
            }
        } else if environment == Environment::Production {
            return Err(invalid(
                "JWT_SECRET",
                "is required in production".to_owned(),
            ));
        }
        let admin_email = get("ADMIN_EMAIL");
        let admin_password = get("ADMIN_PASSWORD").map(SecretString::from);
        if environment == Environment::Production
            && let Some(password) = &admin_password
            && let Some(weakness) =
                crate::strength::weak_admin_password(secrecy::ExposeSecret::expose_secret(password))
        {
            return Err(invalid("ADMIN_PASSWORD", weakness.to_owned()));
        }
        if admin_email.is_some() != admin_password.is_some() {
            return Err(invalid(
                "ADMIN_EMAIL",
                "ADMIN_EMAIL and ADMIN_PASSWORD must be set together".to_owned(),
            ));
        }
        let public_url = get("PUBLIC_URL").unwrap_or_else(|| format!("http://{host}:{port}"));
        let log_format = match get("LOG_FORMAT").as_deref() {
            None if environment == Environment::Production => LogFormat::Json,
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("expected pretty or json, got '{other}'"),
                ));
            }
        };
        Ok(Self {
            environment,
            host,
            port,
            database_url: SecretString::from(
                get("DATABASE_URL").unwrap_or_else(|| "sqlite://data/app.db".to_owned()),
            ),
            database_max_connections: positive_setting(
                &get,
                "DATABASE_MAX_CONNECTIONS",
                "10",
                "a positive number",
            )?,
            database_timeout_seconds: positive_setting(
                &get,
                "DATABASE_TIMEOUT_SECONDS",
                "5",
                "a number of seconds",
            )?,
            jwt_secret,
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "backend".to_owned()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "backend-api".to_owned()),
            jwt_access_ttl_seconds: positive_setting(
                &get,
                "JWT_ACCESS_TTL_SECONDS",
                "900",
                "a number of seconds",
            )?,
            jwt_refresh_ttl_seconds: positive_setting(
                &get,
                "JWT_REFRESH_TTL_SECONDS",
                "2592000",
                "a number of seconds",
            )?,
            allowed_origins: list(get("ALLOWED_ORIGINS")),
            trusted_proxies: list(get("TRUSTED_PROXIES"))
                .iter()
                .map(|entry| parse_network(entry))
                .collect::<Result<_, _>>()?,
            rate_limit_max: positive_setting(&get, "RATE_LIMIT_MAX", "100", "a positive number")?,
            rate_limit_window_seconds: positive_setting(
                &get,
                "RATE_LIMIT_WINDOW_SECONDS",
                "900",
                "a number of seconds",
            )?,
            auth_rate_limit_max: positive_setting(
                &get,
                "AUTH_RATE_LIMIT_MAX",
                "10",
                "a positive number",
            )?,
            user_rate_limit_max: positive_setting(
                &get,
                "USER_RATE_LIMIT_MAX",
                "1000",
                "a positive number",
            )?,
            require_verified_email: parse(
                &get,
                "REQUIRE_VERIFIED_EMAIL",
                "false",
                "true or false",
            )?,
            email_verification_ttl_seconds: positive_setting(
                &get,
                "EMAIL_VERIFICATION_TTL_SECONDS",
                "86400",
                "a number of seconds",
            )?,
            redis_url: get("REDIS_URL").map(SecretString::from),
            redis_key_prefix: get("REDIS_KEY_PREFIX").unwrap_or_else(|| "backend:".to_owned()),
            smtp_url: get("SMTP_URL").map(SecretString::from),
            mail_outbox_dir: PathBuf::from(
                get("MAIL_OUTBOX_DIR").unwrap_or_else(|| "./data/outbox".to_owned()),
            ),
            mail_from: get("MAIL_FROM").unwrap_or_else(|| "no-reply@localhost".to_owned()),
            public_url,
            admin_email,
            admin_password,
            jobs: JobSettings::from_lookup(&get)?,
            smtp_timeout_seconds: positive_setting(
                &get,
                "SMTP_TIMEOUT_SECONDS",
                "20",
                "a number of seconds",
            )?,
            log_format,
            http: HttpLimits::from_lookup(&get)?,
            max_sockets_per_user: positive_setting(
                &get,
                "REALTIME_MAX_SOCKETS_PER_USER",
                "20",
                "a positive number",
            )?,
            metrics_addr: get("METRICS_ADDR")
                .filter(|value| !value.trim().is_empty())
                .map(|_| parse(&get, "METRICS_ADDR", "", "host:port, e.g. 127.0.0.1:9100"))
                .transpose()?,
            otlp: traces::otlp(&get)?,
            data_dir: PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "./data".to_owned())),
        })
    }

    /// Whether 500 bodies may carry internal details.
    #[must_use]
    pub fn expose_error_details(&self) -> bool {
        self.environment != Environment::Production
    }
}
