//! The settings: defaults, refusals that name their variable, production's strictness.

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
    assert_eq!(settings.jobs.workers, 4);
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

#[test]
fn metrics_have_a_listener_of_their_own_only_when_metrics_addr_says_where() {
    assert_eq!(load(&[]).unwrap().metrics_addr, None);
    assert_eq!(load(&[("METRICS_ADDR", " ")]).unwrap().metrics_addr, None);
    assert_eq!(
        load(&[("METRICS_ADDR", "127.0.0.1:9100")])
            .unwrap()
            .metrics_addr,
        Some("127.0.0.1:9100".parse().unwrap())
    );
    assert_eq!(
        load(&[("METRICS_ADDR", "localhost")]).unwrap_err().variable,
        "METRICS_ADDR"
    );
}

#[test]
fn email_verification_is_optional_and_its_links_last_a_day_by_default() {
    let defaults = load(&[]).unwrap();
    assert!(!defaults.require_verified_email);
    assert_eq!(defaults.email_verification_ttl_seconds, 86_400);

    let strict = load(&[
        ("REQUIRE_VERIFIED_EMAIL", "true"),
        ("EMAIL_VERIFICATION_TTL_SECONDS", "3600"),
    ])
    .unwrap();
    assert!(strict.require_verified_email);
    assert_eq!(strict.email_verification_ttl_seconds, 3600);

    for (variable, value) in [
        ("REQUIRE_VERIFIED_EMAIL", "yes"),
        ("EMAIL_VERIFICATION_TTL_SECONDS", "0"),
    ] {
        assert_eq!(load(&[(variable, value)]).unwrap_err().variable, variable);
    }
}

#[test]
fn database_operations_have_a_five_second_deadline_by_default() {
    assert_eq!(load(&[]).unwrap().database_timeout_seconds, 5);
    assert_eq!(
        load(&[("DATABASE_TIMEOUT_SECONDS", "2")])
            .unwrap()
            .database_timeout_seconds,
        2
    );
    assert_eq!(
        load(&[("DATABASE_TIMEOUT_SECONDS", "0")])
            .unwrap_err()
            .variable,
        "DATABASE_TIMEOUT_SECONDS"
    );
}
