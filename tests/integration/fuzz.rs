//! No input may make obsgen panic or hang: deterministic mutations of the
//! example manifests (byte flips, truncations, deleted, duplicated and
//! swapped lines, hostile scalars) go through the whole pipeline
//! in-process, and any panic fails the test with the input that caused it.
//!
//! Two harnesses:
//! - on disk, a few hundred rounds over the whole example repository,
//!   Jsonnet included;
//! - in memory ([`obsgen::compile::compile_texts`]), much faster, over
//!   arbitrary bytes, stacked grammar-aware mutations of valid manifests
//!   (one service and the platform) and manifests generated field by
//!   field from hostile values, after replaying the committed corpus
//!   `tests/fuzz-corpus/`. `cargo test` runs a few seconds of it; a long
//!   run sets `OBSGEN_FUZZ_ROUNDS` (and `OBSGEN_FUZZ_SEED`), see
//!   `docs/reliability.md`.
//!
//! The generator is a fixed-seed xorshift, so a failure reproduces exactly.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{TempDir, copy_tree, repo, walk};

const ROUNDS: usize = 400;
const SEED: u64 = 0x0b5e_6e17_d00d_f00d;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values that have broken parsers before: huge, negative, non-finite,
/// empty, wrong-typed, YAML tags and anchors, unbalanced brackets, PromQL
/// and Jsonnet fragments, non-ASCII.
const HOSTILE: &[&str] = &[
    "",
    "~",
    "null",
    "-1",
    "0",
    "1e400",
    ".nan",
    "-.inf",
    "18446744073709551616",
    "99999999999999999999d",
    "0s",
    "1ms",
    "100",
    "'100%'",
    "0/s",
    "99999999999999999999/s",
    "[]",
    "{}",
    "[[[",
    "}",
    "&a x",
    "*a",
    "!!binary AAAA",
    "!!str",
    "? x",
    "'unterminated",
    "\"\\u0000\"",
    "\"\\x1b[31m\"",
    "{{window}}",
    "%{",
    "sum(rate(x[{{window}}]))",
    "rate(",
    "'{{'",
    "error 'boom'",
    "std.extVar('x')",
    "import 'nothing.libsonnet'",
    "Ünïcödé",
    "a:b:c",
    ":8080",
    "host:0",
    "../../etc/passwd",
    "/",
    "- x",
];

fn mutate(rng: &mut XorShift, text: &[u8]) -> (String, Vec<u8>) {
    if text.is_empty() {
        return ("empty".to_string(), Vec::new());
    }
    let mut bytes = text.to_vec();
    let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
    match rng.below(8) {
        0 => {
            let at = rng.below(bytes.len());
            let byte = (rng.next() & 0xff) as u8;
            if let Some(slot) = bytes.get_mut(at) {
                *slot = byte;
            }
            (format!("byte {at} := {byte:#04x}"), bytes)
        }
        1 => {
            let at = rng.below(bytes.len() + 1);
            bytes.truncate(at);
            (format!("truncated at {at}"), bytes)
        }
        2 => {
            let at = rng.below(lines.len());
            let kept: Vec<&[u8]> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, l)| *l)
                .collect();
            (format!("deleted line {}", at + 1), kept.join(&b'\n'))
        }
        3 => {
            let at = rng.below(lines.len());
            let mut copy = lines.clone();
            copy.insert(at, lines[at]);
            (format!("duplicated line {}", at + 1), copy.join(&b'\n'))
        }
        4 => {
            // Swap the values of two `key: value` lines.
            let pairs: Vec<usize> = (0..lines.len())
                .filter(|i| lines[*i].windows(2).any(|w| w == b": "))
                .collect();
            if pairs.len() < 2 {
                return ("unchanged".to_string(), bytes);
            }
            let a = *rng.pick(&pairs);
            let b = *rng.pick(&pairs);
            let split = |line: &[u8]| {
                let at = line.windows(2).position(|w| w == b": ").expect("a pair") + 2;
                (line[..at].to_vec(), line[at..].to_vec())
            };
            let (key_a, value_a) = split(lines[a]);
            let (key_b, value_b) = split(lines[b]);
            let mut copy: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
            copy[a] = [key_a, value_b].concat();
            copy[b] = [key_b, value_a].concat();
            (
                format!("swapped values of lines {} and {}", a + 1, b + 1),
                copy.join(&b'\n'),
            )
        }
        5 => {
            // Replace a value with a hostile one.
            let at = rng.below(lines.len());
            let value = *rng.pick(HOSTILE);
            let line = lines[at];
            let replaced = match line.windows(2).position(|w| w == b": ") {
                Some(colon) => [&line[..colon + 2], value.as_bytes()].concat(),
                None => [line, value.as_bytes()].concat(),
            };
            let mut copy: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
            copy[at] = replaced;
            (
                format!("line {} value := {value:?}", at + 1),
                copy.join(&b'\n'),
            )
        }
        6 => {
            let at = rng.below(bytes.len() + 1);
            let value = *rng.pick(HOSTILE);
            bytes.splice(at..at, value.bytes());
            (format!("inserted {value:?} at {at}"), bytes)
        }
        _ => {
            // Re-indent a line: YAML's structure is its indentation.
            let at = rng.below(lines.len());
            let mut copy: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
            if rng.below(2) == 0 {
                copy[at].splice(0..0, *b"  ");
            } else if copy[at].starts_with(b" ") {
                copy[at].remove(0);
            }
            (format!("re-indented line {}", at + 1), copy.join(&b'\n'))
        }
    }
}

fn compile_without_panic(root: &Path) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| {
        let _ = obsgen::compile::compile(root);
    }))
    .map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".to_string())
    })
}

#[test]
fn no_mutation_of_the_example_makes_obsgen_panic() {
    let example = repo().join("examples/acme");
    let dir = TempDir::new("fuzz");
    copy_tree(&example, dir.path());
    let _ = std::fs::remove_dir_all(dir.join("generated"));
    let files: Vec<(String, Vec<u8>)> = walk(dir.path())
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(dir.path())
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = std::fs::read(&path).expect("reading a manifest");
            (relative, bytes)
        })
        .collect();
    assert!(files.len() >= 5, "the example's manifests");

    let mut rng = XorShift(SEED);
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let (relative, original) = rng.pick(&files);
        let (mutation, mutated) = mutate(&mut rng, original);
        let path = dir.join(relative);
        std::fs::write(&path, &mutated).expect("writing a mutation");
        if let Err(message) = compile_without_panic(dir.path()) {
            failures.push(format!(
                "round {round}: {relative}, {mutation}: panicked with {message}\n--- input ---\n{}\n",
                String::from_utf8_lossy(&mutated)
            ));
        }
        std::fs::write(&path, original).expect("restoring a manifest");
    }
    assert!(
        failures.is_empty(),
        "{} of {ROUNDS} mutations panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The default number of in-memory executions in `cargo test`: a few seconds.
const SHORT_ROUNDS: u64 = 600;

/// One execution may take at most this long: past it, it counts as a hang.
const HANG: Duration = Duration::from_secs(10);

/// Hostile field values for generated manifests (as YAML scalars).
const FIELD_VALUES: &[&str] = &[
    "checkout",
    "payments",
    "\"a\\\"} or vector(1) # {{ $value }}\"",
    "\"\\u2028 </script> `x` ${y} \\\\ \\n\"",
    "'{{ template \"x\" . }}'",
    "99.9",
    "100",
    "0",
    "-5",
    "1e308",
    "30s",
    "0s",
    "1ms",
    "999999999999y",
    "300ms",
    "3%",
    "[]",
    "{}",
    "~",
    "true",
    "\"sum(rate(x[{{window}}]))\"",
    "\"sum(rate(x[{{window}}])) / on() group_left sum(y)\"",
    "\"host{{x}}:65535\"",
    "\"user:pw@host:80\"",
    "\"[::1]:9090\"",
    "production",
    "staging",
    "nginx",
    "grpc",
    "json",
    "grok",
    "http",
    "\"%{WORD:x}\"",
    "10/s",
    "GET",
    "/items",
];

const FIELDS: &[&str] = &[
    "metadata.description",
    "metadata.labels.tier",
    "metadata.labels.__x",
    "spec.language",
    "spec.framework",
    "spec.environments",
    "spec.metrics.port",
    "spec.metrics.path",
    "spec.metrics.scrape_interval",
    "spec.metrics.discovery",
    "spec.targets.production",
    "spec.ingress.kind",
    "spec.ingress.name",
    "spec.dependencies",
    "spec.slos",
    "spec.alerts.page",
    "spec.alerts.proxy_error_ratio",
    "spec.alerts.unavailable_for",
    "spec.alerts.runbook_url",
    "spec.logs.format",
    "spec.logs.pattern",
    "spec.logs.retention",
    "spec.loadtest.protocol",
];

/// A service manifest built field by field from hostile values: valid
/// structure, values anywhere from right to absurd.
fn generated_manifest(rng: &mut XorShift) -> Vec<u8> {
    let mut tree: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for _ in 0..rng.below(8) {
        let field = *rng.pick(FIELDS);
        let value = match field {
            "spec.environments" => {
                format!("[{}]", rng.pick(&["production", "staging", "nowhere", ""]))
            }
            "spec.targets.production" => format!("[{}]", rng.pick(FIELD_VALUES)),
            "spec.dependencies" => format!(
                "[{{{}: {}}}]",
                rng.pick(&["service", "name"]),
                rng.pick(FIELD_VALUES)
            ),
            "spec.slos" => {
                let indicator = match rng.below(3) {
                    0 => "{type: availability}".to_string(),
                    1 => format!("{{type: latency, threshold: {}}}", rng.pick(FIELD_VALUES)),
                    _ => format!(
                        "{{type: ratio, errors: {}, total: {}}}",
                        rng.pick(FIELD_VALUES),
                        rng.pick(FIELD_VALUES)
                    ),
                };
                format!(
                    "[{{name: {}, objective: {}, window: {}, indicator: {indicator}}}]",
                    rng.pick(&["availability", "latency", "x", "Bad Name"]),
                    rng.pick(FIELD_VALUES),
                    rng.pick(&["30d", "7d", "1h", "0s"])
                )
            }
            _ => rng.pick(FIELD_VALUES).to_string(),
        };
        tree.insert(field.to_string(), value);
    }
    let mut text = String::from("apiVersion: obsgen.dev/v1\nkind: Service\n");
    let mut open: Vec<String> = Vec::new();
    for (field, value) in [
        ("metadata.name".to_string(), "checkout".to_string()),
        ("metadata.team".to_string(), "payments".to_string()),
    ]
    .into_iter()
    .chain(tree)
    {
        let parts: Vec<&str> = field.split('.').collect();
        let (leaf, parents) = parts.split_last().expect("a field");
        let common = open.iter().zip(parents).take_while(|(a, b)| a == b).count();
        open.truncate(common);
        for parent in &parents[common..] {
            text.push_str(&format!("{}{parent}:\n", "  ".repeat(open.len())));
            open.push(parent.to_string());
        }
        text.push_str(&format!("{}{leaf}: {value}\n", "  ".repeat(open.len())));
    }
    if !text.contains("\nspec:") {
        text.push_str("spec: {}\n");
    }
    text.into_bytes()
}

/// Arbitrary bytes, biased towards YAML's punctuation.
fn random_bytes(rng: &mut XorShift) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b":",
        b" ",
        b"\n",
        b"- ",
        b"[",
        b"]",
        b"{",
        b"}",
        b"&a",
        b"*a",
        b"!!",
        b"\"",
        b"'",
        b"#",
        b"|",
        b">",
        b"?",
        b"\t",
        b"\xff",
        b"\xc3",
        b"\xef\xbb\xbf",
    ];
    let len = rng.below(300);
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        if rng.below(3) == 0 {
            bytes.push((rng.next() & 0xff) as u8);
        } else {
            let token: &[u8] = rng.pick::<&[u8]>(TOKENS);
            bytes.extend_from_slice(token);
        }
    }
    bytes
}

/// One generated input: what it is, the platform's bytes, one service's.
struct Case {
    what: String,
    platform: Vec<u8>,
    service: Vec<u8>,
}

fn next_case(rng: &mut XorShift, platform: &[u8], services: &[Vec<u8>]) -> Case {
    let service = rng.pick(services).clone();
    match rng.below(10) {
        0 => Case {
            what: "random service bytes".into(),
            platform: platform.to_vec(),
            service: random_bytes(rng),
        },
        1 => {
            let (what, mutated) = stacked(rng, platform);
            Case {
                what: format!("platform: {what}"),
                platform: mutated,
                service,
            }
        }
        2 | 3 => Case {
            what: "generated manifest".into(),
            platform: platform.to_vec(),
            service: generated_manifest(rng),
        },
        _ => {
            let (what, mutated) = stacked(rng, &service);
            Case {
                what: format!("service: {what}"),
                platform: platform.to_vec(),
                service: mutated,
            }
        }
    }
}

/// One to four mutations on top of each other.
fn stacked(rng: &mut XorShift, text: &[u8]) -> (String, Vec<u8>) {
    let mut bytes = text.to_vec();
    let mut steps = Vec::new();
    for _ in 0..=rng.below(4) {
        let (what, next) = mutate(rng, &bytes);
        steps.push(what);
        bytes = next;
    }
    (steps.join("; "), bytes)
}

/// Runs one input through load → validate → compile; `Err` on a panic or
/// a hang, else what the run did in short (for choosing corpus inputs).
fn run_case(platform: &[u8], service: &[u8]) -> Result<String, String> {
    let services = vec![("services/fuzz.yaml".to_string(), service.to_vec())];
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| {
        match obsgen::compile::compile_texts(platform, &services) {
            Ok((compilation, output)) => {
                let mut kinds: Vec<String> = compilation
                    .diagnostics
                    .iter()
                    .map(|d| {
                        let words: String = d.message.split('`').step_by(2).collect();
                        words.chars().take(24).collect::<String>()
                    })
                    .collect();
                kinds.sort();
                kinds.dedup();
                format!(
                    "{} files; {}",
                    output.map_or(0, |o| o.len()),
                    kinds.join("|")
                )
            }
            Err(error) => format!("error: {error}"),
        }
    }));
    if let Err(payload) = &result {
        return Err(payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".to_string()));
    }
    if started.elapsed() > HANG {
        return Err(format!("took {:?}", started.elapsed()));
    }
    result.map_err(|_| "unreachable".to_string())
}

fn corpus_dir() -> std::path::PathBuf {
    repo().join("tests").join("fuzz-corpus")
}

/// The valid inputs mutations start from: the example's platform and YAML services.
fn seeds() -> (Vec<u8>, Vec<Vec<u8>>) {
    let example = repo().join("examples/acme");
    let platform = std::fs::read(example.join("obsgen.yaml")).expect("the example platform");
    let services: Vec<Vec<u8>> = walk(&example.join("services"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| std::fs::read(p).expect("a manifest"))
        .collect();
    (platform, services)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn the_committed_fuzz_corpus_runs_clean() {
    let (platform, _) = seeds();
    let mut count = 0;
    let mut failures = Vec::new();
    for path in walk(&corpus_dir()) {
        let bytes = std::fs::read(&path).expect("a corpus file");
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        // `platform-*` files replace the platform, the others a service.
        let result = if name.starts_with("platform-") {
            run_case(&bytes, b"apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {name: a, team: payments}\nspec: {}\n")
        } else {
            run_case(&platform, &bytes)
        };
        if let Err(message) = result {
            failures.push(format!("{name}: {message}"));
        }
        count += 1;
    }
    assert!(count >= 20, "tests/fuzz-corpus/ holds {count} inputs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_generated_or_mutated_input_makes_obsgen_panic_or_hang() {
    let rounds = env_number("OBSGEN_FUZZ_ROUNDS", SHORT_ROUNDS);
    let seed = env_number("OBSGEN_FUZZ_SEED", SEED);
    let report_every = env_number("OBSGEN_FUZZ_REPORT", 0);
    let (platform, services) = seeds();
    assert!(services.len() >= 5, "the example's YAML manifests");
    let mut rng = XorShift(seed | 1);
    let started = Instant::now();
    let mut failures = Vec::new();
    // With `OBSGEN_FUZZ_SAVE=DIR`, each small input whose outcome is new
    // (its set of diagnostics in short) is saved there: how the committed
    // corpus was chosen.
    let save = std::env::var_os("OBSGEN_FUZZ_SAVE").map(std::path::PathBuf::from);
    let mut seen = std::collections::HashSet::new();
    for round in 0..rounds {
        let case = next_case(&mut rng, &platform, &services);
        let outcome = run_case(&case.platform, &case.service);
        if let (Some(dir), Ok(outcome)) = (&save, &outcome) {
            let platform_changed = case.platform != platform;
            let bytes = if platform_changed {
                &case.platform
            } else {
                &case.service
            };
            if bytes.len() <= 2048 && seen.insert(outcome.clone()) {
                let prefix = if platform_changed { "platform-" } else { "" };
                std::fs::create_dir_all(dir).expect("the corpus folder");
                std::fs::write(dir.join(format!("{prefix}{round:07}.yaml")), bytes)
                    .expect("saving a corpus input");
            }
        }
        if let Err(message) = outcome {
            failures.push(format!(
                "round {round} (seed {seed:#x}), {}: {message}\n--- platform ---\n{}\n--- service ---\n{}\n",
                case.what,
                String::from_utf8_lossy(&case.platform),
                String::from_utf8_lossy(&case.service)
            ));
            if failures.len() >= 5 {
                break;
            }
        }
        if report_every > 0 && (round + 1) % report_every == 0 {
            eprintln!(
                "fuzz: {} executions in {:.0} s, {} failures",
                round + 1,
                started.elapsed().as_secs_f64(),
                failures.len()
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
