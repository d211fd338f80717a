//! How long obsgen takes on large platform repositories, stage by stage.
//!
//! Generates synthetic repositories of 1,000 and 10,000 realistic services
//! (three teams, three environments, every framework, SLOs of all three
//! indicator kinds, ingresses, labels, dependencies, log formats, load
//! tests, a few Jsonnet manifests, tracing) in a temporary folder, then times each
//! stage of the pipeline with [`Instant`] over several iterations:
//! `load` → `validate` → `model::build` → `backend::render_all` →
//! `output::write` (into an empty folder, then again with nothing changed).
//!
//! Run with `cargo bench --bench compile` (or `scripts/bench.sh`).
//! `OBSGEN_BENCH_SIZES=1000,10000` and `OBSGEN_BENCH_ITERATIONS=5` override
//! the sizes and the iteration count, `OBSGEN_BENCH_JSONNET_EVERY=50` the
//! share of Jsonnet manifests (one in 50; 0 for none). The table reports the minimum and the
//! median of each stage, and microseconds per service; the last table
//! compares sizes, so a stage that grows faster than the repository shows.

// A benchmark, not library code: it fails loudly on a broken setup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use obsgen::backend::Backend as _;

/// The allocator of the `obsgen` binary, so that the stages are timed as
/// the command runs them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use obsgen::{backend, load, model, output, validate};

const TEAMS: [&str; 3] = ["payments", "fulfilment", "web"];
const ENVIRONMENTS: [&str; 3] = ["dev", "staging", "production"];
/// One manifest in this many is Jsonnet (using the embedded library);
/// `OBSGEN_BENCH_JSONNET_EVERY` overrides it, 0 for none.
const JSONNET_EVERY: usize = 50;

const STAGES: [&str; 9] = [
    "load",
    "validate",
    "model::build",
    "backend::render_all",
    "output::write (fresh)",
    "output::write (unchanged)",
    // Part of render_all, timed alone: its µs/service is µs per dashboard.
    "grafana dashboards (alone)",
    // The same, one thread, split: building the typed values, then JSON.
    "  dashboards: build (1 thread)",
    "  dashboards: JSON (1 thread)",
];

fn main() {
    let sizes: Vec<usize> = std::env::var("OBSGEN_BENCH_SIZES")
        .ok()
        .map(|text| {
            text.split(',')
                .map(|size| size.trim().parse().expect("OBSGEN_BENCH_SIZES: numbers"))
                .collect()
        })
        .unwrap_or_else(|| vec![1_000, 10_000]);
    let iterations_override: Option<usize> =
        std::env::var("OBSGEN_BENCH_ITERATIONS").ok().map(|text| {
            text.trim()
                .parse()
                .expect("OBSGEN_BENCH_ITERATIONS: a number")
        });

    let jsonnet_every: usize = std::env::var("OBSGEN_BENCH_JSONNET_EVERY")
        .ok()
        .map(|text| {
            text.trim()
                .parse()
                .expect("OBSGEN_BENCH_JSONNET_EVERY: a number")
        })
        .unwrap_or(JSONNET_EVERY);

    let stages_max: usize = std::env::var("OBSGEN_BENCH_STAGES_MAX")
        .ok()
        .map(|text| {
            text.trim()
                .parse()
                .expect("OBSGEN_BENCH_STAGES_MAX: a number")
        })
        .unwrap_or(10_000);

    // `OBSGEN_BENCH_GENERATE=DIR` only writes the synthetic repository of
    // the first size into DIR (to profile a command on it), and stops.
    if let Ok(dir) = std::env::var("OBSGEN_BENCH_GENERATE") {
        let size = sizes.first().copied().unwrap_or(1_000);
        generate(Path::new(&dir), size, jsonnet_every);
        eprintln!("generated {size} services in {dir}");
        return;
    }

    let scratch = Scratch::new();
    let mut results = Vec::new();
    let mut cli_results: Vec<CliResult> = Vec::new();
    for &size in &sizes {
        let iterations = iterations_override.unwrap_or(if size <= 2_000 { 5 } else { 3 });
        let root = scratch.path().join(format!("repo-{size}"));
        let started = Instant::now();
        generate(&root, size, jsonnet_every);
        eprintln!(
            "generated {size} services in {:.1} s; running {iterations} iterations",
            started.elapsed().as_secs_f64()
        );
        let cli_iterations = if size <= 10_000 { iterations.min(3) } else { 1 };
        let cli = cli_run(&root, size, cli_iterations, scratch.path());
        print!("{}", cli.table());
        if let Some(previous) = cli_results.last() {
            print!("{}", cli_scaling_table(previous, &cli));
        }
        cli_results.push(cli);
        // The in-process stages hold the whole output set: only up to
        // `OBSGEN_BENCH_STAGES_MAX` services (10,000 unless set).
        if size <= stages_max {
            let result = run(&root, size, iterations, scratch.path());
            print!("{}", result.table());
            results.push(result);
        }
    }
    if results.len() > 1 {
        print!("{}", scaling_table(&results));
    }
}

/// A temporary folder, removed at the end (also after a panic), and only
/// then: every tree the benchmark writes stays until the end of the run.
///
/// Why: on ext4 without a journal (as on this project's benchmark machine),
/// the kernel avoids reusing an inode freed less than a minute before (five
/// minutes while its inode table block is dirty; `recently_deleted` in
/// `fs/ext4/ialloc.c`), checking each freed inode in turn for every file it
/// creates. Creating 120,000 files just after deleting as many took 8 to
/// 21 s of system time instead of 2, for `cp -r` and for obsgen alike, and
/// made the floor of a fresh build vary sevenfold within one run. The
/// trees need the disk space of about three copies of each size's tree per
/// timed fresh build (10 GB for 1,000 and 10,000 services, 30 GB with
/// 100,000).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("obsgen-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("creating the scratch folder");
        Self(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------
// The command line, end to end
// ---------------------------------------------------------------------------

/// What users wait for: the release `obsgen` binary run as a process on
/// the synthetic repository, each command's wall time and peak memory, and
/// copying the tree it wrote (`cp -r`) as the floor of a fresh build.
struct CliResult {
    services: usize,
    files: usize,
    bytes: u64,
    /// (what, samples, peak RSS in KiB over the samples)
    rows: Vec<(&'static str, Vec<Duration>, u64)>,
}

/// Runs `obsgen` with `args` in `root`; its wall time and peak RSS (KiB).
fn obsgen_timed(root: &Path, args: &[&str]) -> (Duration, u64) {
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_obsgen"))
        .args(args)
        .current_dir(root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running obsgen");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    // VmHWM is the process' high-water mark: the last reading before it
    // exits is its peak (to within the polling interval).
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(kib) = text
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("waiting for obsgen") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    if !status.success() {
        let mut stderr = String::new();
        use std::io::Read as _;
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        panic!("obsgen {args:?} failed ({status}):\n{stderr}");
    }
    (elapsed, peak)
}

/// Flushes every dirty page to disk (`sync`) before a timed command, so
/// that none pays for the writeback of the one before it: neither the
/// fresh build nor the copy for the other's, no up-to-date run for the
/// render cache a build wrote.
fn settle() {
    let status = std::process::Command::new("sync")
        .status()
        .expect("running sync");
    assert!(status.success(), "sync failed");
}

fn tree_size(dir: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current)
            .expect("reading the tree")
            .flatten()
        {
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else if !entry.file_name().to_string_lossy().starts_with(".obsgen") {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    (files, bytes)
}

fn cli_run(root: &Path, services: usize, iterations: usize, scratch: &Path) -> CliResult {
    let changed = root
        .join("services")
        .join(TEAMS[0])
        .join(format!("{}.yaml", service_name(0)));
    let original = std::fs::read_to_string(&changed).expect("the first manifest");
    let edited = original.replacen(" for the shop.", " for the whole shop.", 1);
    assert_ne!(
        original, edited,
        "the first manifest has a description to change"
    );
    let names = [
        "fresh build",
        "copy of the tree (cp -r)",
        "up-to-date build, first",
        "up-to-date build",
        "up-to-date check",
        "build, one manifest changed",
        "check, no render cache",
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    let mut peaks = vec![0u64; names.len()];
    let mut record = |row: usize, (elapsed, peak): (Duration, u64)| {
        samples[row].push(elapsed);
        peaks[row] = peaks[row].max(peak);
    };
    let copy_timed = |from: &Path, to: &Path| {
        settle();
        let started = Instant::now();
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .expect("running cp");
        assert!(status.success(), "cp -r failed");
        (started.elapsed(), 0)
    };
    let (mut files, mut bytes) = (0, 0);
    let mut previous_out: Option<PathBuf> = None;
    for iteration in 0..iterations {
        // Every tree gets its own folder and stays until the scratch folder
        // goes: see `Scratch` for why nothing is deleted between timings.
        let out = scratch.join(format!("cli-out-{services}-{iteration}"));
        let copy = scratch.join(format!("cli-copy-{services}-{iteration}"));
        let out_arg = out.to_string_lossy().into_owned();
        let build = ["--out", out_arg.as_str(), "build"];
        let check = ["--out", out_arg.as_str(), "check"];
        // The copy goes first every other iteration (copying the previous
        // iteration's tree, the same bytes), so that neither side always
        // runs on the file system the other has just filled.
        let copy_first = previous_out.as_ref().filter(|_| iteration % 2 == 1);
        if let Some(previous) = copy_first {
            record(1, copy_timed(previous, &copy));
        }
        settle();
        record(0, obsgen_timed(root, &build));
        (files, bytes) = tree_size(&out);
        if copy_first.is_none() {
            record(1, copy_timed(&out, &copy));
        }
        // Every later command starts once the disk has caught up with the
        // one before it (the copy above, the render cache a build wrote),
        // as the fresh build and the copy do.
        settle();
        // The first build after the fresh one reads every file back (their
        // metadata is recorded once two seconds old: src/output/reuse.rs);
        // the next ones, as on a working copy, do not.
        std::thread::sleep(Duration::from_millis(2100));
        record(2, obsgen_timed(root, &build));
        // Untimed: that read-back (9.9 GB at 100,000 services) pushes the
        // inode cache out, and whichever command comes next pays for it
        // (about a second per 10,000 services: docs/performance.md); the
        // steady rows below time steady runs.
        obsgen_timed(root, &check);
        settle();
        record(3, obsgen_timed(root, &build));
        settle();
        record(4, obsgen_timed(root, &check));
        std::fs::write(&changed, &edited).expect("editing a manifest");
        settle();
        record(5, obsgen_timed(root, &build));
        std::fs::write(&changed, &original).expect("restoring the manifest");
        obsgen_timed(root, &build);
        // As on a fresh clone in CI: no render cache, every service rendered.
        let cache = root.join(".obsgen-cache");
        let _ = std::fs::remove_dir_all(&cache);
        settle();
        record(6, obsgen_timed(root, &check));
        let _ = std::fs::remove_dir_all(&cache);
        previous_out = Some(out);
    }
    CliResult {
        services,
        files,
        bytes,
        rows: names
            .into_iter()
            .zip(samples)
            .zip(peaks)
            .map(|((name, samples), peak)| (name, samples, peak))
            .collect(),
    }
}

impl CliResult {
    fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{} services, the obsgen command line: {} files, {:.1} MB ({:.1} files, {:.1} KB per service)",
            self.services,
            self.files,
            self.bytes as f64 / 1e6,
            self.files as f64 / self.services as f64,
            self.bytes as f64 / 1e3 / self.services as f64
        );
        let _ = writeln!(
            out,
            "| {:<28} | {:>10} | {:>10} | {:>12} | {:>12} |",
            "command", "min ms", "median ms", "µs/service", "peak RSS MiB"
        );
        let _ = writeln!(
            out,
            "| {:-<28} | {:->10}: | {:->10}: | {:->12}: | {:->12}: |",
            "", "", "", "", ""
        );
        for (name, samples, peak) in &self.rows {
            let peak = if *peak == 0 {
                "-".to_string()
            } else {
                format!("{:.0}", *peak as f64 / 1024.0)
            };
            let _ = writeln!(
                out,
                "| {:<28} | {:>10.1} | {:>10.1} | {:>12.1} | {:>12} |",
                name,
                ms(min(samples)),
                ms(median(samples)),
                ms(median(samples)) * 1000.0 / self.services as f64,
                peak
            );
        }
        let _ = writeln!(out, "{}", self.fresh_to_copy());
        out
    }

    /// Each iteration's fresh build against the copy of the same
    /// iteration, made on the file system in the same state (issue 8's
    /// target is at most 1.5x): a slow disk slows both, so the ratio of a
    /// pair varies less than the ratio of the two medians.
    fn fresh_to_copy(&self) -> String {
        let (Some((_, fresh, _)), Some((_, copy, _))) = (self.rows.first(), self.rows.get(1))
        else {
            return String::new();
        };
        let ratios: Vec<f64> = fresh
            .iter()
            .zip(copy)
            .map(|(fresh, copy)| fresh.as_secs_f64() / copy.as_secs_f64())
            .collect();
        let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.2}x")).collect();
        let mut sorted = ratios.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
        format!(
            "fresh build / copy, iteration by iteration: {} (median {median:.2}x)",
            listed.join(", ")
        )
    }
}

/// How each command's median time and peak memory grew between two sizes.
fn cli_scaling_table(small: &CliResult, large: &CliResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nthe command line from {} to {} services (x{:.1}); linear grows by the same factor",
        small.services,
        large.services,
        large.services as f64 / small.services as f64
    );
    let _ = writeln!(
        out,
        "| {:<28} | {:>8} | {:>8} |",
        "command", "time", "peak RSS"
    );
    let _ = writeln!(out, "| {:-<28} | {:->8}: | {:->8}: |", "", "", "");
    for ((name, small_samples, small_peak), (_, large_samples, large_peak)) in
        small.rows.iter().zip(&large.rows)
    {
        let time = ms(median(large_samples)) / ms(median(small_samples)).max(1e-9);
        let peak = if *small_peak == 0 {
            "-".to_string()
        } else {
            format!("{:.1}x", *large_peak as f64 / *small_peak as f64)
        };
        let _ = writeln!(out, "| {name:<28} | {time:>7.1}x | {peak:>8} |");
    }
    out
}

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

struct RunResult {
    services: usize,
    iterations: usize,
    files: usize,
    bytes: usize,
    /// Warnings validation reported (the repository has no errors).
    warnings: usize,
    /// Per stage (in [`STAGES`] order), one sample per iteration.
    samples: Vec<Vec<Duration>>,
}

fn run(root: &Path, services: usize, iterations: usize, scratch: &Path) -> RunResult {
    let mut samples = vec![Vec::with_capacity(iterations); STAGES.len()];
    let mut files = 0;
    let mut bytes = 0;
    let mut warnings = 0;
    for iteration in 0..iterations {
        let started = Instant::now();
        let mut loaded = load::load(root).expect("loading the synthetic repository");
        samples[0].push(started.elapsed());
        assert_eq!(loaded.services.len(), services, "every manifest loads");

        let started = Instant::now();
        let mut diagnostics = Vec::new();
        let checked = std::mem::take(&mut loaded.services)
            .into_iter()
            .map(|document| validate::check_service(document, &mut diagnostics))
            .collect();
        let mut validated = validate::validate(&loaded, checked, diagnostics);
        samples[1].push(started.elapsed());
        if validated.has_errors() {
            for diagnostic in validated
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .take(10)
            {
                eprintln!("{diagnostic:?}");
            }
            panic!("the synthetic repository must be valid");
        }
        warnings = validated.diagnostics.len();
        let documents = std::mem::take(&mut validated.services);
        let platform = validated.platform.as_ref().expect("a valid platform");

        let started = Instant::now();
        let model = model::build(platform, documents);
        samples[2].push(started.elapsed());
        assert_eq!(model.services.len(), services);

        let started = Instant::now();
        let set = backend::render_all(&model).expect("rendering");
        samples[3].push(started.elapsed());
        files = set.len();
        bytes = set.iter().map(|(_, contents)| contents.len()).sum();

        let out = scratch.join(format!("out-{services}-{iteration}"));
        let started = Instant::now();
        let summary = output::write(&out, &set).expect("writing the output tree");
        samples[4].push(started.elapsed());
        assert_eq!(
            summary.written.len(),
            set.len(),
            "a fresh tree writes every file"
        );

        let started = Instant::now();
        let summary = output::write(&out, &set).expect("writing the output tree again");
        samples[5].push(started.elapsed());
        assert!(
            summary.written.is_empty(),
            "an unchanged tree rewrites nothing"
        );
        assert_eq!(summary.unchanged, set.len());

        let started = Instant::now();
        let dashboards = backend::grafana::GrafanaBackend
            .render(&backend::RenderContext { model: &model })
            .expect("rendering dashboards");
        samples[6].push(started.elapsed());
        black_box(&dashboards);
        drop(dashboards);

        let callers = backend::grafana::callers(&model);
        let started = Instant::now();
        let built: Vec<_> = model
            .services
            .iter()
            .map(|service| {
                let called_by = callers
                    .get(service.name.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                backend::grafana::service_dashboard(&model, service, called_by)
            })
            .collect();
        samples[7].push(started.elapsed());
        let started = Instant::now();
        for dashboard in &built {
            black_box(backend::grafana::to_json(dashboard).expect("JSON"));
        }
        samples[8].push(started.elapsed());
        drop(built);

        black_box((&loaded, &validated, &model, &set));
        // Dropping is not part of any stage; neither is cleaning up.
        drop((set, model, validated, loaded));
        // The tree stays until the scratch folder goes (see `Scratch`).
    }
    RunResult {
        services,
        iterations,
        files,
        bytes,
        warnings,
        samples,
    }
}

fn min(samples: &[Duration]) -> Duration {
    samples.iter().copied().min().unwrap_or_default()
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

impl RunResult {
    /// Per-iteration totals: a build from scratch (fresh write) and a
    /// build whose output is already up to date (unchanged write).
    fn totals(&self) -> [Vec<Duration>; 2] {
        let pipeline = |write: usize| -> Vec<Duration> {
            (0..self.iterations)
                .map(|i| {
                    (0..4).map(|stage| self.samples[stage][i]).sum::<Duration>()
                        + self.samples[write][i]
                })
                .collect()
        };
        [pipeline(4), pipeline(5)]
    }

    fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{} services, {} iterations; {} warnings; output: {} files, {:.1} MB",
            self.services,
            self.iterations,
            self.warnings,
            self.files,
            self.bytes as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "| {:<28} | {:>10} | {:>10} | {:>12} |",
            "stage", "min ms", "median ms", "µs/service"
        );
        let _ = writeln!(
            out,
            "| {:-<28} | {:->9}: | {:->9}: | {:->11}: |",
            "", "", "", ""
        );
        let [fresh, unchanged] = self.totals();
        let rows = STAGES
            .iter()
            .map(|name| name.to_string())
            .zip(self.samples.iter().cloned())
            .chain([
                ("total (fresh build)".to_string(), fresh),
                ("total (up-to-date build)".to_string(), unchanged),
            ]);
        for (name, samples) in rows {
            let median = median(&samples);
            let _ = writeln!(
                out,
                "| {:<28} | {:>10.1} | {:>10.1} | {:>12.1} |",
                name,
                ms(min(&samples)),
                ms(median),
                ms(median) * 1e3 / self.services as f64
            );
        }
        out
    }
}

/// Median of the largest size over the median of the smallest, per stage,
/// next to the ratio of their sizes: a stage that grows linearly shows the
/// same ratio as the services.
fn scaling_table(results: &[RunResult]) -> String {
    let (first, last) = (&results[0], &results[results.len() - 1]);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nscaling from {} to {} services (x{:.1}); a linear stage grows by the same factor",
        first.services,
        last.services,
        last.services as f64 / first.services as f64
    );
    let _ = writeln!(out, "| {:<28} | {:>8} |", "stage", "growth");
    let _ = writeln!(out, "| {:-<28} | {:->7}: |", "", "");
    let (first_totals, last_totals) = (first.totals(), last.totals());
    let names = STAGES.iter().map(|name| name.to_string()).chain([
        "total (fresh build)".to_string(),
        "total (up-to-date build)".to_string(),
    ]);
    let pairs = first
        .samples
        .iter()
        .zip(&last.samples)
        .chain(first_totals.iter().zip(&last_totals));
    for (name, (small, large)) in names.zip(pairs) {
        let growth = ms(median(large)) / ms(median(small)).max(1e-9);
        let _ = writeln!(out, "| {name:<28} | {:>7.1}x |", growth);
    }
    out
}

// ---------------------------------------------------------------------------
// The synthetic repository
// ---------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*): the same repository on
/// every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

const PLATFORM: &str = r##"apiVersion: obsgen.dev/v1
kind: Platform
metadata:
  name: bench
spec:
  environments:
    - name: dev
      service_url: "http://{service}.dev.bench.internal:8080"
    - name: staging
    - name: production
      production: true
      namespace: prod
  service_url: "http://{service}.{env}.svc:8080"
  prometheus:
    discovery: kubernetes
    scrape_interval: 30s
    external_labels: {platform: bench}
    alertmanagers: ["alertmanager.monitoring.svc:9093"]
  grafana: {url: "https://grafana.bench.example", datasource_uid: prometheus, folder: Services}
  logging:
    input: {type: beats, port: 5044}
    elasticsearch: {hosts: ["https://es.bench.internal:9200"], user: logstash_writer, password_env: ES_PASSWORD}
  tracing:
    backend: zipkin
    endpoint: http://zipkin.monitoring.svc:9411/api/v2/spans
    sample_ratio: 0.1
  alerting:
    slack_api_url_file: /etc/alertmanager/secrets/slack-webhook
    smtp: {smarthost: "smtp.bench.example:587", from: alertmanager@bench.example}
    fallback:
      slack: {channel: "#alerts-unrouted"}
  teams:
    payments:
      pagerduty: {routing_key_file: /etc/alertmanager/secrets/payments-pagerduty}
      slack: {channel: "#payments-alerts"}
    fulfilment:
      pagerduty: {routing_key_file: /etc/alertmanager/secrets/fulfilment-pagerduty}
      email: {to: fulfilment-oncall@bench.example}
      working_hours: {start: "08:00", end: "18:00", location: Europe/Berlin}
    web:
      slack: {channel: "#web-alerts"}
      webhook: {url: "https://hooks.bench.example/alertmanager/web", credentials_file: /etc/alertmanager/secrets/web-webhook-token}
"##;

const DOMAINS: [&str; 12] = [
    "order", "cart", "price", "stock", "user", "search", "ship", "invoice", "review", "promo",
    "catalog", "notify",
];
const ROLES: [&str; 6] = ["api", "worker", "gateway", "service", "sync", "frontend"];
const FRAMEWORKS: [&str; 7] = [
    "http",
    "grpc",
    "spring-boot",
    "express",
    "django",
    "flask",
    "aspnetcore",
];
const LANGUAGES: [&str; 7] = ["go", "go", "jvm", "node", "python", "python", "dotnet"];
const INGRESSES: [&str; 4] = ["nginx", "envoy", "traefik", "haproxy"];
const EXTERNALS: [&str; 5] = [
    "postgres",
    "redis",
    "kafka",
    "card-provider",
    "elasticsearch",
];

fn service_name(index: usize) -> String {
    format!(
        "{}-{}-{index:05}",
        DOMAINS[index % DOMAINS.len()],
        ROLES[(index / DOMAINS.len()) % ROLES.len()]
    )
}

/// Writes `obsgen.yaml` and `count` service manifests under `root`.
fn generate(root: &Path, count: usize, jsonnet_every: usize) {
    let _ = std::fs::remove_dir_all(root);
    for team in TEAMS {
        std::fs::create_dir_all(root.join("services").join(team)).expect("creating folders");
    }
    std::fs::write(root.join("obsgen.yaml"), PLATFORM).expect("writing obsgen.yaml");
    let mut rng = Rng(0x0b5e_6e17_u64 ^ count as u64);
    for index in 0..count {
        let name = service_name(index);
        let team = TEAMS[index % TEAMS.len()];
        let (file, text) = if jsonnet_every > 0 && index % jsonnet_every == jsonnet_every - 1 {
            (
                format!("{name}.jsonnet"),
                jsonnet_service(&name, team, &mut rng),
            )
        } else {
            (
                format!("{name}.yaml"),
                yaml_service(index, &name, team, &mut rng),
            )
        };
        std::fs::write(root.join("services").join(team).join(file), text)
            .expect("writing a manifest");
    }
}

fn yaml_service(index: usize, name: &str, team: &str, rng: &mut Rng) -> String {
    let framework_index = rng.below(FRAMEWORKS.len());
    let framework = FRAMEWORKS[framework_index];
    let grpc = framework == "grpc";
    let mut y = String::with_capacity(2048);
    let _ = writeln!(y, "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:");
    let _ = writeln!(y, "  name: {name}\n  team: {team}");
    let _ = writeln!(
        y,
        "  description: Handles {} for the shop.",
        name.replace('-', " ")
    );
    if rng.chance(70) {
        let tier = rng.pick(&["critical", "standard", "batch"]);
        let _ = writeln!(
            y,
            "  labels: {{tier: {tier}, cost_center: cc-{}}}",
            index % 40
        );
    }
    let _ = writeln!(y, "spec:");
    let _ = writeln!(y, "  language: {}", LANGUAGES[framework_index]);
    let _ = writeln!(y, "  framework: {framework}");
    let environments: &[&str] = if rng.chance(25) {
        let _ = writeln!(y, "  environments: [staging, production]");
        &ENVIRONMENTS[1..]
    } else {
        &ENVIRONMENTS
    };
    // Most services use the platform's Kubernetes discovery; some list
    // their targets (static), some have them rewritten by tooling (file_sd).
    let discovery = match rng.below(100) {
        0..15 => Some("static"),
        15..25 => Some("file_sd"),
        _ => None,
    };
    let port = 8000 + rng.below(1000);
    if let Some(discovery) = discovery {
        let _ = writeln!(
            y,
            "  metrics: {{port: {port}, path: /metrics, discovery: {discovery}}}"
        );
        let _ = writeln!(y, "  targets:");
        for env in environments {
            let _ = writeln!(
                y,
                "    {env}: [\"{name}-0.{env}.bench.internal:{port}\", \"{name}-1.{env}.bench.internal:{port}\"]"
            );
        }
    } else if rng.chance(60) {
        let path = rng.pick(&["/metrics", "/actuator/prometheus", "/-/metrics"]);
        let _ = writeln!(y, "  metrics: {{port: {port}, path: {path}}}");
    }
    let ingress = rng.chance(60);
    if ingress {
        let kind = INGRESSES[rng.below(INGRESSES.len())];
        let _ = writeln!(
            y,
            "  ingress: {{kind: {kind}, name: {}}}",
            name.replace('-', "_")
        );
    }

    let internal = if index == 0 {
        0
    } else {
        rng.below(4).min(index)
    };
    let externals = rng.below(3);
    if internal + externals > 0 {
        let _ = writeln!(y, "  dependencies:");
        let mut seen = Vec::new();
        for _ in 0..internal {
            // Mostly the services just before this one, sometimes anywhere earlier.
            let other = if rng.chance(70) {
                index - 1 - rng.below(index.min(20))
            } else {
                rng.below(index)
            };
            if !seen.contains(&other) {
                seen.push(other);
                let _ = writeln!(y, "    - service: {}", service_name(other));
            }
        }
        for external in EXTERNALS
            .iter()
            .skip(rng.below(EXTERNALS.len()))
            .take(externals)
        {
            let _ = writeln!(y, "    - name: {external}");
        }
    }

    let _ = writeln!(y, "  slos:");
    let objective = rng.pick(&["99", "99.5", "99.9", "99.95"]);
    let window = rng.pick(&["30d", "28d", "30d", "7d"]);
    let _ = writeln!(
        y,
        "    - name: availability\n      objective: {objective}\n      window: {window}\n      indicator: {{type: availability}}"
    );
    if rng.chance(70) {
        let threshold = rng.pick(&["100ms", "250ms", "500ms", "1s"]);
        let objective = rng.pick(&["95", "98", "99"]);
        let _ = writeln!(
            y,
            // Declared buckets: a paging service's threshold must be one.
            "    - name: latency\n      objective: {objective}\n      indicator: {{type: latency, threshold: {threshold}, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5]}}"
        );
    }
    if rng.chance(30) {
        let metric = name.replace('-', "_");
        let _ = writeln!(
            y,
            "    - name: business\n      objective: 99.5\n      description: Work items succeed, not only requests.\n      indicator:\n        type: ratio\n        errors: sum(rate({metric}_failed_total{{job=\"{name}\"}}[{{{{window}}}}])) by (env)\n        total: sum(rate({metric}_total{{job=\"{name}\"}}[{{{{window}}}}])) by (env)"
        );
    }

    if rng.chance(50) {
        let _ = writeln!(y, "  alerts:");
        let _ = writeln!(y, "    page: {}", rng.chance(50));
        if ingress && rng.chance(50) {
            let _ = writeln!(y, "    proxy_error_ratio: {}%", 1 + rng.below(5));
        }
        if rng.chance(30) {
            let _ = writeln!(y, "    unavailable_for: {}m", 1 + rng.below(10));
        }
        if rng.chance(50) {
            let _ = writeln!(y, "    runbook_url: https://runbooks.bench.example/{name}");
        }
    }

    match rng.below(7) {
        0 => {
            let _ = writeln!(
                y,
                "  logs:\n    format: grok\n    pattern: \"%{{TIMESTAMP_ISO8601:timestamp}} %{{LOGLEVEL:level}} %{{GREEDYDATA:message}}\"\n    retention: 30d"
            );
        }
        n => {
            let format = [
                "json", "json", "logfmt", "nginx", "apache", "syslog", "json",
            ][n];
            let _ = writeln!(y, "  logs: {{format: {format}}}");
        }
    }

    if rng.chance(40) {
        let _ = writeln!(y, "  loadtest:\n    scenarios:");
        let _ = writeln!(
            y,
            "      - name: steady\n        rate: {}/s\n        duration: 1m\n        requests:",
            5 + rng.below(50)
        );
        if grpc {
            let _ = writeln!(
                y,
                "          - path: bench.{}.v1.Service/Get\n            body: '{{\"id\": \"load-test\"}}'",
                name.replace('-', "_")
            );
        } else {
            let _ = writeln!(y, "          - {{method: GET, path: /items}}");
            let _ = writeln!(
                y,
                "          - method: POST\n            path: /items\n            body: '{{\"name\": \"x\"}}'\n            headers: {{Content-Type: application/json}}"
            );
        }
    }
    y
}

fn jsonnet_service(name: &str, team: &str, rng: &mut Rng) -> String {
    let objective = rng.pick(&["99", "99.5", "99.9"]);
    format!(
        r#"local obsgen = import 'obsgen.libsonnet';
local job = '{name}';

obsgen.service(job, '{team}', 'Written in Jsonnet.') + {{
  metadata+: {{ labels: {{ tier: 'standard' }} }},
  spec+: {{
    language: 'rust',
    framework: 'http',
    metrics: {{ port: 9100 }},
    dependencies: [{{ name: 'elasticsearch' }}],
    slos: [
      obsgen.slo.availability({objective}),
      obsgen.slo.latency(99, '100ms'),
      obsgen.slo.ratio(
        'fresh-index',
        99,
        'sum(rate(stale_results_total{{job="%s"}}[{{{{window}}}}])) by (env)' % job,
        'sum(rate(results_total{{job="%s"}}[{{{{window}}}}])) by (env)' % job,
      ),
    ],
    logs: {{ format: 'json' }},
  }},
}}
"#
    )
}
