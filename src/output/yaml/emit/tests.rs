//! The emitter against serde-saphyr, byte for byte, on the shapes obsgen
//! serializes and on strings chosen to hit every quoting and block rule.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use serde_saphyr::LitStr;

/// Asserts the emitter writes what serde-saphyr writes, without falling back.
fn same<T: Serialize>(value: &T) {
    let expected = serde_saphyr::to_string(value).unwrap();
    let mut actual = String::new();
    super::to_string_into(&mut actual, value).unwrap_or_else(|error| {
        panic!("emitter gave up ({error}); serde-saphyr wrote:\n{expected}")
    });
    assert_eq!(
        actual, expected,
        "\n--- emitter:\n{actual}\n--- serde-saphyr:\n{expected}"
    );
}

const NASTY: &[&str] = &[
    "",
    " ",
    "true",
    "True",
    "TRUE",
    "false",
    "null",
    "Null",
    "NULL",
    "~",
    "yes",
    "Yes",
    "no",
    "No",
    "on",
    "ON",
    "off",
    "Off",
    "y",
    "Y",
    "n",
    "N",
    "nan",
    "NaN",
    ".nan",
    "inf",
    "-inf",
    "+inf",
    ".inf",
    "-.inf",
    "1.0",
    "1",
    "-1",
    "+1",
    ".5",
    "1e3",
    "1E3",
    "1e+3",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "_1",
    "_0x1F",
    "_1e3",
    "_e",
    "__name__",
    "__address__",
    "__param_target",
    "1:30",
    "12:30:45",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "<<",
    "=",
    "---",
    "...",
    "--- x",
    "#x",
    "a #b",
    "a#b",
    "x: y",
    "x:y",
    "x:",
    "key:",
    "http://host:9090/path",
    "- z",
    "-z",
    "-",
    ".",
    "#",
    "?",
    "? x",
    "?x",
    ":",
    ":x",
    ",",
    "a,b",
    "[a]",
    "a[0]",
    "{a}",
    "{{ $labels.env }}",
    "{{ $value | humanizePercentage }}",
    "@",
    "@x",
    "`x`",
    "*",
    "*a",
    "&a",
    "!t",
    "!!str",
    "%",
    "%x",
    "|",
    "|x",
    ">",
    ">x",
    "'",
    "'x'",
    "\"",
    "\"x\"",
    "it's",
    "a\"b",
    "back\\slash",
    "\\",
    "a\nb",
    "a\n",
    "a\n\n",
    "a\n\n\n",
    "\n",
    "\n\n",
    "\na",
    "  a\nb",
    "a\n  b",
    "\ta\nb",
    "a\tb",
    "a\r\nb",
    "a\rb",
    " a",
    "a ",
    "a  b",
    "  ",
    "tab\t",
    "\ttab",
    "ünïcödé",
    "日本語",
    "emoji 🎉",
    "a\u{85}b",
    "a\u{2028}b",
    "\u{feff}x",
    "a\u{0}b",
    "a\u{7}b",
    "a\u{1b}b",
    "a\u{7f}b",
    "a\u{9f}b",
    "ü\nline",
    "x\u{0}\ny",
    "job:http_requests:rate5m",
    "sum(rate(http_requests_total{job=\"api\"}[5m])) by (le)",
    "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 0.5",
    "a very long annotation summary that goes well past the eighty column folding width of serde",
    "averyveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryverylongword1",
    "   leading spaces and a long line that is longer than eighty characters for folding rules",
    "trailing spaces and a long line that is longer than eighty characters for folding rules   ",
    "a long line: with a colon space that is longer than eighty characters for the folding rule",
    "multi\nline\nwith a very long line that is longer than eighty characters for the folding rules",
    "ascii exactly eighty characters long for the fast path boundary check right here!",
    "0",
    "5",
    "30",
    "99.9",
    "1.",
    "1.2.3",
    "007",
    "12345678901234567890",
    "1..2",
    "9e9",
    "Job {{ $labels.job }} is up, but `total`, which the SLO is computed from, has had no series for 10m: its recordings are empty. Check \"names\" and \\ paths.",
    "short: one with \"quotes\" and \\",
    "trailing colon space: ",
    "x:  ",
    ": leading",
    "a long line that ends in a colon and a space and is longer than eighty chars: ",
    "ascii exactly eighty-one characters long for the fast path boundary check right here",
    // Paths and durations, written plain without serde-saphyr's help.
    "/metrics",
    "/-/metrics",
    "/",
    "//",
    "/a: b",
    "/a #b",
    "/a:",
    "/ a ",
    "../rules/a.yml",
    "./x",
    "../",
    "./",
    ".../x",
    "0s",
    "1h",
    "1h30m",
    "500ms",
    "30d",
    "1w",
    "1y",
    "1d2",
    "1e5",
    "0x1",
    "0o7",
    "0b1",
    "1_000h",
    "99999999999999999999999999h",
];

#[derive(Serialize)]
struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alert: Option<String>,
    expr: Expr,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    for_: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, String>>,
}

struct Expr(String);

impl Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LitStr(&self.0).serialize(serializer)
    }
}

#[derive(Serialize)]
struct Group {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval: Option<String>,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Fast,
    SlowAndSteady,
}

#[derive(Serialize)]
struct Everything {
    text: String,
    literal: Expr,
    list: Vec<String>,
    literals: Vec<Expr>,
    nested: Vec<Vec<String>>,
    map: BTreeMap<String, String>,
    maps: Vec<BTreeMap<String, Expr>>,
    empty_list: Vec<String>,
    empty_map: BTreeMap<String, String>,
    empty_lists: Vec<Vec<String>>,
    empty_maps: Vec<BTreeMap<String, String>>,
    none: Option<String>,
    unit: (),
    mode: Mode,
    modes: Vec<Mode>,
    char: char,
    floats: Vec<f64>,
    float_map: BTreeMap<String, f64>,
    ints: (i8, i16, i32, i64, u8, u16, u32, u64),
    bools: [bool; 2],
    int_keys: BTreeMap<u32, String>,
    bool_keys: BTreeMap<bool, String>,
    last: Expr,
}

fn everything(s: &str) -> Everything {
    Everything {
        text: s.to_owned(),
        literal: Expr(s.to_owned()),
        list: vec![s.to_owned(), "ok".to_owned(), s.to_owned()],
        literals: vec![Expr(s.to_owned()), Expr("a\nb".to_owned())],
        nested: vec![
            vec![s.to_owned()],
            vec![],
            vec!["x".to_owned(), s.to_owned()],
        ],
        map: BTreeMap::from([(s.to_owned(), s.to_owned()), ("k".to_owned(), s.to_owned())]),
        maps: vec![
            BTreeMap::from([
                (s.to_owned(), Expr(s.to_owned())),
                ("z".to_owned(), Expr(s.to_owned())),
            ]),
            BTreeMap::new(),
        ],
        empty_list: vec![],
        empty_map: BTreeMap::new(),
        empty_lists: vec![vec![], vec![]],
        empty_maps: vec![BTreeMap::new()],
        none: None,
        unit: (),
        mode: Mode::SlowAndSteady,
        modes: vec![Mode::Fast, Mode::SlowAndSteady],
        char: s.chars().next().unwrap_or('x'),
        floats: vec![
            0.5,
            1.0,
            99.9,
            0.0,
            -0.0,
            1e21,
            1e-7,
            123_456_789.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ],
        float_map: BTreeMap::from([("half".to_owned(), 0.5), ("nine".to_owned(), 99.9)]),
        ints: (
            i8::MIN,
            i16::MAX,
            -1,
            i64::MIN,
            u8::MAX,
            0,
            u32::MAX,
            u64::MAX,
        ),
        bools: [true, false],
        int_keys: BTreeMap::from([(0, s.to_owned()), (42, "x".to_owned())]),
        bool_keys: BTreeMap::from([(true, s.to_owned())]),
        last: Expr(s.to_owned()),
    }
}

fn rule_file(s: &str) -> RuleFile {
    let labels = BTreeMap::from([
        ("severity".to_owned(), "page".to_owned()),
        (s.to_owned(), s.to_owned()),
    ]);
    RuleFile {
        groups: vec![
            Group {
                name: s.to_owned(),
                interval: Some("30s".to_owned()),
                rules: vec![
                    Rule {
                        record: Some("job:http_requests:rate5m".to_owned()),
                        alert: None,
                        expr: Expr(format!("sum(rate(x[5m]))\n  by ({s})")),
                        for_: None,
                        labels: BTreeMap::new(),
                        annotations: None,
                    },
                    Rule {
                        record: None,
                        alert: Some(s.to_owned()),
                        expr: Expr(s.to_owned()),
                        for_: Some("5m".to_owned()),
                        labels: labels.clone(),
                        annotations: Some(BTreeMap::from([
                            ("summary".to_owned(), s.to_owned()),
                            ("description".to_owned(), format!("{s}\n{s}")),
                        ])),
                    },
                ],
            },
            Group {
                name: "empty".to_owned(),
                interval: None,
                rules: vec![],
            },
        ],
    }
}

fn json_shapes(s: &str) -> serde_json::Value {
    json!({
        s: [
            {s: s, "list": [s, {s: [s]}], "empty": {}, "none": null},
            [s, [s, []], {}],
            [],
            {},
            {"deep": {"deeper": {"deepest": [s, {"k": s}]}}},
            1, -2, 0.5, 1.0, true, null
        ],
        "top": s,
        "empty_map": {},
        "empty_list": [],
        "seq_of_maps": [{"a": 1, "b": s}, {"c": {}}, {"d": []}, {"e": {"f": s}}],
    })
}

#[test]
fn nasty_strings_in_every_position() {
    for s in NASTY {
        same(&everything(s));
        same(&rule_file(s));
        same(&json_shapes(s));
        same(s);
        same(&LitStr(s));
        same(&vec![LitStr(s)]);
        same(&vec![vec![LitStr(s)]]);
        same(&BTreeMap::from([(*s, vec![LitStr(s)])]));
    }
}

#[test]
fn every_ascii_character_alone_and_in_company() {
    for byte in 0u8..=0x7f {
        let c = char::from(byte);
        for s in [
            format!("{c}"),
            format!("a{c}"),
            format!("{c}a"),
            format!("a{c}b"),
            format!("a {c} b"),
            format!("a{c} b"),
            format!("{c}{c}"),
            format!("_{c}1"),
            format!("_{c}x"),
            format!("x{c}"),
            format!("{c}\nb\n"),
            format!("a\n{c}"),
            format!("  {c}\nx"),
            format!("{c} "),
            // Long enough to fold were it plain-safe, with what needs escaping.
            format!("{c}{} \"q\" \\ end", "word ".repeat(20)),
            format!("{c}{{{{ $value }}}} of {}  ", "the requests ".repeat(8)),
        ] {
            same(&json_shapes(&s));
            same(&rule_file(&s));
        }
    }
}

#[test]
fn documents_of_one_value_and_empty_collections() {
    same(&json!(null));
    same(&json!(1));
    same(&json!("x"));
    same(&json!([]));
    same(&json!({}));
    same(&json!([[]]));
    same(&json!([{}]));
    same(&json!([[[1]]]));
    same(&json!({"a": [[{}]]}));
    same(&RuleFile { groups: vec![] });
    same(&());
    same(&Some(1));
    same(&None::<u8>);
}

#[test]
fn what_it_does_not_model_is_an_error_not_a_panic() {
    let mut out = String::new();
    assert!(super::to_string_into(&mut out, &serde_saphyr::FoldStr("x")).is_err());
    #[derive(Serialize)]
    enum WithData {
        Variant(u8),
    }
    assert!(super::to_string_into(&mut out, &WithData::Variant(1)).is_err());
    let long_key = "k".repeat(2000) + " x";
    let mut fallback = String::new();
    let _ = super::to_string_into(&mut fallback, &BTreeMap::from([(long_key, 1)]));
}

#[test]
fn unsized_maps_from_flatten() {
    #[derive(Serialize)]
    struct Flat {
        name: String,
        #[serde(flatten)]
        rest: BTreeMap<String, String>,
    }
    #[derive(Serialize)]
    struct Holder {
        first: Vec<String>,
        flat: Flat,
        flats: Vec<Flat>,
        after: Flat,
    }
    for s in ["x", "a\nb", "true", ""] {
        for rest in [
            BTreeMap::new(),
            BTreeMap::from([(s.to_owned(), s.to_owned())]),
        ] {
            let flat = || Flat {
                name: s.to_owned(),
                rest: rest.clone(),
            };
            same(&Holder {
                first: vec![s.to_owned()],
                flat: flat(),
                flats: vec![flat(), flat()],
                after: flat(),
            });
        }
    }
}

#[test]
fn every_short_string_over_a_troublesome_alphabet() {
    const ALPHABET: [char; 14] = [
        'a', 'y', '1', '0', ' ', ':', '.', '#', '-', '_', '"', '\\', 'x', '\n',
    ];
    let mut strings = vec![String::new()];
    let mut previous = vec![String::new()];
    for _ in 0..3 {
        let next: Vec<String> = previous
            .iter()
            .flat_map(|s| ALPHABET.iter().map(move |c| format!("{s}{c}")))
            .collect();
        strings.extend(next.iter().cloned());
        previous = next;
    }
    for s in &strings {
        same(&json_shapes(s));
        same(&rule_file(s));
    }
}

#[test]
fn long_lines_fold_where_serde_saphyr_folds_them() {
    // Words of every length up to past the width, runs of one to three
    // spaces, and lines that end the folding with a word longer than it.
    let mut seed = 0x9e37_79b9_u32;
    let mut next = move |below: u32| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed % below
    };
    for _ in 0..3000 {
        let mut s = String::from("a");
        let target = 81 + next(260) as usize;
        while s.len() < target {
            let spaces = [1, 1, 1, 1, 2, 3][next(6) as usize];
            s.push_str(&" ".repeat(spaces));
            let word = if next(40) == 0 {
                90
            } else {
                1 + next(14) as usize
            };
            for _ in 0..word {
                s.push(char::from(b"abz{}$.=/%-_0"[next(13) as usize]));
            }
        }
        same(&json_shapes(&s));
        same(&rule_file(&s));
    }
}
