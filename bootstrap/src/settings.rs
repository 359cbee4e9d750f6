//! Typed settings, loaded once at start: defaults, then an optional `KEY=VALUE` file named
//! by `CONFIG_FILE`, then the environment (which wins). The variable names are the contract
//! in API.md; every one is documented in `.env.example`. A bad value is a start-up error
//! that names the variable.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use secrecy::SecretString;

/// Where the service runs; production is strict about secrets and hides error details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

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
    pub smtp_url: Option<SecretString>,
    pub mail_outbox_dir: PathBuf,
    pub mail_from: String,
    pub public_url: String,
    pub admin_email: Option<String>,
    pub admin_password: Option<SecretString>,
    pub job_workers: usize,
    /// How long a worker's claim on a job holds (a dead worker's job waits this long).
    pub job_lease_seconds: u64,
    /// First retry delay of a failed job, doubled per attempt.
    pub job_retry_base_ms: u64,
    /// Longest retry delay.
    pub job_retry_max_seconds: u64,
    /// How often idle workers look for jobs other processes enqueued.
    pub job_poll_interval_ms: u64,
    /// How long succeeded and dead jobs are kept.
    pub job_retention_hours: u64,
    /// Longest wait for any step of an SMTP delivery.
    pub smtp_timeout_seconds: u64,
    pub log_format: LogFormat,
    /// Limits on the clients' connections and request bodies.
    pub http: HttpLimits,
    /// Sockets one user may hold open at once.
    pub max_sockets_per_user: usize,
    /// Directory for generated local state (the development JWT secret).
    pub data_dir: PathBuf,
}

/// Limits on the clients' connections and request bodies (`HTTP_*` variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    pub max_connections: usize,
    pub header_timeout_seconds: u64,
    pub body_timeout_seconds: u64,
    pub idle_timeout_seconds: u64,
    pub http2_max_streams: u32,
}

impl HttpLimits {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            max_connections: positive(
                parse(get, "HTTP_MAX_CONNECTIONS", "10000", "a positive number")?,
                "HTTP_MAX_CONNECTIONS",
            )?,
            header_timeout_seconds: positive(
                parse(
                    get,
                    "HTTP_HEADER_TIMEOUT_SECONDS",
                    "10",
                    "a number of seconds",
                )?,
                "HTTP_HEADER_TIMEOUT_SECONDS",
            )?,
            body_timeout_seconds: positive(
                parse(
                    get,
                    "HTTP_BODY_TIMEOUT_SECONDS",
                    "30",
                    "a number of seconds",
                )?,
                "HTTP_BODY_TIMEOUT_SECONDS",
            )?,
            idle_timeout_seconds: positive(
                parse(
                    get,
                    "HTTP_IDLE_TIMEOUT_SECONDS",
                    "60",
                    "a number of seconds",
                )?,
                "HTTP_IDLE_TIMEOUT_SECONDS",
            )?,
            http2_max_streams: positive(
                parse(
                    get,
                    "HTTP2_MAX_CONCURRENT_STREAMS",
                    "100",
                    "a positive number",
                )?,
                "HTTP2_MAX_CONCURRENT_STREAMS",
            )?,
        })
    }
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
            database_max_connections: positive(
                parse(&get, "DATABASE_MAX_CONNECTIONS", "10", "a positive number")?,
                "DATABASE_MAX_CONNECTIONS",
            )?,
            jwt_secret,
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "backend".to_owned()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "backend-api".to_owned()),
            jwt_access_ttl_seconds: positive(
                parse(&get, "JWT_ACCESS_TTL_SECONDS", "900", "a number of seconds")?,
                "JWT_ACCESS_TTL_SECONDS",
            )?,
            jwt_refresh_ttl_seconds: positive(
                parse(
                    &get,
                    "JWT_REFRESH_TTL_SECONDS",
                    "2592000",
                    "a number of seconds",
                )?,
                "JWT_REFRESH_TTL_SECONDS",
            )?,
            allowed_origins: list(get("ALLOWED_ORIGINS")),
            trusted_proxies: list(get("TRUSTED_PROXIES"))
                .iter()
                .map(|entry| parse_network(entry))
                .collect::<Result<_, _>>()?,
            rate_limit_max: positive(
                parse(&get, "RATE_LIMIT_MAX", "100", "a positive number")?,
                "RATE_LIMIT_MAX",
            )?,
            rate_limit_window_seconds: positive(
                parse(
                    &get,
                    "RATE_LIMIT_WINDOW_SECONDS",
                    "900",
                    "a number of seconds",
                )?,
                "RATE_LIMIT_WINDOW_SECONDS",
            )?,
            auth_rate_limit_max: positive(
                parse(&get, "AUTH_RATE_LIMIT_MAX", "10", "a positive number")?,
                "AUTH_RATE_LIMIT_MAX",
            )?,
            smtp_url: get("SMTP_URL").map(SecretString::from),
            mail_outbox_dir: PathBuf::from(
                get("MAIL_OUTBOX_DIR").unwrap_or_else(|| "./data/outbox".to_owned()),
            ),
            mail_from: get("MAIL_FROM").unwrap_or_else(|| "no-reply@localhost".to_owned()),
            public_url,
            admin_email,
            admin_password,
            job_workers: parse(&get, "JOB_WORKERS", "4", "a number")?,
            job_lease_seconds: positive(
                parse(&get, "JOB_LEASE_SECONDS", "60", "a number of seconds")?,
                "JOB_LEASE_SECONDS",
            )?,
            job_retry_base_ms: positive(
                parse(
                    &get,
                    "JOB_RETRY_BASE_MS",
                    "1000",
                    "a number of milliseconds",
                )?,
                "JOB_RETRY_BASE_MS",
            )?,
            job_retry_max_seconds: positive(
                parse(&get, "JOB_RETRY_MAX_SECONDS", "3600", "a number of seconds")?,
                "JOB_RETRY_MAX_SECONDS",
            )?,
            job_poll_interval_ms: positive(
                parse(
                    &get,
                    "JOB_POLL_INTERVAL_MS",
                    "500",
                    "a number of milliseconds",
                )?,
                "JOB_POLL_INTERVAL_MS",
            )?,
            job_retention_hours: positive(
                parse(&get, "JOB_RETENTION_HOURS", "168", "a number of hours")?,
                "JOB_RETENTION_HOURS",
            )?,
            smtp_timeout_seconds: positive(
                parse(&get, "SMTP_TIMEOUT_SECONDS", "20", "a number of seconds")?,
                "SMTP_TIMEOUT_SECONDS",
            )?,
            log_format,
            http: HttpLimits::from_lookup(&get)?,
            max_sockets_per_user: positive(
                parse(
                    &get,
                    "REALTIME_MAX_SOCKETS_PER_USER",
                    "20",
                    "a positive number",
                )?,
                "REALTIME_MAX_SOCKETS_PER_USER",
            )?,
            data_dir: PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "./data".to_owned())),
        })
    }

    /// Whether 500 bodies may carry internal details.
    #[must_use]
    pub fn expose_error_details(&self) -> bool {
        self.environment != Environment::Production
    }
}

fn invalid(variable: &'static str, message: String) -> ConfigError {
    ConfigError { variable, message }
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: &str,
    expected: &str,
) -> Result<T, ConfigError> {
    let value = get(variable).unwrap_or_else(|| default.to_owned());
    value
        .trim()
        .parse()
        .map_err(|_| invalid(variable, format!("expected {expected}, got '{value}'")))
}

fn positive<T: Default + PartialEq>(value: T, variable: &'static str) -> Result<T, ConfigError> {
    if value == T::default() {
        return Err(invalid(variable, "must be greater than 0".to_owned()));
    }
    Ok(value)
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An IP address (a /32 or /128 network) or a CIDR block.
fn parse_network(entry: &str) -> Result<IpNet, ConfigError> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            invalid(
                "TRUSTED_PROXIES",
                format!("expected IP addresses or CIDR blocks, got '{entry}'"),
            )
        })
}

fn read_config_file(path: &str) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| invalid("CONFIG_FILE", format!("cannot read {path}: {error}")))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| {
            (
                key.trim().to_owned(),
                value.trim().trim_matches('"').to_owned(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    /// `openssl rand -base64 33`.
    const STRONG_SECRET: &str = "q0Vn3ZfK8xH1s7rT2yW5uB9eL4mC6pA0dJ8gN3kR1tQz";

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_serve_the_embedded_development_setup() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.environment, Environment::Development);
        assert_eq!(settings.port, 3000);
        assert_eq!(
            settings.database_url.expose_secret(),
            "sqlite://data/app.db"
        );
        assert_eq!(settings.public_url, "http://127.0.0.1:3000");
        assert_eq!(settings.log_format, LogFormat::Pretty);
        assert_eq!(settings.job_workers, 4);
        assert!(settings.jwt_secret.is_none());
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let error = load(&[("PORT", "eighty")]).unwrap_err();
        assert_eq!(error.variable, "PORT");
        assert!(error.to_string().contains("eighty"));
        assert_eq!(
            load(&[("DATABASE_MAX_CONNECTIONS", "0")])
                .unwrap_err()
                .variable,
            "DATABASE_MAX_CONNECTIONS"
        );
        assert_eq!(
            load(&[("APP_ENV", "staging")]).unwrap_err().variable,
            "APP_ENV"
        );
        assert_eq!(
            load(&[("TRUSTED_PROXIES", "10.0.0.0/8,nonsense")])
                .unwrap_err()
                .variable,
            "TRUSTED_PROXIES"
        );
    }

    #[test]
    fn production_refuses_a_missing_jwt_secret() {
        let error = load(&[("APP_ENV", "production")]).unwrap_err();
        assert_eq!(error.variable, "JWT_SECRET");
    }

    #[test]
    fn a_jwt_secret_under_32_bytes_is_refused_everywhere() {
        assert_eq!(
            load(&[("JWT_SECRET", "short")]).unwrap_err().variable,
            "JWT_SECRET"
        );
        assert!(load(&[("APP_ENV", "production"), ("JWT_SECRET", STRONG_SECRET)]).is_ok());
    }

    #[test]
    fn production_refuses_weak_jwt_secrets_that_development_accepts() {
        for weak in [
            "a".repeat(40),
            "changeme-changeme-changeme-changeme".to_owned(),
            "secretsecretsecretsecretsecretsecret".to_owned(),
        ] {
            let error = load(&[("APP_ENV", "production"), ("JWT_SECRET", &weak)]).unwrap_err();
            assert_eq!(error.variable, "JWT_SECRET", "{weak}");
            assert!(
                load(&[("JWT_SECRET", &weak)]).is_ok(),
                "development refused {weak}"
            );
        }
    }

    #[test]
    fn production_refuses_a_weak_admin_password() {
        let error = load(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", STRONG_SECRET),
            ("ADMIN_EMAIL", "admin@example.com"),
            ("ADMIN_PASSWORD", "12345678"),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "ADMIN_PASSWORD");
        assert!(
            load(&[
                ("APP_ENV", "production"),
                ("JWT_SECRET", STRONG_SECRET),
                ("ADMIN_EMAIL", "admin@example.com"),
                ("ADMIN_PASSWORD", "kX9#mP2$vL7@nQ4"),
            ])
            .is_ok()
        );
    }

    #[test]
    fn connection_limits_have_defaults_and_refuse_zero() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.http.header_timeout_seconds, 10);
        assert_eq!(settings.http.max_connections, 10_000);
        assert_eq!(
            load(&[("HTTP_IDLE_TIMEOUT_SECONDS", "0")])
                .unwrap_err()
                .variable,
            "HTTP_IDLE_TIMEOUT_SECONDS"
        );
    }

    #[test]
    fn production_logs_json_by_default() {
        let settings = load(&[("APP_ENV", "production"), ("JWT_SECRET", STRONG_SECRET)]).unwrap();
        assert_eq!(settings.log_format, LogFormat::Json);
        assert!(!settings.expose_error_details());
    }

    #[test]
    fn lists_are_comma_separated_and_proxies_accept_addresses_and_blocks() {
        let settings = load(&[
            ("ALLOWED_ORIGINS", "https://a.example, https://b.example"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
        ])
        .unwrap();
        assert_eq!(
            settings.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(settings.trusted_proxies.len(), 2);
    }

    #[test]
    fn admin_email_and_password_go_together() {
        assert_eq!(
            load(&[("ADMIN_EMAIL", "admin@example.com")])
                .unwrap_err()
                .variable,
            "ADMIN_EMAIL"
        );
    }
}
