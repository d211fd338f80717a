//! The whole pipeline in one call: load → validate → model → backends.
//!
//! Every command starts here. The result keeps what each stage produced,
//! so `validate` can stop after diagnostics and `build`/`diff`/`check`
//! use the output set.

use std::path::Path;

use crate::backend;
use crate::diagnostics::{Diagnostic, Sources};
use crate::limits::MAX_OUTPUT_BYTES_PER_SERVICE;
use crate::load::{self, LoadError};
use crate::model::{self, Model};
use crate::output::reuse::{self, ReuseCache};
use crate::output::{OutputError, OutputSet};
use crate::validate;

/// What a compilation produced.
#[derive(Debug)]
pub struct Compilation {
    /// Errors and warnings, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Source texts, for excerpts in diagnostics.
    pub sources: Sources,
    /// The model, when the input was valid.
    pub model: Option<Model>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Failures that are not about the manifests.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Loads and validates the repository at `root`; builds the model when valid.
///
/// Service manifests are loaded a batch at a time and each is checked on
/// its own as soon as its batch is in ([`validate::check_service`]), which
/// drops its JSON value: memory holds the specs, not every manifest's
/// value tree at once.
pub fn check(root: &Path) -> Result<Compilation, CompileError> {
    let (mut loaded, manifests) = load::load_platform(root)?;
    let mut services = Vec::with_capacity(manifests.len());
    let mut diagnostics = Vec::new();
    for batch in manifests.chunks(LOAD_BATCH) {
        load::load_services(root, batch, &mut loaded)?;
        let documents = std::mem::take(&mut loaded.services);
        for (checked, found) in check_on_every_core(documents) {
            services.extend(checked);
            diagnostics.extend(found);
        }
    }
    Ok(checked(loaded, services, diagnostics))
}

/// [`validate::check_service`] on each document, in parts on every core;
/// the parts come back in order.
fn check_on_every_core(
    documents: Vec<load::Document>,
) -> Vec<(Vec<validate::CheckedService>, Vec<Diagnostic>)> {
    crate::parallel::in_parts(documents, 64, |documents| {
        let mut diagnostics = Vec::new();
        let checked = documents
            .into_iter()
            .map(|document| validate::check_service(document, &mut diagnostics))
            .collect();
        (checked, diagnostics)
    })
}

/// How many manifests are loaded before they are checked (and their values
/// dropped): enough to keep every core busy, few enough to cost little memory.
const LOAD_BATCH: usize = 1024;

/// Validates what was loaded; builds the model when valid.
pub fn check_loaded(mut loaded: load::Loaded) -> Compilation {
    let mut diagnostics = Vec::new();
    let services = std::mem::take(&mut loaded.services)
        .into_iter()
        .map(|document| validate::check_service(document, &mut diagnostics))
        .collect();
    checked(loaded, services, diagnostics)
}

fn checked(
    loaded: load::Loaded,
    services: Vec<validate::CheckedService>,
    diagnostics: Vec<Diagnostic>,
) -> Compilation {
    let mut validated = validate::validate(&loaded, services, diagnostics);
    let model = match (&validated.platform, validated.has_errors()) {
        (Some(platform), false) => Some(model::build(
            platform,
            std::mem::take(&mut validated.services),
        )),
        _ => None,
    };
    // Only the texts diagnostics quote are kept: the rest would be held,
    // unused, through the whole build.
    let quoted: std::collections::BTreeSet<&str> = validated
        .diagnostics
        .iter()
        .map(|diagnostic| diagnostic.file.as_str())
        .collect();
    let mut sources = loaded.sources;
    sources.retain(|file, _| quoted.contains(file.as_str()));
    Compilation {
        diagnostics: validated.diagnostics,
        sources,
        model,
    }
}

/// Compiles the repository at `root` into its output set (`None` when invalid).
pub fn compile(root: &Path) -> Result<(Compilation, Option<OutputSet>), CompileError> {
    compile_checked(check(root)?)
}

/// Compiles a repository given as texts (see [`load::load_texts`]).
pub fn compile_texts(
    platform: &[u8],
    services: &[(String, Vec<u8>)],
) -> Result<(Compilation, Option<OutputSet>), CompileError> {
    compile_checked(check_loaded(load::load_texts(platform, services)))
}

fn compile_checked(
    mut compilation: Compilation,
) -> Result<(Compilation, Option<OutputSet>), CompileError> {
    let output = match &compilation.model {
        Some(model) => Some(backend::render_all(model)?),
        None => None,
    };
    if let (Some(model), Some(set)) = (&compilation.model, &output)
        && let Some(diagnostic) = output_too_large(set, model.services.len())
    {
        compilation.diagnostics.push(diagnostic);
        return Ok((compilation, None));
    }
    Ok((compilation, output))
}

/// The output may hold at most [`MAX_OUTPUT_BYTES_PER_SERVICE`] per
/// service: a short string repeated into every rule of every environment
/// must not turn a small manifest into hundreds of megabytes.
fn output_too_large(output: &OutputSet, services: usize) -> Option<Diagnostic> {
    let limit = MAX_OUTPUT_BYTES_PER_SERVICE.saturating_mul(services.max(1));
    let total: usize = output.iter().map(|(_, bytes)| bytes.len()).sum();
    if total <= limit {
        return None;
    }
    let (largest, size) = output
        .iter()
        .map(|(path, bytes)| (path, bytes.len()))
        .max_by_key(|(_, size)| *size)
        .unwrap_or_default();
    Some(
        Diagnostic::error(
            largest,
            format!(
                "the generated output would be {total} bytes, more than the limit of {MAX_OUTPUT_BYTES_PER_SERVICE} bytes per service ({services} services)"
            ),
        )
        .found(format!("`{largest}` alone is {size} bytes"))
        .hint("long label values or descriptions are repeated in every rule and environment; shorten them (see docs/limits.md)"),
    )
}

/// The most bytes a repository of `services` services may generate.
pub fn output_limit(services: usize) -> usize {
    MAX_OUTPUT_BYTES_PER_SERVICE.saturating_mul(services.max(1))
}

/// What a run keeps from the previous build of the same output directory:
/// the services' recorded files and their fingerprints now (see
/// [`crate::output::reuse`]).
pub struct Incremental {
    path: std::path::PathBuf,
    previous: ReuseCache,
    fingerprints: crate::model::fingerprint::Fingerprints,
    record: bool,
}

impl Incremental {
    /// Reads the cache of `out_dir` and fingerprints `model`'s services;
    /// `None` when the running binary cannot be identified. `record`: the
    /// run saves a new cache (`build`; `check` and `diff` only read).
    pub fn open(root: &Path, out_dir: &Path, model: &Model, record: bool) -> Option<Self> {
        let salt = reuse::binary_salt()?;
        let path = reuse::cache_path(root, out_dir);
        Some(Self {
            previous: ReuseCache::read(&path),
            fingerprints: crate::model::fingerprint::fingerprints(model, salt),
            path,
            record,
        })
    }

    /// Records what this build rendered or kept, unless the cache holds
    /// exactly that already (an up-to-date build of 100,000 services would
    /// write 150 MB to say the same again). A cache that cannot be written
    /// only makes the next run slower: the error is ignored.
    pub fn save(&self, lines: &[std::borrow::Cow<'_, str>]) {
        if !self.previous.holds(lines) {
            let _ = reuse::write(&self.path, lines);
        }
    }
}

/// Renders the model through `update` (comparing, and for a build staging,
/// service by service: see [`backend::render_into`]), keeping unchanged
/// services' files when `incremental` allows. Returns the new cache lines,
/// or, for an output over the size limit, a diagnostic rather than a
/// failure: nothing has been switched in, and the update's staged files
/// go when it is dropped.
pub fn render_through<'a>(
    model: &crate::model::Model,
    update: &dyn backend::FileSink,
    incremental: Option<&'a Incremental>,
) -> Result<Result<Vec<backend::CacheLine<'a>>, Diagnostic>, OutputError> {
    let reuse = incremental.map(|incremental| backend::Reuse {
        previous: &incremental.previous,
        fingerprints: &incremental.fingerprints.services,
        shared_fingerprint: incremental.fingerprints.whole,
        record: incremental.record,
    });
    match backend::render_reusing(model, update, reuse.as_ref()) {
        Ok(lines) => Ok(Ok(lines)),
        Err(OutputError::TooLarge { limit, path, size }) => Ok(Err(
            Diagnostic::error(
                path.clone(),
                format!(
                    "the generated output would be over {limit} bytes, more than the limit of {MAX_OUTPUT_BYTES_PER_SERVICE} bytes per service ({} services)",
                    model.services.len()
                ),
            )
            .found(format!("`{path}` alone is {size} bytes"))
            .hint("long label values or descriptions are repeated in every rule and environment; shorten them (see docs/limits.md)"),
        )),
        Err(error) => Err(error),
    }
}
