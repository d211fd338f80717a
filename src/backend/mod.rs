//! Backends: one module per target tool, each turning the [`Model`] into
//! files.
//!
//! A backend never writes: it returns an [`OutputSet`], so the same files
//! feed `build`, `diff`, `check` and the golden tests. Backends read only
//! the model (never spec types or raw input) and take user strings into
//! their format only through that format's escaping module.

pub mod alertmanager;
pub mod grafana;
pub mod k6;
pub mod logstash;
pub mod otel;
pub mod prometheus;
mod shared_parts;

use crate::model::{Model, Service};
use crate::output::reuse::{self, RecordedFile, ReuseCache};
use crate::output::{OutputError, OutputSet};
use shared_parts::SharedParts;

/// What every backend is handed.
pub struct RenderContext<'a> {
    pub model: &'a Model,
}

/// Renders one service's files, with whatever the backend prepared once
/// for the whole model (a template environment, who calls whom).
///
/// Of the model it may read the platform, the service, the services the
/// service names as dependencies and the services naming it, and nothing
/// else: a service's fingerprint ([`crate::model::fingerprint`]) covers
/// exactly these, and a build keeps the files of a service whose
/// fingerprint did not change without rendering them. A renderer reading
/// more (say, every service of the team) must widen the fingerprint.
pub type ServiceRenderer<'a> =
    Box<dyn Fn(&Service, &mut OutputSet) -> Result<(), OutputError> + Sync + 'a>;

/// A backend's work for one model: the files that depend on the whole
/// model (one per environment, team or platform), and how to render each
/// service's own files. Keeping the two apart lets the pipeline render,
/// compare and write service by service, holding only a few services'
/// files at a time (see [`render_into`]).
pub struct Prepared<'a> {
    pub shared: OutputSet,
    /// Shared files rendered later, when the pipeline asks, and handed on
    /// at once: the large ones (an environment's `prometheus.yml` lists
    /// every service's job, 90 MB at 100,000 services), so that only one
    /// part per core is held at a time, and the parts of all backends
    /// render on every core.
    pub shared_parts: Vec<SharedPart<'a>>,
    pub per_service: Option<ServiceRenderer<'a>>,
}

/// Some of a backend's shared files, rendered when called.
pub type SharedPart<'a> = Box<dyn FnOnce() -> Result<OutputSet, OutputError> + Send + 'a>;

/// A target tool's generator.
pub trait Backend: Sync {
    /// The tool's name, also the top folder of its files (`prometheus/`).
    fn name(&self) -> &'static str;
    /// Renders the shared files and prepares the per-service renderer.
    fn prepare<'a>(&'a self, context: &'a RenderContext<'a>) -> Result<Prepared<'a>, OutputError>;
    /// Every file this backend generates for the model, in one set.
    fn render(&self, context: &RenderContext<'_>) -> Result<OutputSet, OutputError> {
        let prepared = self.prepare(context)?;
        let mut output = prepared.shared;
        for part in prepared.shared_parts {
            output.extend(part()?)?;
        }
        if let Some(render) = &prepared.per_service {
            output.extend(per_service(&context.model.services, render)?)?;
        }
        Ok(output)
    }
}

/// Every backend, in a fixed order.
pub fn all() -> Vec<Box<dyn Backend>> {
    vec![
        Box::new(prometheus::PrometheusBackend),
        Box::new(alertmanager::AlertmanagerBackend),
        Box::new(grafana::GrafanaBackend),
        Box::new(logstash::LogstashBackend),
        Box::new(k6::K6Backend),
        Box::new(otel::OtelBackend),
    ]
}

/// Runs every backend and gathers their files.
pub fn render_all(model: &Model) -> Result<OutputSet, OutputError> {
    let collected = std::sync::Mutex::new(OutputSet::new());
    render_into(model, &|files: &OutputSet| {
        let mut set = collected
            .lock()
            .map_err(|_| OutputError::Serialize("a rendering thread panicked".into()))?;
        for (path, contents) in files.iter() {
            set.add(path, contents)?;
        }
        Ok(())
    })?;
    collected
        .into_inner()
        .map_err(|_| OutputError::Serialize("a rendering thread panicked".into()))
}

/// Where rendered files go, a batch at a time: the shared files of each
/// backend, then every file of one service. Batches come from several
/// threads and in no fixed order; a sink must not depend on it.
pub trait FileSink: Sync {
    fn accept(&self, files: &OutputSet) -> Result<(), OutputError>;
    /// [`FileSink::accept`], given the hash ([`reuse::hash`]) of each file's
    /// bytes in the set's order, so that a sink that hashes files need not
    /// hash them again.
    fn accept_hashed(&self, files: &OutputSet, _hashes: &[u64]) -> Result<(), OutputError> {
        self.accept(files)
    }
    /// Takes one service's files as they already are on disk, without
    /// rendering them, when every one of them still has the recorded hash
    /// (see [`crate::output::reuse`]), updating the metadata recorded for
    /// each; `false` when any does not, and then the service is rendered.
    /// A sink that cannot tell never reuses.
    fn reuse(&self, _files: &mut [RecordedFile<'_>]) -> Result<bool, OutputError> {
        Ok(false)
    }
}

impl<F> FileSink for F
where
    F: Fn(&OutputSet) -> Result<(), OutputError> + Sync,
{
    fn accept(&self, files: &OutputSet) -> Result<(), OutputError> {
        self(files)
    }
}

/// Renders every backend into `sink`: each backend's shared files first,
/// then each service's files, rendered on every core and handed over one
/// service at a time, so that no more than a service per thread is held
/// in memory. On an error, the one of the first service in the model's
/// order is returned (the same one on every run).
pub fn render_into(model: &Model, sink: &dyn FileSink) -> Result<(), OutputError> {
    render_reusing(model, sink, None).map(|_| ())
}

/// What a run may keep from the previous build: the services' recorded
/// files ([`crate::output::reuse`]) and each service's fingerprint now
/// ([`crate::model::fingerprint`]), in the model's order.
pub struct Reuse<'a> {
    pub previous: &'a ReuseCache,
    pub fingerprints: &'a [u64],
    /// The fingerprint of the whole model, which the shared parts
    /// ([`Prepared::shared_parts`]) are rendered from.
    pub shared_fingerprint: u64,
    /// Whether the run writes a new cache (`build`), so needs its lines.
    pub record: bool,
}

/// A line of the new render cache: the previous one as it was, or new.
pub type CacheLine<'a> = std::borrow::Cow<'a, str>;

/// [`render_into`], offering `sink` the files of each service whose
/// fingerprint is unchanged instead of rendering them. With `reuse`,
/// returns the new cache lines (one per service, in the model's order).
pub fn render_reusing<'a>(
    model: &Model,
    sink: &dyn FileSink,
    reuse: Option<&Reuse<'a>>,
) -> Result<Vec<CacheLine<'a>>, OutputError> {
    let context = RenderContext { model };
    let backends = all();
    let mut renderers = Vec::new();
    let mut parts = Vec::new();
    for backend in &backends {
        let prepared = backend.prepare(&context)?;
        sink.accept(&prepared.shared)?;
        drop(prepared.shared);
        parts.extend(prepared.shared_parts);
        renderers.extend(prepared.per_service);
    }
    let record = reuse.is_some_and(|reuse| reuse.record);
    let mut parts = SharedParts::new(parts, record);
    if let Some(reuse) = reuse {
        parts.keep_if_unchanged(reuse, sink)?;
    }
    let render_one =
        |index: usize, service: &Service| -> Result<Option<CacheLine<'a>>, OutputError> {
            let fingerprint = reuse.and_then(|reuse| {
                reuse
                    .fingerprints
                    .get(index)
                    .map(|&fingerprint| (reuse.previous, fingerprint))
            });
            if let Some((previous, fingerprint)) = fingerprint
                && let Some((mut files, line)) = previous.recorded(&service.name, fingerprint)
            {
                let before: Vec<_> = files.iter().map(|file| file.stat).collect();
                if sink.reuse(&mut files)? {
                    if !record {
                        return Ok(None);
                    }
                    // Unchanged metadata: the line stays as it was, unallocated.
                    if files.iter().map(|file| file.stat).eq(before) {
                        return Ok(Some(CacheLine::Borrowed(line)));
                    }
                    return Ok(Some(
                        reuse::entry(&service.name, fingerprint, &files).into(),
                    ));
                }
            }
            let mut files = OutputSet::new();
            for render in &renderers {
                render(service, &mut files)?;
            }
            let Some((_, fingerprint)) = fingerprint.filter(|_| record) else {
                sink.accept(&files)?;
                return Ok(None);
            };
            // Each file is hashed once, for the cache and the sink.
            let hashes: Vec<u64> = files.iter().map(|(_, bytes)| reuse::hash(bytes)).collect();
            let entry = reuse::rendered_entry(&service.name, fingerprint, &files, &hashes);
            sink.accept_hashed(&files, &hashes)?;
            Ok(Some(CacheLine::Owned(entry)))
        };
    let services = &model.services;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let entries = if threads < 2 || services.len() < PARALLEL_THRESHOLD {
        parts.render_all(sink)?;
        let mut entries = Vec::new();
        for (index, service) in services.iter().enumerate() {
            entries.extend(render_one(index, service)?);
        }
        entries
    } else {
        on_workers(threads, services, &parts, sink, &render_one)?
    };
    Ok(parts
        .cache_line(reuse)
        .map(CacheLine::Owned)
        .into_iter()
        .chain(entries)
        .collect())
}

/// Renders (or keeps) the service at an index of the model; its cache line.
type RenderOne<'a, 'c> =
    dyn Fn(usize, &Service) -> Result<Option<CacheLine<'c>>, OutputError> + Sync + 'a;

/// Renders the shared parts and the services on `threads` workers: the
/// services are shared out as they come, the parts one at a time between
/// them ([`SharedParts`]). Errors are numbered parts first, then services,
/// and the first in that order is returned, the same on every run. The
/// cache lines come back in the model's order.
fn on_workers<'c>(
    threads: usize,
    services: &[Service],
    parts: &SharedParts<'_>,
    sink: &dyn FileSink,
    render_one: &RenderOne<'_, 'c>,
) -> Result<Vec<CacheLine<'c>>, OutputError> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || {
        let (mut entries, mut errors) = (Vec::new(), Vec::new());
        let failure =
            |errors: &mut Vec<(usize, OutputError)>, number: usize, error: OutputError| {
                failed.store(true, Ordering::Relaxed);
                errors.push((number, error));
            };
        while !failed.load(Ordering::Relaxed) {
            if parts.remaining()
                && let Some(rendered) = parts.try_render_next(sink)
            {
                if let Err((number, error)) = rendered {
                    failure(&mut errors, number, error);
                }
                continue;
            }
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(service) = services.get(index) else {
                // No service left: the parts still to render.
                if !parts.remaining() {
                    break;
                }
                if let Err((number, error)) = parts.render_next_waiting(sink) {
                    failure(&mut errors, number, error);
                }
                continue;
            };
            match render_one(index, service) {
                Ok(entry) => entries.extend(entry.map(|entry| (index, entry))),
                Err(error) => failure(&mut errors, parts.count() + index, error),
            }
        }
        (entries, errors)
    };
    let done = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(services.len() + parts.count()))
            .map(|_| scope.spawn(work))
            .collect();
        crate::parallel::join_all(handles)
    });
    let (mut entries, mut errors) = (Vec::new(), Vec::new());
    for (done_entries, done_errors) in done {
        entries.extend(done_entries);
        errors.extend(done_errors);
    }
    if let Some((_, error)) = errors.into_iter().min_by_key(|(number, _)| *number) {
        return Err(error);
    }
    entries.sort_unstable_by_key(|(index, _)| *index);
    Ok(entries.into_iter().map(|(_, entry)| entry).collect())
}

/// Escapes a literal for Go's RE2 regex syntax, which Prometheus (relabel
/// rules, `=~` matchers) and Alertmanager (`=~` matchers) both use: every
/// metacharacter is backslash-escaped, so a user's name can never match
/// more than itself.
pub fn re2_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Below this many services, one thread renders everything: spawning
/// threads would cost more than it saves.
const PARALLEL_THRESHOLD: usize = 64;

/// Renders per-service files on every core. `render` gets one service and
/// the set to add its files to; the sets are merged in service order, so
/// the result is the same as a sequential loop, byte for byte.
pub fn per_service<F>(services: &[Service], render: F) -> Result<OutputSet, OutputError>
where
    F: Fn(&Service, &mut OutputSet) -> Result<(), OutputError> + Sync,
{
    let services: Vec<&Service> = services.iter().collect();
    let parts = crate::parallel::in_parts(services, PARALLEL_THRESHOLD, |part| {
        let mut output = OutputSet::new();
        for service in part {
            render(service, &mut output)?;
        }
        Ok::<_, OutputError>(output)
    });
    let mut output = OutputSet::new();
    for part in parts {
        output.extend(part?)?;
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_rendering_equals_sequential() {
        let services: Vec<&str> = (0..200)
            .map(|i| if i % 2 == 0 { "alpha" } else { "beta" })
            .collect();
        let names: Vec<String> = (0..services.len()).map(|i| format!("svc-{i:03}")).collect();
        let platform = "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments: [{name: staging}, {name: production, production: true}]\n  teams: {alpha: {}, beta: {}}\n";
        let manifests: Vec<String> = names
            .iter()
            .zip(&services)
            .map(|(name, team)| {
                format!("apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: {name}, team: {team}}}\nspec: {{slos: [{{name: a, objective: 99.9, indicator: {{type: availability}}}}]}}\n")
            })
            .collect();
        let refs: Vec<&str> = manifests.iter().map(String::as_str).collect();
        let model = prometheus::model_from(platform, &refs);
        assert!(model.services.len() >= PARALLEL_THRESHOLD);
        let render = |service: &Service, output: &mut OutputSet| {
            output.add(format!("{}/a", service.name), service.team.clone())?;
            output.add(
                format!("{}/b", service.name),
                service.environments.len().to_string(),
            )
        };
        let parallel = per_service(&model.services, render).unwrap();
        let mut sequential = OutputSet::new();
        for service in &model.services {
            render(service, &mut sequential).unwrap();
        }
        assert_eq!(parallel, sequential);
        // And the whole backend is deterministic across runs.
        assert_eq!(render_all(&model).unwrap(), render_all(&model).unwrap());
    }

    #[test]
    fn shared_parts_render_one_at_a_time_and_all_of_them() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let manifests: Vec<String> = (0..100)
            .map(|i| format!("apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: s{i:03}, team: alpha}}\nspec: {{}}\n"))
            .collect();
        let refs: Vec<&str> = manifests.iter().map(String::as_str).collect();
        let model = prometheus::model_from(
            "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments: [{name: production, production: true}]\n  teams: {alpha: {}}\n",
            &refs,
        );
        let (active, most, done) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        let parts: Vec<SharedPart<'_>> = (0..4)
            .map(|number| {
                let (active, most, done) = (&active, &most, &done);
                Box::new(move || {
                    most.fetch_max(active.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    active.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                    let mut files = OutputSet::new();
                    files.add(format!("part-{number}"), "x")?;
                    Ok(files)
                }) as SharedPart<'_>
            })
            .collect();
        let parts = SharedParts::new(parts, false);
        let collected = std::sync::Mutex::new(Vec::new());
        let sink = |files: &OutputSet| {
            collected
                .lock()
                .unwrap()
                .extend(files.paths().map(str::to_string));
            Ok(())
        };
        let render_one = |_: usize, _: &Service| {
            std::thread::sleep(std::time::Duration::from_micros(200));
            Ok(None)
        };
        on_workers(2, &model.services, &parts, &sink, &render_one).unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 4, "every part rendered");
        assert_eq!(most.load(Ordering::SeqCst), 1, "never two parts at once");
        let mut paths = collected.into_inner().unwrap();
        paths.sort();
        assert_eq!(paths, ["part-0", "part-1", "part-2", "part-3"]);
    }
}
