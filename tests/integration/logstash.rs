//! Generated Logstash pipelines and Elasticsearch/Kibana bodies, proven by
//! tools that are not obsgen's: every pipeline of both examples parsed by
//! `logstash-pipeline-parser` (a Logstash-grammar parser), the grok and
//! date patterns of each format run on real log lines by `pygrok` (a grok
//! implementation), hostile manifest strings shown inert or refused, team
//! roles shown never to reach another team's streams, and the API bodies
//! checked against JSON Schemas written from the Elasticsearch and Kibana
//! API documentation (`tests/logstash/schemas/`).
//!
//! The Python modules are installed by `scripts/tools.sh`; a missing one
//! fails these tests, it never skips them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::{TempDir, compile_example, obsgen, repo};

fn helper() -> std::path::PathBuf {
    repo().join("tests/logstash/check.py")
}

/// Runs the helper; panics with its output when it fails.
fn run_helper(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("python3")
        .arg(helper())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running python3 (install it, then scripts/tools.sh)");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("writing to the helper");
    } else {
        drop(child.stdin.take());
    }
    let output = child.wait_with_output().expect("waiting for the helper");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "a Python module is missing; run scripts/tools.sh:\n{stderr}"
    );
    assert!(
        output.status.success(),
        "check.py {} failed:\n{stderr}",
        args.join(" ")
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether the helper accepts the pipeline text (false: a parse error).
fn parses(text: &str) -> bool {
    let dir = TempDir::new("ls-parse");
    dir.write("p.conf", text);
    let file = dir.join("p.conf");
    Command::new("python3")
        .arg(helper())
        .arg("parse")
        .arg(&file)
        .output()
        .expect("running python3")
        .status
        .success()
}

/// Writes the `.conf` files of a set into `dir`; returns their paths.
fn write_pipelines(files: &BTreeMap<String, String>, dir: &TempDir) -> Vec<String> {
    files
        .iter()
        .filter(|(path, _)| path.starts_with("logstash/pipelines/") && path.ends_with(".conf"))
        .map(|(path, text)| {
            dir.write(path, text);
            dir.join(path).to_string_lossy().into_owned()
        })
        .collect()
}

fn texts(output: &obsgen::output::OutputSet) -> BTreeMap<String, String> {
    output
        .iter()
        .map(|(path, bytes)| {
            (
                path.to_string(),
                String::from_utf8_lossy(bytes).into_owned(),
            )
        })
        .collect()
}

#[test]
fn every_pipeline_of_both_examples_parses() {
    for example in ["acme", "acme-operator"] {
        let files = texts(&compile_example(example));
        let dir = TempDir::new("ls-examples");
        let paths = write_pipelines(&files, &dir);
        let services = std::fs::read_dir(repo().join("examples").join(example).join("services"))
            .map(|_| ())
            .is_ok();
        assert!(services);
        // The distributor, the unrouted pipeline and one per service.
        assert!(
            paths.iter().any(|p| p.ends_with("obsgen-distributor.conf")),
            "{paths:?}"
        );
        assert!(
            paths.iter().any(|p| p.ends_with("obsgen-unrouted.conf")),
            "{paths:?}"
        );
        assert!(
            paths.iter().filter(|p| p.contains("/svc-")).count() >= 2,
            "{paths:?}"
        );
        let args: Vec<&str> = std::iter::once("parse")
            .chain(paths.iter().map(String::as_str))
            .collect();
        let trees = run_helper(&args, None);
        assert_eq!(trees.lines().count(), paths.len(), "{example}");
        // pipelines.yml lists exactly the pipeline files.
        let listed = files["logstash/pipelines.yml"]
            .matches("pipeline.id:")
            .count();
        assert_eq!(listed, paths.len(), "{example}");
    }
}

#[test]
fn the_parser_rejects_broken_pipelines() {
    // The grammar check can fail: an unbalanced quote or brace is refused.
    assert!(parses("input { beats { port => 5044 } }\n"));
    assert!(!parses("input { beats { port => \"5044 } }\n"));
    assert!(!parses(
        "filter { mutate { add_field => { \"a\" => \"b\" } }\n"
    ));
}

/// A repository with one service per format, and the platform's own grok
/// pattern.
fn formats_repo() -> TempDir {
    let dir = TempDir::new("ls-formats");
    dir.write(
        "obsgen.yaml",
        "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments: [{name: prod-eu}, {name: eu}]\n  logging:\n    grok_patterns:\n      ACME_TRACE: \"[0-9a-f]{8}\"\n  teams: {a: {}, b: {}}\n",
    );
    for (name, logs) in [
        ("web", "{format: nginx}"),
        ("legacy", "{format: apache}"),
        ("box", "{format: syslog}"),
        ("pay", "{format: logfmt}"),
        ("api", "{format: json}"),
        (
            "custom",
            "{format: grok, pattern: '%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} \\[%{ACME_TRACE:trace}\\] %{GREEDYDATA:message}'}",
        ),
    ] {
        dir.write(
            &format!("services/{name}.yaml"),
            &format!(
                "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: {name}, team: a}}\nspec:\n  logs: {logs}\n"
            ),
        );
    }
    dir
}

fn compile(dir: &Path) -> obsgen::output::OutputSet {
    let (compilation, output) = obsgen::compile::compile(dir).expect("compiling");
    let errors: Vec<_> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    output.expect("an output set")
}

fn model(dir: &Path) -> obsgen::model::Model {
    obsgen::compile::check(dir)
        .expect("compiling")
        .model
        .expect("a valid repository")
}

#[test]
fn each_format_turns_real_lines_into_ecs_fields() {
    let dir = formats_repo();
    let model = model(dir.path());
    let service = |name: &str| model.service(name).expect("the service");
    let grok_case = |name: &str, line: &str, expect: Value| {
        let service = service(name);
        json!({
            "name": name,
            "kind": "grok",
            "pattern": obsgen::backend::logstash::grok_pattern(service).expect("a grok pattern"),
            "definitions": model.platform.logging.grok_patterns,
            "line": line,
            "expect": expect,
            "timestamp_field": service.logs.timestamp_field,
            "timestamp_formats": service.logs.timestamp_formats,
        })
    };
    let pay = service("pay");
    let cases = json!([
        grok_case(
            "web",
            r#"203.0.113.9 - alice [10/Oct/2024:13:55:36 -0700] "GET /items?id=1 HTTP/1.1" 200 2326 "https://shop.example/" "Mozilla/5.0 (X11; Linux x86_64)""#,
            json!({"source.address": "203.0.113.9", "user.name": "alice", "http.request.method": "GET",
                   "url.original": "/items?id=1", "http.version": "1.1", "http.response.status_code": "200",
                   "http.response.body.bytes": "2326", "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64)"}),
        ),
        grok_case(
            "legacy",
            r#"192.0.2.7 - - [03/Nov/2024:08:01:02 +0000] "POST /login HTTP/1.0" 302 - "-" "curl/8.5.0""#,
            json!({"source.address": "192.0.2.7", "http.request.method": "POST", "url.original": "/login",
                   "http.response.status_code": "302", "user_agent.original": "curl/8.5.0"}),
        ),
        grok_case(
            "box",
            "Oct  3 07:04:05 web-1 inventory[4242]: reserved 3 items",
            json!({"host.hostname": "web-1", "process.name": "inventory", "process.pid": "4242",
                   "message": "reserved 3 items"}),
        ),
        grok_case(
            "custom",
            "2024-10-03T07:04:05.123Z WARN [0af1c2d3] cache miss for key=a b",
            json!({"level": "WARN", "trace": "0af1c2d3", "message": "cache miss for key=a b"}),
        ),
        {
            "name": "pay",
            "kind": "logfmt",
            "line": r#"ts=2024-10-03T07:04:05Z level=warn msg="card declined" amount=12.5"#,
            "expect": {"level": "warn", "msg": "card declined", "amount": "12.5"},
            "timestamp_field": pay.logs.timestamp_field,
            "timestamp_formats": pay.logs.timestamp_formats,
        },
    ]);
    let report = run_helper(&["lines"], Some(&cases.to_string()));
    assert_eq!(report.matches(": ok").count(), 5, "{report}");

    // And the pipelines themselves carry those patterns, ECS mode and tag.
    let files = texts(&compile(dir.path()));
    let web = &files["logstash/pipelines/svc-web.conf"];
    assert!(
        web.contains("\"%{HTTPD_COMBINEDLOG}\"") && web.contains("ecs_compatibility => \"v8\"")
    );
    assert!(web.contains("\"dd/MMM/yyyy:HH:mm:ss Z\""));
    assert!(files["logstash/pipelines/svc-box.conf"].contains("\"%{SYSLOGLINE}\""));
    let custom = &files["logstash/pipelines/svc-custom.conf"];
    assert!(
        custom.contains("\"ACME_TRACE\" => \"[0-9a-f]{8}\""),
        "{custom}"
    );
    assert!(files["logstash/pipelines/svc-pay.conf"].contains("kv {"));
    let api = &files["logstash/pipelines/svc-api.conf"];
    assert!(api.contains("skip_on_invalid_json => true") && api.contains("_obsgen_parse_failure"));
    let dir2 = TempDir::new("ls-formats-parse");
    let paths = write_pipelines(&files, &dir2);
    let args: Vec<&str> = std::iter::once("parse")
        .chain(paths.iter().map(String::as_str))
        .collect();
    run_helper(&args, None);
}

const HOSTILE_PLATFORM: &str = "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {name: p}\nspec:\n  environments: [{name: prod}]\n  teams: {a: {}}\n";

/// Every string value in a parsed tree.
fn strings(tree: &Value, out: &mut Vec<String>) {
    match tree {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn hostile_strings_that_can_be_quoted_stay_inert() {
    let dir = TempDir::new("ls-hostile-ok");
    dir.write("obsgen.yaml", HOSTILE_PLATFORM);
    let label = r#"say "hi" } => { # not a comment"#;
    let pattern = r#"%{WORD:word} '} output { stdout {} } #' %{GREEDYDATA:message}"#;
    let format = "yyyy-MM-dd'T'HH:mm:ss } => { #";
    let service = format!(
        "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: evil\n  team: a\n  description: {desc}\n  labels:\n    tier: {label}\nspec:\n  logs:\n    format: grok\n    pattern: {pattern}\n    timestamp: {{field: ts, format: {format}}}\n",
        desc = serde_json::to_string("both \" and ' } => ${X} # \n and a \\").unwrap(),
        label = serde_json::to_string(label).unwrap(),
        pattern = serde_json::to_string(pattern).unwrap(),
        format = serde_json::to_string(format).unwrap(),
    );
    dir.write("services/evil.yaml", &service);
    let files = texts(&compile(dir.path()));
    let pipeline = &files["logstash/pipelines/svc-evil.conf"];
    let out = TempDir::new("ls-hostile-ok-parse");
    out.write("evil.conf", pipeline);
    let tree = run_helper(&["parse", &out.join("evil.conf").to_string_lossy()], None);
    let tree: Value = serde_json::from_str(tree.trim()).expect("the tree as JSON");
    let mut values = Vec::new();
    strings(&tree, &mut values);
    // Each hostile value is one whole string of the parsed pipeline.
    for value in [label, pattern, format] {
        assert!(
            values.iter().any(|v| v == value),
            "{value:?} not a string in {values:?}"
        );
    }
    // Nothing broke out: the pipeline still has exactly input, filter, output.
    let sections: Vec<&str> = tree
        .as_array()
        .expect("sections")
        .iter()
        .filter_map(|s| s.get(0).and_then(Value::as_str))
        .collect();
    assert_eq!(sections, ["input", "filter", "output"], "{pipeline}");
    assert!(!pipeline.contains("stdout {} }\n"));
    // The description (any bytes) only reaches JSON, escaped by serde.
    let search: Value =
        serde_json::from_str(&files["kibana/saved_searches/a/logs.evil.json"]).expect("JSON");
    assert_eq!(
        search["attributes"]["description"],
        "both \" and ' } => ${X} # \n and a \\"
    );
}

#[test]
fn hostile_strings_that_cannot_be_quoted_are_refused_with_their_position() {
    let cases = [
        (
            "labels:\n    tier: \"both \\\" and '\"",
            "metadata.labels.tier",
            "both kinds of quote",
        ),
        (
            "labels:\n    tier: \"%{[secret]}\"",
            "metadata.labels.tier",
            "field of the event",
        ),
        (
            "labels:\n    tier: \"line\\nbreak\"",
            "metadata.labels.tier",
            "line break",
        ),
        (
            "labels:\n    tier: \"${HOME}\"",
            "metadata.labels.tier",
            "environment or keystore",
        ),
        (
            "labels:\n    tier: \"ends\\\\\"",
            "metadata.labels.tier",
            "backslash",
        ),
    ];
    let logs_cases = [
        (
            "pattern: \"%{WORD:w} \\\\\"",
            "spec.logs.pattern",
            "backslash",
        ),
        (
            "pattern: \"%{WORD:w} ${X}\"",
            "spec.logs.pattern",
            "environment or keystore",
        ),
        (
            "pattern: \"%{WORD:w} \\\" '\"",
            "spec.logs.pattern",
            "both kinds of quote",
        ),
        (
            "pattern: \"%{NOPE:w}\"",
            "spec.logs.pattern",
            "unknown grok pattern `NOPE`",
        ),
        (
            "pattern: \"(a|b) %{WORD:w}\"",
            "spec.logs.pattern",
            "without a name",
        ),
        (
            "pattern: \"%{WORD:w}\"\n    timestamp: {format: \"yyyy\\n\"}",
            "spec.logs.timestamp.format",
            "line break",
        ),
    ];
    let mut all: Vec<(String, &str, &str)> = Vec::new();
    for (metadata, path, why) in cases {
        all.push((
            format!("apiVersion: obsgen.dev/v1\nkind: Service\nmetadata:\n  name: evil\n  team: a\n  {metadata}\n"),
            path,
            why,
        ));
    }
    for (logs, path, why) in logs_cases {
        all.push((
            format!("apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: evil, team: a}}\nspec:\n  logs:\n    format: grok\n    {logs}\n"),
            path,
            why,
        ));
    }
    for (manifest, path, why) in all {
        let dir = TempDir::new("ls-hostile-bad");
        dir.write("obsgen.yaml", HOSTILE_PLATFORM);
        dir.write("services/evil.yaml", &manifest);
        let run = obsgen(dir.path(), &["validate"]);
        run.code(1);
        let text = format!("{}{}", run.stdout, run.stderr);
        let located = text.lines().any(|line| {
            line.starts_with("error: services/evil.yaml:")
                && line.contains(&format!(": {path}: "))
                && line
                    .split(':')
                    .nth(2)
                    .is_some_and(|n| n.parse::<u32>().is_ok())
        });
        assert!(
            located,
            "no file:line:col error at {path} in:\n{text}\nfor:\n{manifest}"
        );
        assert!(text.contains(why), "{why:?} not in:\n{text}");
    }
}

/// Whether an Elasticsearch index pattern (`*` wildcards) matches `name`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len())
                    .any(|skip| matches(tail, &name[head.len() + skip..]))
        }
    }
}

#[test]
fn no_team_role_reaches_another_teams_service() {
    assert!(matches("logs-a-*", "logs-a-000001") && !matches("logs-a-*", "logs-ab-1"));
    for output in ["data_streams", "indices"] {
        let dir = TempDir::new("ls-roles");
        dir.write(
            "obsgen.yaml",
            &format!("apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {{name: p}}\nspec:\n  environments: [{{name: prod-eu}}, {{name: eu}}, {{name: prod}}]\n  logging:\n    elasticsearch: {{hosts: [\"http://es:9200\"], output: {output}}}\n  teams: {{a: {{}}, b: {{}}, a-b: {{}}, a_b: {{}}}}\n"),
        );
        // Names that are prefixes of each other, across teams.
        for (name, team) in [
            ("checkout", "a"),
            ("checkout-prod", "b"),
            ("checkout-v2", "b"),
            ("check", "a-b"),
            ("checkout-prod-eu", "a_b"),
        ] {
            dir.write(
                &format!("services/{name}.yaml"),
                &format!("apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: {name}, team: {team}}}\n"),
            );
        }
        let model = model(dir.path());
        let files = texts(&compile(dir.path()));
        // Every name another team's stream (or backing index) can have.
        let streams = |team: &str| -> Vec<String> {
            let mut names = Vec::new();
            for service in model.services.iter().filter(|s| s.team == team) {
                for env in &service.environments {
                    let target = model.platform.log_target(&service.name, &env.name);
                    names.push(format!(".ds-{target}-2024.10.03-000001"));
                    names.push(format!("{target}-000001"));
                    names.push(target);
                }
            }
            names
        };
        let teams = ["a", "b", "a-b", "a_b"];
        for team in teams {
            let role: Value = serde_json::from_str(
                &files[&format!("elasticsearch/roles/obsgen-logs-reader-{team}.json")],
            )
            .expect("a role");
            let granted: Vec<&str> = role["indices"]
                .as_array()
                .expect("indices")
                .iter()
                .flat_map(|entry| entry["names"].as_array().expect("names").iter())
                .filter_map(Value::as_str)
                .collect();
            assert!(!granted.is_empty(), "{team}");
            for own in streams(team)
                .iter()
                .filter(|n| !n.starts_with('.') && !n.ends_with("000001"))
            {
                assert!(
                    granted.iter().any(|p| matches(p, own)),
                    "{team} cannot read {own}"
                );
            }
            for other in teams.iter().filter(|t| **t != team) {
                for name in streams(other) {
                    for pattern in &granted {
                        assert!(
                            !matches(pattern, &name),
                            "{output}: team {team}'s `{pattern}` matches `{name}` of team {other}"
                        );
                    }
                }
            }
        }
        // Each team's space, roles and mapping are its own.
        let spaces: Vec<&String> = files
            .keys()
            .filter(|p| p.starts_with("kibana/spaces/"))
            .collect();
        assert_eq!(spaces.len(), teams.len(), "{spaces:?}");
    }
}

/// Validates `instance` against the schema file `tests/logstash/schemas/<name>`.
fn assert_valid(schema: &str, path: &str, instance: &Value) {
    let text = std::fs::read_to_string(repo().join("tests/logstash/schemas").join(schema))
        .expect("reading a schema");
    let schema: Value = serde_json::from_str(&text).expect("a JSON schema");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{path}: {errors:#?}");
}

#[test]
fn api_bodies_match_the_documented_shapes() {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for example in ["acme", "acme-operator"] {
        for (path, text) in texts(&compile_example(example)) {
            let schema = [
                ("elasticsearch/ilm/", "ilm-policy.json"),
                ("elasticsearch/roles/", "es-role.json"),
                ("elasticsearch/role_mappings/", "es-role-mapping.json"),
                ("elasticsearch/index_templates/", "index-template.json"),
                ("kibana/spaces/", "kibana-space.json"),
                ("kibana/roles/", "kibana-role.json"),
                ("kibana/data_views/", "kibana-data-view.json"),
                ("kibana/saved_searches/", "kibana-saved-search.json"),
            ]
            .into_iter()
            .find(|(prefix, _)| path.starts_with(prefix));
            if let Some((_, schema)) = schema {
                let instance: Value = serde_json::from_str(&text).expect("JSON");
                assert_valid(schema, &path, &instance);
                *seen.entry(schema).or_default() += 1;
            }
        }
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
}

#[test]
fn the_schemas_reject_wrong_bodies() {
    // The schemas can fail: a misspelt or mistyped field is caught.
    let bad_ilm = json!({"policy": {"phases": {"hot": {"actions": {"rollover": {"max_age": 1}}}}}});
    let bad_role = json!({"indices": [{"names": "logs-a-b", "privileges": ["read"]}]});
    let bad_space = json!({"id": "Team A", "name": "a"});
    let bad_view = json!({"data_view": {"title": "x", "timeField": "@timestamp"}});
    for (schema, instance) in [
        ("ilm-policy.json", bad_ilm),
        ("es-role.json", bad_role),
        ("kibana-space.json", bad_space),
        ("kibana-data-view.json", bad_view),
    ] {
        let text = std::fs::read_to_string(repo().join("tests/logstash/schemas").join(schema))
            .expect("reading a schema");
        let schema_value: Value = serde_json::from_str(&text).expect("a JSON schema");
        let validator = jsonschema::validator_for(&schema_value).expect("a valid schema");
        assert!(
            !validator.is_valid(&instance),
            "{schema} accepted {instance}"
        );
    }
}

#[test]
fn indices_output_never_mixes_option_sets() {
    let dir = formats_repo();
    let platform = dir.read("obsgen.yaml").replace(
        "  logging:\n",
        "  logging:\n    elasticsearch: {hosts: [\"https://es:9200\"], api_key_env: ES_API_KEY, output: indices}\n",
    );
    dir.write("obsgen.yaml", &platform);
    let files = texts(&compile(dir.path()));
    let web = &files["logstash/pipelines/svc-web.conf"];
    assert!(
        web.contains("ilm_rollover_alias => \"logs-web-prod_eu\""),
        "{web}"
    );
    assert!(web.contains("api_key => \"${ES_API_KEY}\""));
    assert!(!web.contains("data_stream_"), "{web}");
    assert!(files.contains_key("elasticsearch/index_templates/logs-web-prod_eu.json"));
    let default = texts(&compile(formats_repo().path()));
    let web = &default["logstash/pipelines/svc-web.conf"];
    assert!(
        web.contains("data_stream => \"true\"")
            && !web.contains("ilm_")
            && !web.contains("index =>")
    );
    let dir2 = TempDir::new("ls-indices-parse");
    let paths = write_pipelines(&files, &dir2);
    let args: Vec<&str> = std::iter::once("parse")
        .chain(paths.iter().map(String::as_str))
        .collect();
    run_helper(&args, None);
}

#[test]
fn a_platform_template_replaces_obsgens_and_a_broken_one_is_a_diagnostic() {
    let dir = formats_repo();
    let platform = dir
        .read("obsgen.yaml")
        .replace("  teams:", "  templates: platform-templates\n  teams:");
    dir.write("obsgen.yaml", &platform);
    dir.write(
        "platform-templates/logstash/unrouted.conf.j2",
        "{{ header }}\n# ACME: unrouted events are dropped on purpose here.\ninput {\n  pipeline {\n    address => {{ address | ls }}\n  }\n}\noutput {\n  null {}\n}\n",
    );
    let files = texts(&compile(dir.path()));
    let unrouted = &files["logstash/pipelines/obsgen-unrouted.conf"];
    assert!(
        unrouted.contains("# ACME: unrouted events") && unrouted.contains("null {}"),
        "{unrouted}"
    );
    assert!(!files["logstash/pipelines/svc-web.conf"].contains("ACME"));

    // A template that does not compile, or names an undefined variable.
    dir.write("platform-templates/logstash/unrouted.conf.j2", "{% if %}\n");
    let run = obsgen(dir.path(), &["validate"]);
    run.code(1);
    assert!(
        run.stderr.contains("does not compile") || run.stdout.contains("does not compile"),
        "{run:?}"
    );
    dir.write(
        "platform-templates/logstash/unrouted.conf.j2",
        "{{ no_such_variable }}\n",
    );
    let run = obsgen(dir.path(), &["build"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("undefined"),
        "{run:?}"
    );
}

#[test]
fn dashboard_logs_links_open_objects_the_logs_backend_creates() {
    let files = texts(&compile_example("acme"));
    let model = obsgen::compile::check(&repo().join("examples/acme"))
        .expect("compiling")
        .model
        .expect("a valid example");
    for service in &model.services {
        let dashboard =
            &files[&format!("grafana/dashboards/{}/{}.json", service.team, service.name)];
        let link = format!(
            "/s/{}/app/discover#/view/logs.{}?",
            service.team, service.name
        );
        assert!(
            dashboard.contains(&link),
            "{} has no link {link}",
            service.name
        );
        assert!(files.contains_key(&format!(
            "kibana/saved_searches/{}/logs.{}.json",
            service.team, service.name
        )));
        let data_view = format!("dataViewId:'logs.{}.${{env}}'", service.name);
        assert!(dashboard.contains(&data_view), "{data_view}");
        for env in &service.environments {
            let path = format!(
                "kibana/data_views/{}/logs.{}.{}.json",
                service.team, service.name, env.name
            );
            let view: Value = serde_json::from_str(&files[&path]).expect("a data view");
            assert_eq!(
                view["data_view"]["id"],
                format!("logs.{}.{}", service.name, env.name)
            );
            assert_eq!(
                view["data_view"]["title"],
                model.platform.log_target(&service.name, &env.name)
            );
        }
    }
}
