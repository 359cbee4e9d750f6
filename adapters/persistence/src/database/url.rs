//! Reading `DATABASE_URL`: which backend it names, and how to print it without its password.

use super::{Backend, DatabaseError};

/// The backend a `DATABASE_URL` names, and what to connect to.
pub(super) fn parse_url(url: &str) -> Result<(Backend, String), DatabaseError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .filter(|path| !path.is_empty())
        .ok_or_else(|| DatabaseError::UnsupportedUrl(redact(url)))?;
    Ok((Backend::Sqlite, path.to_owned()))
}

/// The URL without its password, for error messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://<credentials>{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_selects_the_backend() {
        assert_eq!(
            parse_url("postgres://u:p@localhost/db").unwrap(),
            (Backend::Postgres, "postgres://u:p@localhost/db".to_owned())
        );
        assert_eq!(
            parse_url("sqlite://data/app.db").unwrap(),
            (Backend::Sqlite, "data/app.db".to_owned())
        );
        assert_eq!(
            parse_url("sqlite:/tmp/x.db").unwrap(),
            (Backend::Sqlite, "/tmp/x.db".to_owned())
        );
    }

    #[test]
    fn an_unknown_scheme_is_refused_without_printing_credentials() {
        let error = parse_url("mysql://root:hunter2@localhost/db").unwrap_err();
        assert!(matches!(error, DatabaseError::UnsupportedUrl(_)));
        assert!(!error.to_string().contains("hunter2"));
    }
}
