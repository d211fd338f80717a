//! The shared parts of every backend ([`super::Prepared::shared_parts`]):
//! rendered on demand, one at a time, and recorded in (or kept through)
//! the render cache as one entry.
//!
//! A part is large (an environment's `prometheus.yml` lists every
//! service's job, 90 MB at 100,000 services), so two are never rendered at
//! once: a worker takes the next part only when no other worker is
//! rendering one, between two services.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{FileSink, Reuse, SharedPart};
use crate::output::OutputError;
use crate::output::reuse::{self, RecordedFile};

pub struct SharedParts<'a> {
    parts: Vec<Mutex<Option<SharedPart<'a>>>>,
    next: AtomicUsize,
    rendering: Mutex<()>,
    /// Each rendered file's path, hash and whether it has a header, when
    /// the run keeps a render cache.
    recorded: Option<Mutex<Vec<(String, u64, bool)>>>,
    /// The cache line, when the parts were kept from the previous build.
    kept: Option<String>,
}

impl<'a> SharedParts<'a> {
    pub fn new(parts: Vec<SharedPart<'a>>, record: bool) -> Self {
        Self {
            parts: parts
                .into_iter()
                .map(|part| Mutex::new(Some(part)))
                .collect(),
            next: AtomicUsize::new(0),
            rendering: Mutex::new(()),
            recorded: record.then(|| Mutex::new(Vec::new())),
            kept: None,
        }
    }

    /// How many parts there are (none once kept).
    pub fn count(&self) -> usize {
        self.parts.len()
    }

    /// Keeps the parts' files as they are on disk, rendering none, when
    /// the whole model's fingerprint is the one recorded and the files are
    /// still what was rendered (an up-to-date run).
    pub fn keep_if_unchanged(
        &mut self,
        reuse: &Reuse<'_>,
        sink: &dyn FileSink,
    ) -> Result<(), OutputError> {
        if self.parts.is_empty() {
            return Ok(());
        }
        if let Some(mut files) = reuse
            .previous
            .files(reuse::SHARED_ENTRY, reuse.shared_fingerprint)
            && sink.reuse(&mut files)?
        {
            self.kept = Some(reuse::entry(
                reuse::SHARED_ENTRY,
                reuse.shared_fingerprint,
                &files,
            ));
            self.parts.clear();
        }
        Ok(())
    }

    /// Whether a part is left to render.
    pub fn remaining(&self) -> bool {
        self.next.load(Ordering::Relaxed) < self.parts.len()
    }

    /// Renders the next part into `sink`, unless another worker is
    /// rendering one (`None`).
    pub fn try_render_next(&self, sink: &dyn FileSink) -> Option<Result<(), (usize, OutputError)>> {
        let _rendering = self.rendering.try_lock().ok()?;
        Some(self.render_next(sink))
    }

    /// Renders the next part into `sink`, waiting for another worker's
    /// part to finish first. An error comes with the part's number.
    pub fn render_next_waiting(&self, sink: &dyn FileSink) -> Result<(), (usize, OutputError)> {
        let _rendering = self.rendering.lock();
        self.render_next(sink)
    }

    fn render_next(&self, sink: &dyn FileSink) -> Result<(), (usize, OutputError)> {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        self.render(number, sink).map_err(|error| (number, error))
    }

    fn render(&self, number: usize, sink: &dyn FileSink) -> Result<(), OutputError> {
        let poisoned = || OutputError::Serialize("a rendering thread panicked".into());
        let Some(slot) = self.parts.get(number) else {
            return Ok(());
        };
        let Some(part) = slot.lock().map_err(|_| poisoned())?.take() else {
            return Ok(());
        };
        let files = part()?;
        if let Some(recorded) = &self.recorded {
            recorded
                .lock()
                .map_err(|_| poisoned())?
                .extend(files.iter().map(|(path, contents)| {
                    (
                        path.to_string(),
                        reuse::hash(contents),
                        reuse::has_header(contents),
                    )
                }));
        }
        sink.accept(&files)
    }

    /// Renders every part left, in order, on this thread.
    pub fn render_all(&self, sink: &dyn FileSink) -> Result<(), OutputError> {
        while self.remaining() {
            self.render_next(sink).map_err(|(_, error)| error)?;
        }
        Ok(())
    }

    /// The render cache's line for the parts: kept, or as rendered.
    pub fn cache_line(self, reuse: Option<&Reuse<'_>>) -> Option<String> {
        let reuse = reuse.filter(|reuse| reuse.record)?;
        if self.kept.is_some() {
            return self.kept;
        }
        let mut files = self.recorded?.into_inner().ok()?;
        if files.is_empty() {
            return None;
        }
        files.sort();
        let recorded: Vec<RecordedFile<'_>> = files
            .iter()
            .map(|(path, hash, header)| RecordedFile {
                path,
                hash: *hash,
                header: *header,
                stat: None,
            })
            .collect();
        Some(reuse::entry(
            reuse::SHARED_ENTRY,
            reuse.shared_fingerprint,
            &recorded,
        ))
    }
}
