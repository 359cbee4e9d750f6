//! What poem-openapi's derived schemas leave out, written into the document: the domain's
//! rules on each request field and query parameter, `additionalProperties: false` on
//! request bodies (unknown fields are refused), and `nullable` on optional fields (an
//! absent value is written as `null`, and `null` is accepted as absent).

use serde_json::{Map, Value, json};

use super::rules::{body_rules, parameter_rules};

/// Adds every rule of [`body_rules`] and [`parameter_rules`] to the document.
///
/// # Panics
/// When a rule names a schema, property or parameter the document does not have: a rule
/// that applies to nothing would silently document nothing.
pub(super) fn declare_rules(spec: &mut Value) {
    for (schema, property, rule) in body_rules() {
        let target = spec
            .pointer_mut(&format!(
                "/components/schemas/{schema}/properties/{property}"
            ))
            .unwrap_or_else(|| panic!("a rule names {schema}.{property}, which is not documented"));
        merge(target, &rule);
    }
    let statuses = spec
        .pointer("/components/schemas/JobStatus/enum")
        .cloned()
        .expect("the document has the JobStatus enum");
    for (name, rule) in parameter_rules(&statuses) {
        let mut applied = false;
        for parameter in parameters(spec).filter(|parameter| parameter["name"] == name) {
            merge(&mut parameter["schema"], &rule);
            applied = true;
        }
        assert!(
            applied,
            "a rule names the parameter {name}, which no operation has"
        );
    }
}

/// `additionalProperties: false` on every schema a request body refers to.
pub(super) fn close_request_bodies(spec: &mut Value) {
    let names: Vec<String> = operations(spec)
        .filter_map(|operation| operation.get("requestBody"))
        .filter_map(|body| body["content"].as_object())
        .flat_map(|content| content.values())
        .filter_map(|media| media["schema"]["$ref"].as_str())
        .filter_map(|reference| reference.strip_prefix("#/components/schemas/"))
        .map(str::to_owned)
        .collect();
    for name in names {
        if let Some(schema) = spec.pointer_mut(&format!("/components/schemas/{name}")) {
            schema["additionalProperties"] = Value::Bool(false);
        }
    }
}

/// `nullable: true` on every optional property of every object schema.
pub(super) fn mark_optional_fields_nullable(spec: &mut Value) {
    let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for schema in schemas.values_mut() {
        let required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (name, property) in properties.iter_mut() {
            if required.contains(&Value::String(name.clone())) {
                continue;
            }
            // A bare `$ref` may have no siblings in OpenAPI 3.0: wrap it.
            if let Some(reference) = property.get("$ref").cloned() {
                *property = json!({ "allOf": [{ "$ref": reference }] });
            }
            property["nullable"] = Value::Bool(true);
            // With an `enum`, `null` must be one of its values to be allowed (OpenAPI 3.0.3).
            if let Some(values) = property.get_mut("enum").and_then(Value::as_array_mut) {
                values.push(Value::Null);
            }
        }
    }
}

fn merge(target: &mut Value, rule: &Value) {
    let (Some(target), Some(rule)) = (target.as_object_mut(), rule.as_object()) else {
        panic!("rules and the schemas they apply to are JSON objects");
    };
    for (key, value) in rule {
        target.insert(key.clone(), value.clone());
    }
}

fn operations(spec: &Value) -> impl Iterator<Item = &Map<String, Value>> {
    spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|operations| operations.values())
        .filter_map(Value::as_object)
}

fn parameters(spec: &mut Value) -> impl Iterator<Item = &mut Value> {
    spec["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
        .filter_map(|operation| operation.get_mut("parameters"))
        .filter_map(Value::as_array_mut)
        .flatten()
}
