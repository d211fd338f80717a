//! JSON Schema validation of raw documents.
//!
//! The schemas are generated from the spec types (so they cannot disagree
//! with what serde accepts), committed under `schema/` for editors and
//! other tools, and compiled once per process. Each schema error becomes a
//! diagnostic at the offending node, phrased for people: "unknown field",
//! "missing field", what was expected and what was found.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::diagnostics::{Diagnostic, closest};
use crate::load::{Document, field_path, yaml::escape_pointer};
use crate::spec::{PlatformManifest, ServiceManifest};

/// Which kind of document a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Service,
    Platform,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Service => "Service",
            Kind::Platform => "Platform",
        }
    }
    /// The committed schema file, relative to the repository.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Service => "service.schema.json",
            Kind::Platform => "platform.schema.json",
        }
    }
}

/// The JSON Schema of a kind, as generated from the spec types.
pub fn schema(kind: Kind) -> &'static Value {
    static SERVICE: OnceLock<Value> = OnceLock::new();
    static PLATFORM: OnceLock<Value> = OnceLock::new();
    match kind {
        Kind::Service => SERVICE.get_or_init(|| generate::<ServiceManifest>("service")),
        Kind::Platform => PLATFORM.get_or_init(|| generate::<PlatformManifest>("platform")),
    }
}

fn generate<T: schemars::JsonSchema>(name: &str) -> Value {
    let mut value = schemars::schema_for!(T).to_value();
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "$id".to_string(),
            Value::String(format!("https://obsgen.dev/schema/v1/{name}.schema.json")),
        );
    }
    value
}

/// The schema text as committed in `schema/` (pretty JSON, trailing newline).
pub fn schema_text(kind: Kind) -> String {
    serde_json::to_string_pretty(schema(kind)).unwrap_or_default() + "\n"
}

fn validator(kind: Kind) -> Option<&'static jsonschema::Validator> {
    static SERVICE: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    static PLATFORM: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    let cell = match kind {
        Kind::Service => &SERVICE,
        Kind::Platform => &PLATFORM,
    };
    cell.get_or_init(|| jsonschema::validator_for(schema(kind)).ok())
        .as_ref()
}

/// Every property name the schema knows, for "did you mean" hints.
fn known_fields(kind: Kind) -> &'static BTreeSet<String> {
    static SERVICE: OnceLock<BTreeSet<String>> = OnceLock::new();
    static PLATFORM: OnceLock<BTreeSet<String>> = OnceLock::new();
    let cell = match kind {
        Kind::Service => &SERVICE,
        Kind::Platform => &PLATFORM,
    };
    cell.get_or_init(|| {
        let mut names = BTreeSet::new();
        collect_properties(schema(kind), &mut names);
        names
    })
}

fn collect_properties(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Object(properties)) = object.get("properties") {
                names.extend(properties.keys().cloned());
            }
            object
                .values()
                .for_each(|child| collect_properties(child, names));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|child| collect_properties(child, names)),
        _ => {}
    }
}

/// Validates a document against its kind's schema.
pub fn check(kind: Kind, document: &Document) -> Vec<Diagnostic> {
    let Some(validator) = validator(kind) else {
        return vec![Diagnostic::error(
            &document.source,
            "obsgen's own schema does not compile; please report this",
        )];
    };
    let mut diagnostics: Vec<Diagnostic> = validator
        .iter_errors(&document.value)
        .map(|error| to_diagnostic(kind, document, &error))
        .collect();
    // anyOf/oneOf failures can repeat for one node; report each place once.
    diagnostics.dedup_by(|a, b| a.line == b.line && a.column == b.column && a.message == b.message);
    diagnostics
}

fn to_diagnostic(
    kind: Kind,
    document: &Document,
    error: &jsonschema::ValidationError<'_>,
) -> Diagnostic {
    let pointer = error.instance_path().to_string();
    let instance = document.value.pointer(&pointer).unwrap_or(&Value::Null);
    let at = |pointer: &str, key: bool| {
        let position = if key {
            document.positions.key(pointer)
        } else {
            document.positions.value(pointer)
        };
        Diagnostic::error(&document.source, "").at(position.line, position.column)
    };
    let found = describe(instance);
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let name = unexpected.first().cloned().unwrap_or_default();
            let child = format!("{pointer}/{}", escape_pointer(&name));
            let mut diagnostic = Diagnostic {
                message: format!("unknown field `{name}`"),
                ..at(&child, true)
            }
            .path(field_path(&child));
            if let Some(suggestion) = closest(&name, known_fields(kind).iter().map(String::as_str))
            {
                diagnostic = diagnostic.hint(format!("did you mean `{suggestion}`?"));
            } else {
                diagnostic = diagnostic
                    .hint("remove it; `obsgen schema` prints every field a manifest may have");
            }
            diagnostic
        }
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            Diagnostic {
                message: format!("missing field `{name}`"),
                ..at(&pointer, false)
            }
            .path(field_path(&pointer))
            .expected(format!("a `{name}` field here"))
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(ty) => article(&ty.to_string()),
                TypeKind::Multiple(types) => {
                    let names: Vec<String> = types.iter().map(|t| t.to_string()).collect();
                    format!("one of: {}", names.join(", "))
                }
            };
            Diagnostic {
                message: format!("wrong type: expected {expected}"),
                ..at(&pointer, false)
            }
            .path(field_path(&pointer))
            .expected(expected)
            .found(found)
        }
        ValidationErrorKind::Enum { options }
        | ValidationErrorKind::Constant {
            expected_value: options,
        } => {
            let choices = match options.as_ref() {
                Value::Array(values) => values.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                other => vec![other.to_string()],
            };
            let mut diagnostic = Diagnostic {
                message: "not an allowed value".to_string(),
                ..at(&pointer, false)
            }
            .path(field_path(&pointer))
            .expected(format!("one of {}", choices.join(", ")))
            .found(found);
            if let Some(text) = instance.as_str() {
                let bare: Vec<String> = choices
                    .iter()
                    .map(|c| c.trim_matches('"').to_string())
                    .collect();
                if let Some(suggestion) = closest(text, bare.iter().map(String::as_str)) {
                    diagnostic = diagnostic.hint(format!("did you mean `{suggestion}`?"));
                }
            }
            diagnostic
        }
        ValidationErrorKind::Pattern { pattern } => {
            let description = schema_description(kind, error)
                .unwrap_or_else(|| format!("text matching `{pattern}`"));
            Diagnostic {
                message: "invalid value".to_string(),
                ..at(&pointer, false)
            }
            .path(field_path(&pointer))
            .expected(description)
            .found(found)
        }
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            let (message, expected) = one_of_message(kind, error, instance);
            Diagnostic {
                message,
                ..at(&pointer, false)
            }
            .path(field_path(&pointer))
            .expected(expected)
            .found(found)
        }
        _ => Diagnostic {
            message: error.to_string(),
            ..at(&pointer, false)
        }
        .path(field_path(&pointer))
        .found(found),
    }
}

/// A tagged choice (`indicator: {type: latency, ...}`) fails as a whole
/// under `oneOf`; name the tag's choices, or what the chosen one lacks.
fn one_of_message(
    kind: Kind,
    error: &jsonschema::ValidationError<'_>,
    instance: &Value,
) -> (String, String) {
    let branches = schema_at(kind, error)
        .and_then(|s| s.as_array().cloned())
        .unwrap_or_default();
    let tags: Vec<String> = branches
        .iter()
        .filter_map(|branch| {
            branch
                .pointer("/properties/type/const")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    if !tags.is_empty() {
        let chosen = instance.get("type").and_then(Value::as_str);
        let branch = chosen.and_then(|tag| {
            branches
                .iter()
                .find(|b| b.pointer("/properties/type/const").and_then(Value::as_str) == Some(tag))
        });
        return match (chosen, branch) {
            (Some(tag), Some(branch)) => {
                let fields: Vec<String> = branch
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                let required: Vec<String> = branch
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| {
                        r.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    format!("invalid `{tag}` settings"),
                    format!(
                        "the fields {} (required: {})",
                        fields
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        required
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }
            _ => (
                "unknown or missing `type`".to_string(),
                format!("`type` one of {}", tags.join(", ")),
            ),
        };
    }
    let description =
        schema_description(kind, error).unwrap_or_else(|| "a value of another shape".to_string());
    ("invalid value".to_string(), description)
}

/// The sub-schema at the error's keyword (e.g. the `oneOf` array).
fn schema_at(kind: Kind, error: &jsonschema::ValidationError<'_>) -> Option<Value> {
    let path = error.schema_path().to_string();
    resolve(schema(kind), &path)
}

/// The `description` of the schema object holding the failed keyword.
fn schema_description(kind: Kind, error: &jsonschema::ValidationError<'_>) -> Option<String> {
    let path = error.schema_path().to_string();
    let parent = path
        .rsplit_once('/')
        .map(|(parent, _)| parent)
        .unwrap_or("");
    let object = resolve(schema(kind), parent)?;
    object
        .get("description")
        .and_then(Value::as_str)
        .map(|d| d.lines().next().unwrap_or(d).to_string())
}

/// Follows a schema path, resolving `$ref`s into `$defs` as it goes.
fn resolve(root: &Value, path: &str) -> Option<Value> {
    let mut current = root.clone();
    for part in path.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part == "$ref" {
            let target = current
                .get("$ref")?
                .as_str()?
                .trim_start_matches('#')
                .to_string();
            current = root.pointer(&target)?.clone();
            continue;
        }
        current = match &current {
            Value::Object(object) => object.get(&part)?.clone(),
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?.clone(),
            _ => return None,
        };
    }
    Some(current)
}

fn article(type_name: &str) -> String {
    match type_name {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "integer" => "a whole number".to_string(),
        "null" => "nothing (null)".to_string(),
        other => format!("a {other}"),
    }
}

/// A short rendering of a value, for "found".
fn describe(value: &Value) -> String {
    let text = match value {
        Value::Object(_) => "a mapping".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Null => "nothing (null)".to_string(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}
