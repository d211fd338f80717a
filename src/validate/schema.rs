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
use crate::spec::units::{DURATION_FORMAT, RATE_FORMAT};
use crate::spec::{Duration, PlatformManifest, Rate, ServiceManifest};

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
    cell.get_or_init(|| {
        // The unit types' `format`s run their own parsers, so a string the
        // pattern admits but the parser refuses (`30m1h`, `20/0s`) is
        // reported at its node like any other schema error.
        jsonschema::options()
            .should_validate_formats(true)
            .with_format(DURATION_FORMAT, |text| Duration::parse(text).is_ok())
            .with_format(RATE_FORMAT, |text| Rate::parse(text).is_ok())
            .build(schema(kind))
            .ok()
    })
    .as_ref()
}

/// Why a unit string does not parse, in the parser's words.
fn unit_problem(format: &str, text: &str) -> Option<String> {
    match format {
        DURATION_FORMAT => Duration::parse(text).err(),
        RATE_FORMAT => Rate::parse(text).err(),
        _ => None,
    }
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
    // Most documents are valid: the validator answers that without
    // building its error iterator.
    if validator.is_valid(&document.value) {
        return Vec::new();
    }
    let mut diagnostics = Vec::new();
    for error in validator.iter_errors(&document.value) {
        to_diagnostics(kind, document, &error, &mut diagnostics);
    }
    // A node can fail several keywords that say the same (a unit's pattern
    // and its format); report each problem once.
    let mut seen = BTreeSet::new();
    diagnostics.retain(|d| seen.insert((d.line, d.column, d.path.clone(), d.message.clone())));
    diagnostics
}

/// An `anyOf`/`oneOf` fails as a whole. When the instance can only have
/// meant one of the choices (the others want another JSON type, or another
/// `type` tag), that choice's own errors say what is wrong; otherwise the
/// choice as a whole is reported.
fn to_diagnostics(
    kind: Kind,
    document: &Document,
    error: &jsonschema::ValidationError<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let context = match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
        }
        ValidationErrorKind::AdditionalProperties { unexpected } if unexpected.len() > 1 => {
            for name in unexpected {
                out.push(unknown_field(kind, document, error, name));
            }
            return;
        }
        _ => {
            out.push(to_diagnostic(kind, document, error));
            return;
        }
    };
    let pointer = error.instance_path().to_string();
    let tag_pointer = format!("{pointer}/type");
    let ruled_out = |branch: &Vec<jsonschema::ValidationError<'static>>| {
        branch.iter().any(|e| {
            let at = e.instance_path().to_string();
            (at == pointer && matches!(e.kind(), ValidationErrorKind::Type { .. }))
                || (at == tag_pointer
                    && matches!(
                        e.kind(),
                        ValidationErrorKind::Constant { .. } | ValidationErrorKind::Enum { .. }
                    ))
        })
    };
    let candidates: Vec<_> = context.iter().filter(|branch| !ruled_out(branch)).collect();
    if let [branch] = candidates.as_slice()
        && !branch.is_empty()
    {
        for inner in branch.iter() {
            to_diagnostics(kind, document, inner, out);
        }
        return;
    }
    out.push(to_diagnostic(kind, document, error));
}

fn unknown_field(
    kind: Kind,
    document: &Document,
    error: &jsonschema::ValidationError<'_>,
    name: &str,
) -> Diagnostic {
    let child = format!("{}/{}", error.instance_path(), escape_pointer(name));
    let position = document.positions.key(&child);
    let diagnostic = Diagnostic::error(&document.source, format!("unknown field `{name}`"))
        .at(position.line, position.column)
        .path(field_path(&child));
    match closest(name, known_fields(kind).iter().map(String::as_str)) {
        Some(suggestion) => diagnostic.hint(format!("did you mean `{suggestion}`?")),
        None => {
            diagnostic.hint("remove it; `obsgen schema` prints every field a manifest may have")
        }
    }
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
            unknown_field(kind, document, error, &name)
        }
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            // Point at the mapping's key (`metadata:`), not at its first entry.
            let diagnostic = Diagnostic {
                message: format!("missing field `{name}`"),
                ..at(&pointer, true)
            }
            .path(field_path(&pointer))
            .expected(format!("a `{name}` field here"));
            let described = schema_at(kind, error)
                .and_then(|parent| {
                    parent
                        .pointer(&format!("/properties/{}", escape_pointer(&name)))
                        .cloned()
                })
                .and_then(|property| description_of(kind, &property));
            match described {
                Some(text) => diagnostic.hint(format!("`{name}`: {text}")),
                None => diagnostic,
            }
        }
        ValidationErrorKind::Type { kind: types } => {
            let expected = match types {
                TypeKind::Single(ty) => article(&ty.to_string()),
                TypeKind::Multiple(types) => {
                    // `null` only means "may be left out"; it is not advice.
                    let names: Vec<String> = types
                        .iter()
                        .map(|t| t.to_string())
                        .filter(|t| t != "null")
                        .map(|t| article(&t))
                        .collect();
                    match names.as_slice() {
                        [] => article("null"),
                        [one] => one.clone(),
                        more => format!("one of: {}", more.join(", ")),
                    }
                }
            };
            // The field's own description says which form of that type it
            // takes (`A rate such as `20/s``): say it, with an example.
            let described = schema_description(kind, error);
            let diagnostic = Diagnostic {
                message: "wrong type".to_string(),
                ..at(&pointer, false)
            }
            .path(field_path(&pointer))
            .expected(match &described {
                Some(text) => format!("{expected}: {text}"),
                None => expected,
            })
            .found(found);
            // `country: no` reads as `false` (serde-saphyr's YAML 1.1
            // booleans): say so where text was wanted.
            let wants_text = match types {
                TypeKind::Single(ty) => ty.to_string() == "string",
                TypeKind::Multiple(types) => types.iter().any(|ty| ty.to_string() == "string"),
            };
            if wants_text && instance.is_boolean() {
                return diagnostic.hint(
                    "YAML reads an unquoted yes, no, on, off, y, n, true or false as a boolean: quote it to keep it text, e.g. `'no'`",
                );
            }
            match described
                .as_deref()
                .and_then(first_example)
                .zip(field_name(&pointer))
            {
                Some((example, field)) => diagnostic.hint(format!("e.g. `{field}: {example}`")),
                None => diagnostic,
            }
        }
        ValidationErrorKind::Enum { options }
        | ValidationErrorKind::Constant {
            expected_value: options,
        } => {
            let choices: Vec<String> = match options.as_ref() {
                Value::Array(values) => values.iter().map(choice).collect(),
                other => vec![choice(other)],
            };
            let expected = match choices.as_slice() {
                [one] => one.clone(),
                more => format!("one of {}", more.join(", ")),
            };
            let mut diagnostic = Diagnostic {
                message: "not an allowed value".to_string(),
                ..at(&pointer, false)
            }
            .path(field_path(&pointer))
            .expected(expected)
            .found(found);
            if let Some(text) = instance.as_str() {
                let bare: Vec<String> = choices
                    .iter()
                    .map(|c| c.trim_matches('`').to_string())
                    .collect();
                if let Some(suggestion) = closest(text, bare.iter().map(String::as_str)) {
                    diagnostic = diagnostic.hint(format!("did you mean `{suggestion}`?"));
                }
            }
            diagnostic
        }
        ValidationErrorKind::Pattern { .. } | ValidationErrorKind::Format { .. } => {
            let holder = schema_at(kind, error);
            let format = holder
                .as_ref()
                .and_then(|h| h.get("format"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let problem = instance
                .as_str()
                .and_then(|text| unit_problem(format, text));
            let description = schema_description(kind, error).unwrap_or_else(|| {
                match (error.kind(), holder.as_ref().and_then(|h| h.get("pattern"))) {
                    (_, Some(Value::String(pattern))) => format!("text matching `{pattern}`"),
                    _ => format!("a {format}"),
                }
            });
            Diagnostic {
                message: problem.unwrap_or_else(|| "invalid value".to_string()),
                ..at(&pointer, false)
            }
            .path(field_path(&pointer))
            .expected(description)
            .found(found)
        }
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            let tag = instance
                .get("type")
                .filter(|tag| tag.is_string())
                .map(|_| format!("{pointer}/type"));
            let (message, expected, hint) = one_of_message(kind, error, instance, &pointer);
            let (place, found) = match &tag {
                Some(tag_pointer) if message.starts_with("unknown") => (
                    tag_pointer.as_str(),
                    describe(document.value.pointer(tag_pointer).unwrap_or(&Value::Null)),
                ),
                _ => (pointer.as_str(), found),
            };
            let diagnostic = Diagnostic {
                message,
                ..at(place, false)
            }
            .path(field_path(place))
            .expected(expected)
            .found(found);
            match hint {
                Some(hint) => diagnostic.hint(hint),
                None => diagnostic,
            }
        }
        _ => Diagnostic {
            message: error.to_string(),
            ..at(&pointer, false)
        }
        .path(field_path(&pointer))
        .found(found),
    }
}

/// An allowed value as users write it: `Service`, `obsgen.dev/v1`.
fn choice(value: &Value) -> String {
    match value {
        Value::String(text) => format!("`{text}`"),
        other => format!("`{other}`"),
    }
}

/// A tagged choice (`indicator: {type: latency, ...}`) fails as a whole
/// under `oneOf`; name the tag's choices, or what the chosen one lacks.
fn one_of_message(
    kind: Kind,
    error: &jsonschema::ValidationError<'_>,
    instance: &Value,
    pointer: &str,
) -> (String, String, Option<String>) {
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
                    None,
                )
            }
            (Some(tag), None) => (
                format!("unknown `type` `{tag}`"),
                format!(
                    "one of {}",
                    tags.iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                closest(tag, tags.iter().map(String::as_str))
                    .map(|suggestion| format!("did you mean `{suggestion}`?")),
            ),
            (None, _) => (
                "missing `type`".to_string(),
                format!(
                    "`type`, one of {}",
                    tags.iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
            ),
        };
    }
    // An optional mapping (`ingress: {kind: nginx}`) given as something
    // else: name its fields and show the right form.
    if let Some(shape) = branches
        .iter()
        .find_map(|branch| object_shape(kind, branch, field_name(pointer)))
    {
        let message = if instance.is_object() {
            "the mapping does not have the expected fields".to_string()
        } else {
            format!("expected a mapping, found {}", describe(instance))
        };
        return (message, shape.0, Some(shape.1));
    }
    let description =
        schema_description(kind, error).unwrap_or_else(|| "a value of another shape".to_string());
    ("invalid value".to_string(), description, None)
}

/// The field a pointer ends in (`/spec/ingress` → `ingress`); `None` for a
/// list item.
fn field_name(pointer: &str) -> Option<String> {
    let last = pointer.rsplit('/').next()?;
    if last.is_empty() || last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(last.replace("~1", "/").replace("~0", "~"))
}

/// The first `example` quoted in a description (`such as `20/s``).
fn first_example(description: &str) -> Option<String> {
    let start = description.find('`')? + 1;
    let end = start + description[start..].find('`')?;
    Some(description[start..end].to_string())
}

/// A mapping schema (after `$ref`) as "a mapping with `kind` (required:
/// ...)" and a one-line example of the field, e.g. `ingress: {kind: nginx}`.
fn object_shape(kind: Kind, branch: &Value, field: Option<String>) -> Option<(String, String)> {
    let root = schema(kind);
    let resolve_ref = |value: &Value| -> Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(target) => root
                .pointer(target.trim_start_matches('#'))
                .cloned()
                .unwrap_or(Value::Null),
            None => value.clone(),
        }
    };
    let object = resolve_ref(branch);
    let properties = object.get("properties")?.as_object()?;
    let required: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields: Vec<String> = properties.keys().map(|f| format!("`{f}`")).collect();
    let expected = if required.is_empty() {
        format!("a mapping with the fields {}", fields.join(", "))
    } else {
        format!(
            "a mapping with the fields {} (required: {})",
            fields.join(", "),
            required
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let example_of = |property: &Value| -> String {
        let property = resolve_ref(property);
        if let Some(first) = property
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
            .and_then(Value::as_str)
        {
            return first.to_string();
        }
        if let Some(example) = property
            .get("description")
            .and_then(Value::as_str)
            .and_then(first_example)
        {
            return example;
        }
        match property.get("pattern").and_then(Value::as_str) {
            Some(pattern) if pattern.contains('@') => "team@example.com".to_string(),
            _ => "...".to_string(),
        }
    };
    let shown: Vec<String> = if required.is_empty() {
        properties.keys().take(1).cloned().collect()
    } else {
        required.iter().map(|f| f.to_string()).collect()
    };
    let body: Vec<String> = shown
        .iter()
        .map(|f| format!("{f}: {}", example_of(&properties[f.as_str()])))
        .collect();
    let example = format!("{{{}}}", body.join(", "));
    let hint = match field {
        Some(field) => format!("e.g. `{field}: {example}`"),
        None => format!("e.g. `{example}`"),
    };
    Some((expected, hint))
}

/// The sub-schema at the error's keyword (e.g. the `oneOf` array), or for
/// keywords whose value is not a schema, the object holding it.
fn schema_at(kind: Kind, error: &jsonschema::ValidationError<'_>) -> Option<Value> {
    let path = error.schema_path().to_string();
    let resolved = resolve(schema(kind), &path)?;
    if resolved.is_object() || resolved.is_array() && path.ends_with("Of") {
        return Some(resolved);
    }
    let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
    resolve(schema(kind), parent)
}

/// What the schema says about the failed node: the `description` of the
/// object holding the failed keyword, or of the nearest enclosing choice
/// (`anyOf`, `$ref`) that has one, but never of an enclosing field.
fn schema_description(kind: Kind, error: &jsonschema::ValidationError<'_>) -> Option<String> {
    let path = error.schema_path().to_string();
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    loop {
        let current = parts.join("/");
        if let Some(object) = resolve(schema(kind), &current)
            && let Some(text) = description_of(kind, &object)
        {
            return Some(text);
        }
        match parts.last() {
            Some(part)
                if part.bytes().all(|b| b.is_ascii_digit())
                    || matches!(*part, "anyOf" | "oneOf" | "allOf" | "$ref") =>
            {
                parts.pop();
            }
            _ => return None,
        }
    }
}

/// The first sentence of a schema object's `description` (or of the
/// definition it refers to), on one line.
fn description_of(kind: Kind, object: &Value) -> Option<String> {
    let text = object
        .get("description")
        .and_then(Value::as_str)
        .or_else(|| {
            let target = object.get("$ref")?.as_str()?.trim_start_matches('#');
            schema(kind).pointer(target)?.get("description")?.as_str()
        })?;
    let paragraph = text.split("\n\n").next().unwrap_or(text);
    let line = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = match line.find(". ") {
        Some(end) => &line[..=end],
        None => line.as_str(),
    };
    Some(sentence.to_string())
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
