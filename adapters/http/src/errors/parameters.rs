//! Messages for query and header parameters that did not parse, in the clients' terms.

/// A client-facing message for a query or header parameter that did not parse.
///
/// poem-openapi's reasons name its internal types (`failed to parse
/// "optional_integer(uint32)": …`); clients get zod's wording instead, as the body errors do.
pub(super) fn parameter_message(reason: &str) -> String {
    let core = reason
        .strip_prefix("failed to parse \"")
        .and_then(|rest| rest.split_once("\": "))
        .map_or(reason, |(_, message)| message);
    let core = core
        .split(" (occurred while parsing")
        .next()
        .unwrap_or(core);
    if let Some(rest) = core.strip_prefix("unknown variant `") {
        let (received, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let options: Vec<String> = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|option| format!("'{option}'"))
            .collect();
        return format!(
            "Invalid enum value. Expected {}, received '{received}'",
            options.join(" | ")
        );
    }
    let message = if core.contains("invalid digit")
        || core.contains("number too large")
        || core.contains("number too small")
        || core.contains("empty string")
    {
        "Expected an integer"
    } else if core.contains("`true` or `false`") {
        "Expected true or false"
    } else if core.contains("UUID") || core.contains("uuid") {
        "Invalid UUID"
    } else {
        "Invalid value"
    };
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::parameter_message;

    #[test]
    fn parameter_errors_name_no_internal_type() {
        for (reason, message) in [
            (
                r#"failed to parse "integer(uint32)": invalid digit found in string (occurred while parsing "optional_integer(uint32)")"#,
                "Expected an integer",
            ),
            (
                r#"failed to parse "Role": unknown variant `superadmin`, expected `user` or `admin`"#,
                "Invalid enum value. Expected 'user' | 'admin', received 'superadmin'",
            ),
            (
                r#"failed to parse "boolean": provided string was not `true` or `false`"#,
                "Expected true or false",
            ),
            (
                r#"failed to parse "string(x)": something odd"#,
                "Invalid value",
            ),
        ] {
            assert_eq!(parameter_message(reason), message);
        }
    }
}
