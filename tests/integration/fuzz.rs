//! No input may make obsgen panic: a few hundred deterministic mutations
//! of the example manifests (byte flips, truncations, deleted, duplicated
//! and swapped lines, hostile scalars) go through the whole pipeline
//! in-process, and any panic fails the test with the input that caused it.
//!
//! The generator is a fixed-seed xorshift, so a failure reproduces exactly.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

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
