//! The domain's input rules as JSON Schema, so that the document states every constraint
//! the value objects enforce. The numbers come from the domain's own constants; the
//! patterns are written here, and the tests below check that each one accepts exactly what
//! its value object accepts.

use domain::{
    Amount, Currency, Email, IdempotencyKey, MAX_AMOUNT, Password, PostContent, PostTitle,
    SearchTerm, UserName, job::MAX_JOB_NAME_LENGTH, pagination::MAX_LIMIT,
};
use serde_json::{Value, json};

use crate::api::auth::dto::MAX_TOKEN_LENGTH;

/// What `char::is_control` refuses: C0, DEL and C1.
const CONTROLS: &str = r"\x00-\x1F\x7F-\x9F";
/// Controls, except the tab, line feed and carriage return that post content may hold.
const CONTROLS_BUT_LINE_BREAKS: &str = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F";
/// What `str::trim` removes that is not also a control character.
const SPACES: &str = r" \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// No control character.
fn no_controls() -> String {
    format!("^[^{CONTROLS}]*$")
}

/// No control character, and something other than white space.
fn not_blank() -> String {
    format!("^[^{CONTROLS}]*[^{CONTROLS}{SPACES}][^{CONTROLS}]*$")
}

fn content() -> String {
    format!("^[^{CONTROLS_BUT_LINE_BREAKS}]*$")
}

fn queue() -> String {
    format!("^[a-z0-9._-]{{1,{MAX_JOB_NAME_LENGTH}}}$")
}

/// Visible ASCII: what `u8::is_ascii_graphic` accepts.
fn idempotency_key() -> String {
    format!(r"^[\x21-\x7E]{{1,{}}}$", IdempotencyKey::MAX_LENGTH)
}

fn email() -> Value {
    json!({ "format": "email", "maxLength": Email::MAX_LEN })
}

fn password() -> Value {
    json!({ "minLength": Password::MIN_CHARS, "maxLength": Password::MAX_CHARS })
}

fn name() -> Value {
    json!({ "minLength": 1, "maxLength": UserName::MAX_CHARS, "pattern": not_blank() })
}

fn title() -> Value {
    json!({ "minLength": 1, "maxLength": PostTitle::MAX_CHARS, "pattern": not_blank() })
}

fn token() -> Value {
    json!({ "minLength": 1, "maxLength": MAX_TOKEN_LENGTH })
}

fn amount() -> Value {
    json!({ "minimum": Amount::MIN_UNITS, "maximum": MAX_AMOUNT })
}

/// `(schema, property, constraints)`: what each request body property must satisfy.
pub(super) fn body_rules() -> Vec<(&'static str, &'static str, Value)> {
    let mut rules = Vec::new();
    for schema in [
        "Register",
        "CreateUser",
        "UpdateUser",
        "Login",
        "PasswordResetRequest",
    ] {
        rules.push((schema, "email", email()));
    }
    for schema in ["Register", "CreateUser", "Login", "PasswordResetConfirm"] {
        rules.push((schema, "password", password()));
    }
    rules.push(("ChangePassword", "currentPassword", password()));
    rules.push(("ChangePassword", "newPassword", password()));
    for schema in ["Register", "CreateUser", "UpdateUser"] {
        rules.push((schema, "name", name()));
    }
    for schema in ["CreatePost", "UpdatePost"] {
        rules.push((schema, "title", title()));
        rules.push((
            schema,
            "content",
            json!({ "maxLength": PostContent::MAX_CHARS, "pattern": content() }),
        ));
    }
    rules.push(("RefreshToken", "refreshToken", token()));
    rules.push(("PasswordResetConfirm", "token", token()));
    rules.push(("VerifyEmail", "token", token()));
    rules.push((
        "OpenAccount",
        "currency",
        json!({ "enum": Currency::CODES }),
    ));
    rules.push(("Deposit", "amount", amount()));
    rules.push(("CreateTransfer", "amount", amount()));
    rules
}

/// `(query or header parameter, constraints)`: the same name means the same rule on every
/// operation.
pub(super) fn parameter_rules(job_statuses: &Value) -> Vec<(&'static str, Value)> {
    vec![
        ("page", json!({ "minimum": 1, "maximum": u32::MAX })),
        ("limit", json!({ "minimum": 1, "maximum": MAX_LIMIT })),
        (
            "search",
            json!({ "maxLength": SearchTerm::MAX_CHARS, "pattern": no_controls() }),
        ),
        ("queue", json!({ "pattern": queue() })),
        ("status", json!({ "enum": job_statuses })),
        (
            "Idempotency-Key",
            json!({ "minLength": 1, "maxLength": IdempotencyKey::MAX_LENGTH, "pattern": idempotency_key() }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use domain::{JobStatus, PageRequest, QueueName};
    use proptest::prelude::*;
    use regex::Regex;

    use super::*;
    use crate::api::jobs::dto::JobStatusDto;

    fn parameter_rule(name: &str) -> Value {
        parameter_rules(&json!([]))
            .into_iter()
            .find(|rule| rule.0 == name)
            .unwrap()
            .1
    }

    /// Whether `text` satisfies a string schema's length and pattern.
    fn satisfies(schema: &Value, text: &str) -> bool {
        let length = text.chars().count();
        let bound = |key: &str| schema[key].as_u64().map(|n| usize::try_from(n).unwrap());
        bound("minLength").is_none_or(|min| length >= min)
            && bound("maxLength").is_none_or(|max| length <= max)
            && schema["pattern"]
                .as_str()
                .is_none_or(|pattern| Regex::new(pattern).unwrap().is_match(text))
    }

    /// Strings of the characters where the rules' edges lie: letters, the white space
    /// `trim` removes (some of it also control), other controls, and look-alikes of both.
    fn tricky_text(max_chars: usize) -> impl Strategy<Value = String> {
        let characters = prop::sample::select(vec![
            'a', 'é', '𝄞', ' ', '\t', '\n', '\r', '\u{0}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}',
            '\u{a0}', '\u{1680}', '\u{2003}', '\u{2028}', '\u{3000}', '\u{feff}', '\u{200b}',
        ]);
        prop::collection::vec(characters, 0..=max_chars).prop_map(String::from_iter)
    }

    proptest! {
        #[test]
        fn the_name_schema_accepts_exactly_the_names_the_domain_accepts(text in tricky_text(102)) {
            prop_assert_eq!(satisfies(&name(), &text), UserName::parse(&text).is_ok());
        }

        #[test]
        fn the_title_schema_accepts_exactly_the_titles_the_domain_accepts(text in tricky_text(202)) {
            prop_assert_eq!(satisfies(&title(), &text), PostTitle::parse(&text).is_ok());
        }

        #[test]
        fn the_content_schema_accepts_exactly_the_contents_the_domain_accepts(text in tricky_text(40)) {
            let schema = &body_rules().into_iter().find(|rule| rule.1 == "content").unwrap().2;
            prop_assert_eq!(satisfies(schema, &text), PostContent::parse(&text).is_ok());
        }

        #[test]
        fn the_search_schema_accepts_exactly_the_terms_the_domain_accepts(text in tricky_text(102)) {
            let schema = &parameter_rule("search");
            prop_assert_eq!(satisfies(schema, &text), SearchTerm::parse(&text).is_ok());
        }

        #[test]
        fn the_password_schema_accepts_exactly_the_passwords_the_domain_accepts(text in tricky_text(130)) {
            prop_assert_eq!(satisfies(&password(), &text), Password::parse(&text).is_ok());
        }

        #[test]
        fn the_queue_schema_accepts_exactly_the_queue_names_the_domain_accepts(text in "[a-zA-Z0-9._\\- ]{0,66}") {
            let schema = json!({ "pattern": queue() });
            prop_assert_eq!(satisfies(&schema, &text), QueueName::parse(&text).is_ok());
        }

        #[test]
        fn the_idempotency_key_schema_accepts_exactly_the_keys_the_service_accepts(text in "[ -\u{7f}é]{0,3}|[!-~]{250,260}") {
            let schema = &parameter_rule("Idempotency-Key");
            prop_assert_eq!(satisfies(schema, &text), IdempotencyKey::parse(text.as_bytes()).is_ok());
        }

        #[test]
        fn the_currency_enum_holds_exactly_the_codes_the_domain_accepts(text in "[A-Z ]{2,4}") {
            prop_assert_eq!(Currency::CODES.contains(&text.as_str()), Currency::parse(&text).is_ok());
        }

        #[test]
        fn the_page_bounds_are_the_domains(page in prop_oneof![0u32..3, Just(u32::MAX)], limit in 0u32..=MAX_LIMIT + 2) {
            let within = |rule: &Value, n: u32| {
                rule["minimum"].as_u64().is_none_or(|min| u64::from(n) >= min)
                    && rule["maximum"].as_u64().is_none_or(|max| u64::from(n) <= max)
            };
            prop_assert_eq!(within(&parameter_rule("page"), page), PageRequest::new(Some(page), None).is_ok());
            prop_assert_eq!(within(&parameter_rule("limit"), limit), PageRequest::new(None, Some(limit)).is_ok());
        }
    }

    #[test]
    fn the_amount_bounds_are_the_domains() {
        let rule = amount();
        let (min, max) = (
            rule["minimum"].as_i64().unwrap(),
            rule["maximum"].as_i64().unwrap(),
        );
        assert!(Amount::new(min).is_ok() && Amount::new(max).is_ok());
        assert!(Amount::new(min - 1).is_err() && Amount::new(max + 1).is_err());
    }

    #[test]
    fn every_job_status_of_the_document_parses_and_nothing_else_does() {
        use poem_openapi::types::ToJSON as _;

        for status in JobStatus::ALL {
            let documented = JobStatusDto::from(status).to_json().unwrap();
            let documented = documented.as_str().unwrap();
            assert_eq!(documented.parse::<JobStatus>(), Ok(status));
        }
        assert!("QUEUED".parse::<JobStatus>().is_err());
    }
}
