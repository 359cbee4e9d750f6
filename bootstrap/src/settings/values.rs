//! Reading single values: numbers, lists, networks, the optional `KEY=VALUE` file, and the
//! error that names the variable.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::ConfigError;

pub(super) fn invalid(variable: &'static str, message: String) -> ConfigError {
    ConfigError { variable, message }
}

pub(super) fn parse<T: std::str::FromStr>(
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

/// A setting that must be greater than zero, parsed from `variable` (or `default`).
pub(super) fn positive_setting<T: std::str::FromStr + Default + PartialEq>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: &str,
    expected: &str,
) -> Result<T, ConfigError> {
    positive(parse(get, variable, default, expected)?, variable)
}

fn positive<T: Default + PartialEq>(value: T, variable: &'static str) -> Result<T, ConfigError> {
    if value == T::default() {
        return Err(invalid(variable, "must be greater than 0".to_owned()));
    }
    Ok(value)
}

pub(super) fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An IP address (a /32 or /128 network) or a CIDR block.
pub(super) fn parse_network(entry: &str) -> Result<IpNet, ConfigError> {
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

pub(super) fn read_config_file(path: &str) -> Result<HashMap<String, String>, ConfigError> {
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
