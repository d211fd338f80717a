//! Generated Alertmanager files, proven by the real `amtool`: the
//! configuration passes `amtool check-config`, every generated routing case
//! passes `amtool config routes test --verify.receivers=...`, a wrong case
//! fails (so the cases are not vacuous), `scripts/test-routes.sh` does the
//! same, the templates render an alert, and no secret reaches the output.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use obsgen::backend::alertmanager::cases::parse_tsv;

use crate::common::{TempDir, build_example, copy_tree, repo, tool, walk};

const CONFIG: &str = "alertmanager/alertmanager.yml";
const CASES: &str = "alertmanager/tests/routes.tsv";

fn amtool(args: &[&str]) -> Output {
    Command::new(tool("amtool"))
        .args(args)
        .output()
        .expect("running amtool")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn check_config(out: &Path) {
    let config = out.join(CONFIG);
    let result = amtool(&["check-config", &config.to_string_lossy()]);
    assert!(
        result.status.success(),
        "amtool check-config {} failed:\n{}",
        config.display(),
        text(&result)
    );
    // The templates were found and parsed, not skipped.
    assert!(
        text(&result).contains(" - 1 templates"),
        "{}",
        text(&result)
    );
}

fn route_test(out: &Path, receiver: &str, labels: &[String]) -> Output {
    let config = format!("--config.file={}", out.join(CONFIG).display());
    let verify = format!("--verify.receivers={receiver}");
    let mut args = vec!["config", "routes", "test", &config, &verify];
    args.extend(labels.iter().map(String::as_str));
    amtool(&args)
}

/// Runs every case of a generated tree; returns them.
fn run_all_cases(out: &Path) -> Vec<(String, Vec<String>)> {
    let cases = parse_tsv(&std::fs::read_to_string(out.join(CASES)).expect("reading the cases"));
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(receiver, labels)| {
            let result = route_test(out, receiver, labels);
            (!result.status.success()).then(|| {
                format!(
                    "{{{}}} expected {receiver}: {}",
                    labels.join(" "),
                    text(&result)
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} routing cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    cases
}

#[test]
fn amtool_accepts_the_generated_config_and_every_routing_case() {
    let out = build_example("acme");
    check_config(out.path());
    let cases = run_all_cases(out.path());
    // Environments × severities × (a paging and a quiet service) for
    // payments, web and an unknown team; fulfilment has no paging service;
    // and one alert without a team.
    assert_eq!(cases.len(), 3 * (3 * 2 * 2) + 3 * 2 + 1);
    let receivers: BTreeSet<&str> = cases.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        receivers.into_iter().collect::<Vec<_>>(),
        [
            "default",
            "fulfilment/notify",
            "payments/notify",
            "payments/pagerduty",
            "web/notify"
        ]
    );
    let paging: Vec<&Vec<String>> = cases
        .iter()
        .filter(|(r, _)| r.ends_with("pagerduty"))
        .map(|(_, labels)| labels)
        .collect();
    assert_eq!(
        paging,
        [&vec![
            r#"alertname="ServiceUnavailable""#.to_string(),
            r#"env="production""#.to_string(),
            r#"service="checkout""#.to_string(),
            r#"severity="page""#.to_string(),
            r#"team="payments""#.to_string(),
        ]],
        "only a page of an opted-in service in production reaches PagerDuty"
    );
}

#[test]
fn a_wrong_routing_case_fails() {
    let out = build_example("acme");
    let cases = parse_tsv(&std::fs::read_to_string(out.join(CASES)).expect("reading the cases"));
    let receivers: BTreeSet<&str> = cases.iter().map(|(r, _)| r.as_str()).collect();
    let mut tried = 0;
    for receiver in &receivers {
        let (_, labels) = cases
            .iter()
            .find(|(r, _)| r == receiver)
            .expect("a case for each receiver");
        for wrong in receivers.iter().filter(|other| *other != receiver) {
            let result = route_test(out.path(), wrong, labels);
            assert!(
                !result.status.success(),
                "amtool accepted {wrong} for {{{}}}, which routes to {receiver}",
                labels.join(" ")
            );
            tried += 1;
        }
    }
    assert_eq!(tried, receivers.len() * (receivers.len() - 1));

    // In particular: a page from staging, or of a service that did not opt
    // in, never reaches PagerDuty.
    for labels in [
        r#"env="staging" service="checkout""#,
        r#"env="production" service="not-opted-in""#,
    ] {
        let mut labels: Vec<String> = labels.split(' ').map(str::to_string).collect();
        labels.extend([
            r#"severity="page""#.to_string(),
            r#"team="payments""#.to_string(),
        ]);
        assert!(
            !route_test(out.path(), "payments/pagerduty", &labels)
                .status
                .success()
        );
        assert!(
            route_test(out.path(), "payments/notify", &labels)
                .status
                .success()
        );
    }
}

fn run_script(dir: &Path) -> Output {
    let script = repo().join("scripts/test-routes.sh");
    let amtool_dir = tool("amtool").parent().expect("a folder").to_path_buf();
    let path = std::env::join_paths(std::iter::once(amtool_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("a PATH");
    Command::new("bash")
        .arg(script)
        .arg(dir)
        .env("PATH", path)
        .output()
        .expect("running scripts/test-routes.sh")
}

#[test]
fn the_route_test_script_passes_the_cases_and_fails_a_wrong_one() {
    let out = build_example("acme");
    let cases = parse_tsv(&std::fs::read_to_string(out.join(CASES)).expect("reading the cases"));
    let result = run_script(&out.join("alertmanager"));
    assert!(result.status.success(), "{}", text(&result));
    let summary = format!(
        "test-routes: {n} routing cases, {n} passed, 0 failed",
        n = cases.len()
    );
    assert!(text(&result).contains(&summary), "{}", text(&result));

    // The same tree with one case that is wrong: a page from staging
    // expected at PagerDuty.
    let mut tsv = out.read(CASES);
    tsv.push_str("payments/pagerduty\talertname=\"ServiceUnavailable\"\tenv=\"staging\"\tservice=\"checkout\"\tseverity=\"page\"\tteam=\"payments\"\n");
    out.write(CASES, &tsv);
    let result = run_script(&out.join("alertmanager"));
    assert_eq!(result.status.code(), Some(1), "{}", text(&result));
    let output = text(&result);
    assert!(
        output.contains("expected payments/pagerduty, got payments/notify"),
        "{output}"
    );
    assert!(
        output.contains(&format!("{} passed, 1 failed", cases.len())),
        "{output}"
    );
}

/// A platform richer than the example: two production environments, a
/// team with PagerDuty and working hours, one without PagerDuty, one with
/// only PagerDuty, one with only a webhook, a fallback with PagerDuty.
const RICH_PLATFORM: &str = r##"apiVersion: obsgen.dev/v1
kind: Platform
metadata: {name: rich}
spec:
  environments:
    - {name: dev}
    - {name: staging}
    - {name: prod-eu, production: true}
    - {name: prod-us, production: true}
  alerting:
    slack_api_url_file: /run/secrets/slack-url
    smtp: {smarthost: "smtp.example:587", from: am@example.com}
    fallback:
      pagerduty: {routing_key_file: /run/secrets/fallback-pd}
      email: {to: ops@example.com}
  teams:
    alpha:
      pagerduty: {routing_key_file: /run/secrets/alpha-pd}
      slack: {channel: "#alpha"}
      group_wait: 10s
      working_hours: {weekdays: "monday:friday", start: "09:00", end: "17:30", location: Europe/Paris}
    beta:
      slack: {channel: "#beta"}
      email: {to: beta@example.com}
      working_hours: {start: "08:00", end: "20:00"}
    gamma:
      pagerduty: {routing_key_file: /run/secrets/gamma-pd}
    delta:
      webhook: {url: "https://hooks.example/delta", credentials_file: /run/secrets/delta-webhook}
"##;

#[test]
fn a_richer_platform_passes_amtool_too() {
    let repo_dir = TempDir::new("amtool-rich");
    repo_dir.write("obsgen.yaml", RICH_PLATFORM);
    for (name, team, spec) in [
        ("a-pager", "alpha", "{alerts: {page: true}}"),
        ("a-quiet", "alpha", "{}"),
        ("b-pager", "beta", "{alerts: {page: true}}"),
        ("g-pager", "gamma", "{alerts: {page: true}}"),
        ("g-quiet", "gamma", "{environments: [staging]}"),
    ] {
        repo_dir.write(
            &format!("services/{name}.yaml"),
            &format!(
                "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {{name: {name}, team: {team}}}\nspec: {spec}\n"
            ),
        );
    }
    let (compilation, output) = obsgen::compile::compile(repo_dir.path()).expect("compiling");
    assert!(!compilation.has_errors(), "{:#?}", compilation.diagnostics);
    let out = TempDir::new("amtool-rich-out");
    obsgen::output::write(out.path(), &output.expect("an output set")).expect("writing");
    check_config(out.path());
    let cases = run_all_cases(out.path());
    let receivers: BTreeSet<&str> = cases.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        receivers.into_iter().collect::<Vec<_>>(),
        [
            "alpha/notify",
            "alpha/pagerduty",
            "beta/notify",
            "default",
            "default-pagerduty",
            "delta/notify",
            "gamma/pagerduty",
        ]
    );
}

#[test]
fn the_templates_render_an_alert() {
    let out = build_example("acme");
    let data = out.join("alert.json");
    std::fs::write(
        &data,
        r#"{"receiver": "payments/notify", "status": "firing",
  "alerts": [{"status": "firing",
    "labels": {"alertname": "ErrorBudgetBurn", "service": "checkout", "env": "production",
               "team": "payments", "severity": "page", "slo": "availability",
               "slo_tier": "page", "slo_burn": "fast"},
    "annotations": {"summary": "checkout burns its <availability> budget",
                    "dashboard_url": "https://grafana.example/d/abc/checkout?var-env=production",
                    "runbook_url": "https://runbooks.example/checkout"},
    "startsAt": "2024-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "", "fingerprint": "1"}],
  "groupLabels": {"alertname": "ErrorBudgetBurn", "service": "checkout", "env": "production"},
  "commonLabels": {"alertname": "ErrorBudgetBurn", "service": "checkout", "env": "production",
                   "team": "payments", "severity": "page"},
  "commonAnnotations": {"summary": "checkout burns its <availability> budget",
                        "dashboard_url": "https://grafana.example/d/abc/checkout?var-env=production",
                        "runbook_url": "https://runbooks.example/checkout"},
  "externalURL": "http://alertmanager.example"}"#,
    )
    .expect("writing the alert");
    let glob = format!(
        "--template.glob={}",
        out.join("alertmanager/templates/obsgen.tmpl").display()
    );
    let data = format!("--template.data={}", data.display());
    let render = |kind: &str, name: &str| {
        let template = format!("--template.text={{{{ template \"{name}\" . }}}}");
        let kind = format!("--template.type={kind}");
        let result = amtool(&["template", "render", &glob, &data, &template, &kind]);
        assert!(result.status.success(), "{name}: {}", text(&result));
        String::from_utf8_lossy(&result.stdout).into_owned()
    };

    assert_eq!(
        render("text", "obsgen.slack.title").trim(),
        "[FIRING:1] ErrorBudgetBurn: checkout in production"
    );
    let slack = render("text", "obsgen.slack.text");
    for expected in [
        "*checkout burns its &lt;availability&gt; budget*",
        "service `checkout` · env `production` · severity `page` · SLO `availability` (fast burn)",
        "<https://grafana.example/d/abc/checkout?var-env=production|Dashboard>",
        "<https://runbooks.example/checkout|Runbook>",
    ] {
        assert!(slack.contains(expected), "{expected:?} not in:\n{slack}");
    }
    let html = render("html", "obsgen.email.html");
    for expected in [
        "checkout burns its &lt;availability&gt; budget",
        "<td>production</td>",
        r#"<a href="https://runbooks.example/checkout">Runbook</a>"#,
    ] {
        assert!(html.contains(expected), "{expected:?} not in:\n{html}");
    }
    let pagerduty = render("text", "obsgen.pagerduty.description");
    assert_eq!(
        pagerduty.trim(),
        "ErrorBudgetBurn: checkout in production — checkout burns its <availability> budget"
    );
}

/// The example's secrets are file paths (and an environment variable
/// name). Point the paths at files holding recognisable values, set the
/// variable, build with the binary, and grep the whole output tree: the
/// values never appear, the paths do, as `*_file` settings.
#[test]
fn no_secret_value_reaches_the_output() {
    const PREFIX: &str = "/etc/alertmanager/secrets/";
    let dir = TempDir::new("amtool-secrets");
    copy_tree(&repo().join("examples/acme"), dir.path());
    let platform = dir.read("obsgen.yaml");

    // (setting, file name) for every secret file the example names.
    let mut secrets: Vec<(String, String)> = Vec::new();
    for line in platform.lines() {
        let mut rest = line;
        while let Some(at) = rest.find(PREFIX) {
            let key = rest[..at]
                .trim_end_matches([' ', ':'])
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default()
                .to_string();
            let name: String = rest[at + PREFIX.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                .collect();
            secrets.push((key, name));
            rest = &rest[at + PREFIX.len()..];
        }
    }
    assert!(
        secrets.len() >= 5,
        "the example names its secret files: {secrets:?}"
    );

    let secret_dir = dir.join("secrets");
    std::fs::create_dir_all(&secret_dir).expect("a secrets folder");
    let mut values = vec!["es-password-value-0b8e1c".to_string()];
    for (_, name) in &secrets {
        let value = format!("secret-value-of-{name}-4f2a9d");
        std::fs::write(secret_dir.join(name), &value).expect("writing a secret");
        values.push(value);
    }
    let secret_prefix = format!("{}/", secret_dir.display());
    dir.write("obsgen.yaml", &platform.replace(PREFIX, &secret_prefix));

    let result = Command::new(env!("CARGO_BIN_EXE_obsgen"))
        .args(["build", "--out", "generated"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("ES_PASSWORD", &values[0])
        .output()
        .expect("running obsgen");
    assert!(result.status.success(), "{}", text(&result));

    let out = dir.join("generated");
    let files = walk(&out);
    assert!(files.len() > 3, "the build wrote files");
    for file in files {
        let contents =
            String::from_utf8_lossy(&std::fs::read(&file).expect("reading")).into_owned();
        for value in &values {
            assert!(
                !contents.contains(value.as_str()),
                "{} contains the secret {value}",
                file.display()
            );
        }
    }

    let config = std::fs::read_to_string(out.join(CONFIG)).expect("the configuration");
    for (key, name) in &secrets {
        let reference = format!("{key}: {secret_prefix}{name}");
        assert!(key.ends_with("_file"), "{key} is not a file setting");
        assert!(config.contains(&reference), "{reference} not in:\n{config}");
    }
}
