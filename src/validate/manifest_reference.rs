//! The manifest field reference, generated from the JSON Schemas (and so
//! from the spec types' doc comments): every field's path, type, whether it
//! is required, and its description, as Markdown. `obsgen --format markdown
//! schema [KIND]` prints it; `docs/manifest-fields.md` is its committed copy,
//! kept current by a test, so the reference cannot drift from what obsgen
//! accepts.

use serde_json::Value;

use super::schema::{Kind, schema};

/// One documented field.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    path: String,
    kind: String,
    required: bool,
    description: String,
}

/// Nesting deeper than this is not followed (a recursive type would
/// otherwise never end).
const MAX_DEPTH: usize = 12;

/// The reference of one manifest kind, as a Markdown section.
pub fn markdown(kind: Kind) -> String {
    let root = schema(kind);
    let mut rows = Vec::new();
    walk(root, root, "", 0, &mut rows);
    let mut text = format!("## `kind: {}`\n\n", kind.name());
    if let Some(description) = root.get("description").and_then(Value::as_str) {
        text.push_str(&one_line(description));
        text.push_str("\n\n");
    }
    text.push_str("| field | type | required | description |\n| --- | --- | --- | --- |\n");
    for row in rows {
        text.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            row.path,
            cell(&row.kind),
            if row.required { "yes" } else { "" },
            cell(&row.description)
        ));
    }
    text
}

/// The whole reference: both kinds, with a header saying where it comes from.
pub fn document() -> String {
    let mut text = String::from(
        "# Manifest field reference\n\n\
         Generated from obsgen's JSON Schemas (`obsgen --format markdown schema service`,\n\
         `… schema platform`); a test keeps this file current. Paths use `[]` for list\n\
         items and `<name>` for map keys. [manifest.md](manifest.md) explains the fields\n\
         with examples.\n\n",
    );
    text.push_str(&markdown(Kind::Service));
    text.push('\n');
    text.push_str(&markdown(Kind::Platform));
    text
}

/// A `$ref` resolved against the root's `$defs`.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut current = node;
    for _ in 0..MAX_DEPTH {
        let Some(name) = current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        else {
            break;
        };
        match root.get("$defs").and_then(|defs| defs.get(name)) {
            Some(target) => current = target,
            None => break,
        }
    }
    current
}

/// The non-null alternative of an optional field (`anyOf: [X, null]`).
fn without_null(node: &Value) -> &Value {
    if let Some(options) = node.get("anyOf").and_then(Value::as_array) {
        let real: Vec<&Value> = options
            .iter()
            .filter(|option| option.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if let [only] = real.as_slice() {
            return only;
        }
    }
    node
}

fn ref_name(node: &Value) -> Option<&str> {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
}

/// The type in words: `string`, `duration`, `one of `a`, `b``, `list of …`.
fn type_words(root: &Value, node: &Value) -> String {
    let node = without_null(node);
    let target = resolve(root, node);
    if let Some(values) = target.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| format!("`{v}`"))
            .collect();
        if let [only] = names.as_slice() {
            return only.clone();
        }
        return format!("one of {}", names.join(", "));
    }
    if let Some(constant) = target.get("const").and_then(Value::as_str) {
        return format!("`{constant}`");
    }
    if let Some(values) = constants(target) {
        let names: Vec<String> = values.iter().map(|(v, _)| format!("`{v}`")).collect();
        return format!("one of {}", names.join(", "));
    }
    // Named scalar types (Duration, Percent, Rate …) read better by name.
    if let Some(name) = ref_name(node)
        && target.get("properties").is_none()
        && target.get("oneOf").is_none()
        && target.get("items").is_none()
    {
        return name.to_lowercase();
    }
    let types: Vec<&str> = match target.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    };
    if types.contains(&"array") {
        return match target.get("items") {
            Some(items) => format!("list of {}", type_words(root, items)),
            None => "list".to_string(),
        };
    }
    if types.contains(&"object") {
        if target.get("properties").is_some() {
            return "object".to_string();
        }
        return match target.get("additionalProperties") {
            Some(value @ Value::Object(_)) => format!("map of {}", type_words(root, value)),
            _ => "object".to_string(),
        };
    }
    if target.get("oneOf").is_some() {
        return "one of the forms below".to_string();
    }
    if target.get("anyOf").is_some() {
        let options: Vec<String> = target
            .get("anyOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|option| type_words(root, option))
            .collect();
        return options.join(" or ");
    }
    match types.as_slice() {
        [] => "any".to_string(),
        some => some.join(" or "),
    }
}

/// The values of a `oneOf` whose forms are all string constants, with
/// their descriptions; `None` for any other schema.
fn constants(node: &Value) -> Option<Vec<(&str, &str)>> {
    let forms = node.get("oneOf").and_then(Value::as_array)?;
    forms
        .iter()
        .map(|form| {
            let value = form.get("const").and_then(Value::as_str)?;
            let description = form
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Some((value, description))
        })
        .collect()
}

fn description_of(root: &Value, node: &Value) -> String {
    let direct = node.get("description").and_then(Value::as_str);
    let inner = without_null(node);
    let resolved = resolve(root, inner);
    let text = direct
        .or_else(|| inner.get("description").and_then(Value::as_str))
        .or_else(|| resolved.get("description").and_then(Value::as_str))
        .unwrap_or_default();
    let mut text = one_line(text);
    if let Some(values) = constants(resolved) {
        let described: Vec<String> = values
            .iter()
            .filter(|(_, description)| !description.is_empty())
            .map(|(value, description)| {
                format!("`{value}`: {}", one_line(description).trim_end_matches('.'))
            })
            .collect();
        if !described.is_empty() {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&described.join("; "));
            text.push('.');
        }
    }
    if let Some(default) = node.get("default")
        && !default.is_null()
        && default != &Value::Object(serde_json::Map::new())
        && !text.contains("Default")
    {
        text.push_str(&format!(" Default `{default}`."));
    }
    text
}

/// The rows of `node`'s fields, under `path`.
fn walk(root: &Value, node: &Value, path: &str, depth: usize, rows: &mut Vec<Row>) {
    if depth > MAX_DEPTH {
        return;
    }
    let target = resolve(root, without_null(node));
    if let Some(properties) = target.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = target
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, field) in properties {
            let field_path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            rows.push(Row {
                path: field_path.clone(),
                kind: type_words(root, field),
                required: required.contains(&name.as_str()),
                description: description_of(root, field),
            });
            walk(root, field, &field_path, depth + 1, rows);
        }
        return;
    }
    if let Some(items) = target.get("items") {
        walk(root, items, &format!("{path}[]"), depth + 1, rows);
        return;
    }
    if let Some(values @ Value::Object(_)) = target.get("additionalProperties") {
        walk(root, values, &format!("{path}.<name>"), depth + 1, rows);
        return;
    }
    if let Some(forms) = target.get("oneOf").and_then(Value::as_array) {
        for form in forms {
            let form = resolve(root, form);
            let tag = form
                .get("properties")
                .and_then(Value::as_object)
                .and_then(|props| {
                    props.iter().find_map(|(key, value)| {
                        let constant = value.get("const").and_then(Value::as_str)?;
                        Some(format!("{key}: {constant}"))
                    })
                });
            let Some(tag) = tag else { continue };
            let form_path = format!("{path} ({tag})");
            rows.push(Row {
                path: form_path.clone(),
                kind: "object".to_string(),
                required: false,
                description: one_line(
                    form.get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                ),
            });
            walk(root, form, &form_path, depth + 1, rows);
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text safe in a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_field_is_documented_with_its_type() {
        let text = markdown(Kind::Service);
        for line in [
            "| `metadata.name` | string | yes |",
            "| `spec.slos[].objective` | percent | yes | The objective in percent, strictly between 0 and 100. |",
            "| `spec.slos[].window` | duration |  | The compliance window. Default `30d`. |",
            "| `spec.logs.format` | one of `json`, `logfmt`, `nginx`, `apache`, `syslog`, `grok` |",
            "| `spec.slos[].indicator (type: latency).threshold` | duration | yes |",
        ] {
            assert!(text.contains(line), "missing {line}\n{text}");
        }
    }

    #[test]
    fn platform_maps_are_documented_per_key() {
        let text = markdown(Kind::Platform);
        assert!(text.contains("| `spec.teams` | map of object |"), "{text}");
        assert!(text.contains("| `spec.teams.<name>.slack` |"), "{text}");
    }
}
