//! Validation: schema first, then meaning; every error in every file.
//!
//! A document that fails its JSON Schema is not deserialized (its semantic
//! checks would only echo the same mistake); every other document is turned
//! into spec types and checked against the platform and the other services.
//! The result carries the documents that passed, so `build` compiles
//! exactly what was validated.

pub mod dashboard_library;
pub mod manifest_reference;
pub mod promql;
pub mod schema;
pub mod semantic;
pub mod values;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diagnostics::{self, Diagnostic};
use crate::load::{Document, Loaded, field_path};
use crate::model::build::Sourced;
use crate::spec::{PlatformManifest, ServiceManifest};

pub use schema::Kind;

/// Validated documents and everything found wrong.
#[derive(Debug, Default)]
pub struct Validated {
    pub platform: Option<Sourced<PlatformManifest>>,
    pub services: Vec<Sourced<ServiceManifest>>,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Validated {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// A service manifest checked on its own (lengths, schema, types, values),
/// before the checks across services.
#[derive(Debug)]
pub struct CheckedService {
    /// The document. Once it passed, its JSON value is dropped (the spec
    /// holds what it said; positions come from the text): a manifest's
    /// value tree is ten times its text, and 100,000 of them would not fit
    /// in memory together.
    pub document: Document,
    /// The spec, when the manifest passed.
    pub spec: Option<ServiceManifest>,
}

/// Checks one service manifest on its own; see [`CheckedService`].
pub fn check_service(mut document: Document, diagnostics: &mut Vec<Diagnostic>) -> CheckedService {
    values::check_string_lengths(&document, diagnostics);
    let spec: Option<ServiceManifest> = typed(Kind::Service, &document, diagnostics);
    if let Some(spec) = &spec {
        values::check_service(&document, spec, diagnostics);
        document.value = Value::Null;
    }
    CheckedService { document, spec }
}

/// Validates everything that was loaded: the platform, then the services
/// (each checked on its own with [`check_service`]: `services`) against
/// the platform and each other.
pub fn validate(
    loaded: &Loaded,
    services: Vec<CheckedService>,
    mut diagnostics: Vec<Diagnostic>,
) -> Validated {
    diagnostics.extend(loaded.diagnostics.iter().cloned());
    if let Some(document) = &loaded.platform {
        values::check_string_lengths(document, &mut diagnostics);
    }

    let platform = loaded.platform.as_ref().and_then(|document| {
        let mut spec: Option<PlatformManifest> = typed(Kind::Platform, document, &mut diagnostics);
        if let Some(spec) = &mut spec {
            semantic::check_platform(document, spec, &mut diagnostics);
            values::check_platform(document, spec, &mut diagnostics);
            spec.spec.template_overrides = loaded.templates.clone();
            semantic::check_templates(document, spec, &mut diagnostics);
            if let (Some(library), Some(grafana)) =
                (&loaded.dashboard_library, spec.spec.grafana.as_mut())
            {
                grafana.library_rows =
                    dashboard_library::check(library, &loaded.sources, &mut diagnostics)
                        .unwrap_or_default();
            }
        }
        spec.map(|spec| (document, spec))
    });

    // A manifest that failed the schema still names a service that exists.
    let invalid: Vec<&str> = services
        .iter()
        .filter(|checked| checked.spec.is_none())
        .filter_map(|checked| checked.document.value.pointer("/metadata/name")?.as_str())
        .collect();
    let pairs: Vec<(&Document, &ServiceManifest)> = services
        .iter()
        .filter_map(|checked| Some((&checked.document, checked.spec.as_ref()?)))
        .collect();
    semantic::check_services(
        platform.as_ref().map(|(_, spec)| spec),
        &pairs,
        &invalid,
        &mut diagnostics,
    );
    drop(pairs);
    drop(invalid);

    diagnostics::sort(&mut diagnostics);
    diagnostics.dedup();
    Validated {
        platform: platform.map(|(document, spec)| Sourced {
            source: document.source.clone(),
            spec,
        }),
        services: services
            .into_iter()
            .filter_map(|checked| {
                Some(Sourced {
                    spec: checked.spec?,
                    source: checked.document.source,
                })
            })
            .collect(),
        diagnostics,
    }
}

/// Checks the envelope's kind, then the schema, then deserializes.
fn typed<T: DeserializeOwned>(
    kind: Kind,
    document: &Document,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<T> {
    let found_kind = document.value.get("kind").and_then(Value::as_str);
    if !document.value.is_object() {
        let position = document.positions.value("");
        diagnostics.push(
            Diagnostic::error(
                &document.source,
                format!("expected a {} manifest (a YAML mapping)", kind.name()),
            )
            .at(position.line, position.column)
            .expected("a mapping with `apiVersion`, `kind`, `metadata` and `spec`")
            .hint(format!(
                "`obsgen init` writes an example; `obsgen schema {}` prints the schema",
                kind.name().to_lowercase()
            )),
        );
        return None;
    }
    if let Some(found_kind) = found_kind
        && found_kind != kind.name()
        && matches!(found_kind, "Service" | "Platform")
    {
        let position = document.positions.value("/kind");
        let hint = match kind {
            Kind::Service => "the platform configuration belongs in `obsgen.yaml` at the root",
            Kind::Platform => "service manifests belong under `services/`",
        };
        diagnostics.push(
            Diagnostic::error(
                &document.source,
                format!(
                    "a `{found_kind}` document where a `{}` belongs",
                    kind.name()
                ),
            )
            .at(position.line, position.column)
            .path("kind")
            .expected(kind.name())
            .found(found_kind)
            .hint(hint),
        );
        return None;
    }
    let errors = schema::check(kind, document);
    if !errors.is_empty() {
        diagnostics.extend(errors);
        return None;
    }
    match T::deserialize(&document.value) {
        Ok(spec) => Some(spec),
        Err(error) => {
            // The schema is generated from the same types, so this is rare:
            // values the schema's pattern admits but the parser refuses.
            let position = document.positions.value("");
            diagnostics.push(
                Diagnostic::error(&document.source, format!("invalid manifest: {error}"))
                    .at(position.line, position.column)
                    .path(field_path("")),
            );
            None
        }
    }
}
