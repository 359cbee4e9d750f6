//! `JsonBody<T>`: a JSON request payload whose parse failures are reported field by field.
//!
//! poem-openapi's own `Json<T>` reports a type error as one opaque string. This payload
//! deserialises with serde (tracking the path of the failing field) so that `{"email": 5}`
//! becomes `fieldErrors: {"email": ["Expected a string, received a number"]}` and a
//! missing field becomes `fieldErrors: {"<field>": ["Required"]}`, as zod reports them.
//! Its OpenAPI schema is `T`'s, so the document stays exact.

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::de::DeserializeOwned;

use crate::errors::ValidationErrors;

/// A JSON request body, deserialised with serde and validated field by field.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    /// `application/json` or `application/*+json`; a `charset`, if given, must be UTF-8
    /// (RFC 8259: JSON exchanged between systems is UTF-8; a body declared Latin-1 would be
    /// read as something its sender did not mean).
    fn check_content_type(content_type: &str) -> bool {
        content_type.parse::<mime::Mime>().is_ok_and(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json"
                    || mime.suffix().is_some_and(|suffix| suffix == "json"))
                && mime
                    .get_param(mime::CHARSET)
                    .is_none_or(|charset| charset == mime::UTF_8)
        })
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = Vec::<u8>::from_request(request, body).await?;
        parse(&bytes).map(Self).map_err(poem::Error::from)
    }
}

poem_openapi::impl_apirequest_for_payload!(JsonBody<T>, T: Type + DeserializeOwned);

/// An `application/x-www-form-urlencoded` request body, validated like [`JsonBody`].
#[derive(Debug)]
pub(crate) struct FormBody<T>(pub(crate) T);

impl<T: Type> Payload for FormBody<T> {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";

    fn check_content_type(content_type: &str) -> bool {
        content_type
            .parse::<mime::Mime>()
            .is_ok_and(|mime| mime.essence_str() == "application/x-www-form-urlencoded")
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned> ParsePayload for FormBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = Vec::<u8>::from_request(request, body).await?;
        parse_form(&bytes).map(Self).map_err(poem::Error::from)
    }
}

poem_openapi::impl_apirequest_for_payload!(FormBody<T>, T: Type + DeserializeOwned);

/// Parses a urlencoded form into `T` (every value is a string), describing the first
/// problem as a validation error.
pub(crate) fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ValidationErrors> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let message = error.inner().to_string();
        if let Some(field) = between(&message, "missing field `", "`") {
            return ValidationErrors::field(field, "Required");
        }
        if let Some(field) = between(&message, "unknown field `", "`") {
            return ValidationErrors::form(format!("Unrecognized key: '{field}'"));
        }
        ValidationErrors::form(message)
    })
}

/// Parses a JSON document into `T`, describing the first problem as a validation error.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ValidationErrors> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ValidationErrors::form("Request body is required"));
    }
    let crate::strict_json::StrictValue(value) =
        serde_json::from_slice(bytes).map_err(|error| {
            ValidationErrors::form(format!(
                "Malformed JSON: {}",
                strip_position(&error.to_string())
            ))
        })?;
    if !value.is_object() {
        return Err(ValidationErrors::form("Expected a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|error| describe(&error))
}

fn describe(error: &serde_path_to_error::Error<serde_json::Error>) -> ValidationErrors {
    let message = strip_position(&error.inner().to_string());
    let path = error.path().to_string();
    if let Some(field) = between(&message, "missing field `", "`") {
        return ValidationErrors::field(&join(&path, field), "Required");
    }
    if let Some(field) = between(&message, "unknown field `", "`") {
        // serde's path already ends at the unknown key.
        let key = if path == "." { field.to_owned() } else { path };
        return ValidationErrors::form(format!("Unrecognized key: '{key}'"));
    }
    let readable = humanize_type_error(&message).unwrap_or(message);
    if path == "." {
        ValidationErrors::form(readable)
    } else {
        ValidationErrors::field(&path, readable)
    }
}

/// serde's "invalid type: integer `5`, expected a string" as zod says it.
fn humanize_type_error(message: &str) -> Option<String> {
    let rest = message.strip_prefix("invalid type: ")?;
    let (received, expected) = rest.split_once(", expected ")?;
    let received = received.split(' ').next().unwrap_or(received);
    let received = match received {
        "integer" | "floating" => "number",
        "string" => "string",
        "boolean" => "boolean",
        "null" => "null",
        "sequence" => "array",
        "map" => "object",
        other => other,
    };
    let expected = match expected {
        "i64" | "u64" | "i32" | "u32" => "an integer",
        other => other,
    };
    Some(format!("Expected {expected}, received {received}"))
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

fn join(path: &str, field: &str) -> String {
    if path == "." {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: Option<u32>,
    }

    fn errors(json: &str) -> ValidationErrors {
        parse::<Body>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_valid_body_parses() {
        let body: Body = parse(br#"{"email":"a@b.co","age":3}"#).unwrap();
        assert_eq!(body.email, "a@b.co");
    }

    #[test]
    fn a_wrong_type_is_reported_on_its_field() {
        assert_eq!(
            errors(r#"{"email":5}"#),
            ValidationErrors::field("email", "Expected a string, received number")
        );
    }

    #[test]
    fn a_missing_field_is_required() {
        assert_eq!(
            errors(r#"{"age":1}"#),
            ValidationErrors::field("email", "Required")
        );
    }

    #[test]
    fn an_unknown_field_is_refused_as_a_form_error() {
        assert_eq!(
            errors(r#"{"email":"a@b.co","role":"admin"}"#),
            ValidationErrors::form("Unrecognized key: 'role'")
        );
    }

    #[test]
    fn malformed_json_and_non_objects_are_form_errors() {
        assert!(matches!(parse::<Body>(b"{\"email\":"), Err(errors) if !errors.is_empty()));
        assert_eq!(
            errors("[1]"),
            ValidationErrors::form("Expected a JSON object")
        );
        assert_eq!(
            errors("  "),
            ValidationErrors::form("Request body is required")
        );
    }
}
