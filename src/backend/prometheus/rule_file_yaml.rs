//! Rule files written as YAML by their own type, without going through
//! serde.
//!
//! Why: a rule file is the largest YAML obsgen writes per service (about
//! 40 KB, seventy rules), and walking it through serde's serializer state
//! machine cost as much again as writing its scalars. Its layout is fixed —
//! `groups`, each group's `name` and `rules`, each rule's keys in one
//! order — so [`RuleFile::to_yaml`] writes the keys and indentation itself
//! and hands every key and scalar to the emitter ([`yaml::push_key`],
//! [`yaml::push_value`]), which quotes, folds and writes block literals
//! exactly as for any other document. The bytes are those of
//! [`yaml::document`] of the same value (the tests below compare both on
//! strings that hit every quoting and block rule), and should the emitter
//! give up on a scalar, the file is serialized through serde instead.
//! A field added to [`Rule`], [`Group`] or [`Annotations`] must be written
//! here too: the test on the example platforms' rule files compares with
//! the serde path and fails until it is.

use std::collections::BTreeMap;

use super::rules::{Annotations, Group, Rule, RuleFile};
use crate::output::OutputError;
use crate::output::yaml::{self, EmitError};

/// Where a group's keys start: past `- `.
const GROUP_KEY_COLUMN: usize = 2;
/// Where the keys of a rule start: past `  - `.
const RULE_KEY_COLUMN: usize = 4;
/// Where the keys of a rule's labels and annotations start.
const NESTED_KEY_COLUMN: usize = 6;

impl RuleFile {
    /// The rule file as a YAML document after `header`.
    pub fn to_yaml(&self, header: &str) -> Result<String, OutputError> {
        yaml::document_written(header, self.estimated_len(), |out| self.write(out), self)
    }

    /// About the bytes of the document: rule files are written whole into
    /// one buffer, so it is sized once.
    fn estimated_len(&self) -> usize {
        self.groups
            .iter()
            .map(|group| 64 + group.rules.len() * 640)
            .sum()
    }

    fn write(&self, out: &mut String) -> Result<(), EmitError> {
        if self.groups.is_empty() {
            out.push_str("groups: []\n");
            return Ok(());
        }
        out.push_str("groups:\n");
        for group in &self.groups {
            group.write(out)?;
        }
        Ok(())
    }
}

impl Group {
    fn write(&self, out: &mut String) -> Result<(), EmitError> {
        out.push_str("- name:");
        yaml::push_value(out, GROUP_KEY_COLUMN, &self.name, false)?;
        if self.rules.is_empty() {
            out.push_str("  rules: []\n");
            return Ok(());
        }
        out.push_str("  rules:\n");
        for rule in &self.rules {
            rule.write(out)?;
        }
        Ok(())
    }
}

/// The keys of one sequence item's mapping: the first follows the item's
/// dash, the others line up under it.
struct ItemKeys<'o> {
    out: &'o mut String,
    first: bool,
}

impl ItemKeys<'_> {
    /// Writes the next key's indentation and the key with its colon.
    fn key(&mut self, key: &str) {
        self.out.push_str(if std::mem::take(&mut self.first) {
            "  - "
        } else {
            "    "
        });
        self.out.push_str(key);
        self.out.push(':');
    }

    fn scalar(&mut self, key: &str, value: &str, literal: bool) -> Result<(), EmitError> {
        self.key(key);
        yaml::push_value(self.out, RULE_KEY_COLUMN, value, literal)
    }

    /// A mapping value: its entries on the lines below, one step in.
    fn mapping<'v>(
        &mut self,
        key: &str,
        entries: impl Iterator<Item = (&'v str, &'v str)>,
    ) -> Result<(), EmitError> {
        self.key(key);
        self.out.push('\n');
        for (name, value) in entries {
            self.out.push_str("      ");
            yaml::push_key(self.out, name)?;
            yaml::push_value(self.out, NESTED_KEY_COLUMN, value, false)?;
        }
        Ok(())
    }
}

impl Rule {
    fn write(&self, out: &mut String) -> Result<(), EmitError> {
        let mut keys = ItemKeys { out, first: true };
        if let Some(record) = &self.record {
            keys.scalar("record", record, false)?;
        }
        if let Some(alert) = &self.alert {
            keys.scalar("alert", alert, false)?;
        }
        keys.scalar("expr", &self.expr.0, true)?;
        if let Some(hold) = &self.hold {
            keys.scalar("for", &hold.to_string(), false)?;
        }
        if !self.labels.is_empty() {
            keys.mapping("labels", labels(&self.labels))?;
        }
        if let Some(annotations) = &self.annotations {
            keys.mapping("annotations", annotations.entries())?;
        }
        Ok(())
    }
}

fn labels(labels: &BTreeMap<String, String>) -> impl Iterator<Item = (&str, &str)> {
    labels
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
}

impl Annotations {
    /// The annotations in the order of the type's fields (its serialized
    /// order), the absent ones left out.
    fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        [
            ("summary", Some(&self.summary)),
            ("description", Some(&self.description)),
            ("dashboard_url", Some(&self.dashboard_url)),
            ("traces_url", self.traces_url.as_ref()),
            ("runbook_url", self.runbook_url.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name, value.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::prometheus::rules::Expr;
    use crate::spec::Duration;

    const HEADER: &str = "# generated\n";

    fn assert_same(file: &RuleFile) {
        let direct = file.to_yaml(HEADER).unwrap();
        let through_serde = yaml::document(HEADER, file).unwrap();
        assert_eq!(direct, through_serde);
        // And not by falling back: the direct path wrote it.
        let mut out = String::new();
        assert!(file.write(&mut out).is_ok());
        assert_eq!(format!("{HEADER}{out}"), direct);
    }

    /// Strings that hit every quoting, folding and block rule in key and
    /// value positions.
    fn strings() -> Vec<String> {
        let mut strings: Vec<String> = [
            "",
            " ",
            "a",
            "y",
            "on",
            "null",
            "true",
            "~",
            "1",
            "0x1F",
            "1e3",
            "5m",
            "1h30m",
            "/metrics",
            "../rules/a.yml",
            "- x",
            "a: b",
            "a #b",
            "#x",
            "x:",
            "{{ $value }} of the requests",
            "{{ $labels.job }}",
            "say \"hi\" \\ there",
            "tab\there",
            "multi\nline",
            "trailing newline\n",
            "\n\nleading newlines",
            "  leading spaces\nsecond",
            "trailing space ",
            "é non-ASCII",
            "bell \u{7}",
            "del \u{7f}",
            "\u{2028}",
            "https://grafana.example/d/svc-x/x?var-env={{ $externalLabels.env }}",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
        strings.push(format!("{} end", "word ".repeat(30)));
        strings.push(format!("{{{{ $value }}}} {}", "long text ".repeat(20)));
        strings.push("x".repeat(120));
        strings.push(format!("{}\n{}", "line ".repeat(30), "more ".repeat(30)));
        for byte in 0u8..0x80 {
            let c = char::from(byte);
            strings.push(format!("{c}"));
            strings.push(format!("a{c}b"));
            strings.push(format!("{c} {}", "word ".repeat(20)));
        }
        strings
    }

    fn rule(s: &str, alert: bool) -> Rule {
        Rule {
            record: (!alert).then(|| s.to_string()),
            alert: alert.then(|| s.to_string()),
            expr: Expr(s.to_string()),
            hold: alert.then(|| Duration::from_mins(5)),
            labels: BTreeMap::from([
                ("severity".to_string(), "page".to_string()),
                (s.to_string(), s.to_string()),
            ]),
            annotations: alert.then(|| Annotations {
                summary: s.to_string(),
                description: format!("{s} and more"),
                dashboard_url: s.to_string(),
                traces_url: Some(s.to_string()),
                runbook_url: (!s.is_empty()).then(|| s.to_string()),
            }),
        }
    }

    #[test]
    fn the_bytes_of_the_serde_path_for_every_kind_of_string() {
        for s in strings() {
            assert_same(&RuleFile {
                groups: vec![
                    Group {
                        name: s.clone(),
                        rules: vec![rule(&s, false), rule(&s, true)],
                    },
                    Group {
                        name: "empty".to_string(),
                        rules: vec![],
                    },
                ],
            });
        }
    }

    #[test]
    fn empty_and_sparse_files() {
        assert_same(&RuleFile { groups: vec![] });
        let bare = Rule {
            record: None,
            alert: None,
            expr: Expr("up".to_string()),
            hold: None,
            labels: BTreeMap::new(),
            annotations: None,
        };
        let both = Rule {
            record: Some("r".to_string()),
            alert: Some("A".to_string()),
            hold: Some(Duration::from_secs(90)),
            ..bare.clone()
        };
        assert_same(&RuleFile {
            groups: vec![Group {
                name: "g".to_string(),
                rules: vec![bare, both],
            }],
        });
    }

    /// Every rule file of the example platforms, as the backend builds
    /// them.
    #[test]
    fn the_example_platforms_rule_files() {
        use crate::backend::prometheus::rules::{RuleScope, environment_rules, service_rules};
        let mut checked = 0;
        for example in ["helloworld", "acme", "acme-operator"] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(example);
            let model = crate::compile::check(&root).unwrap().model.unwrap();
            for service in &model.services {
                assert_same(&service_rules(&model, service, RuleScope::Shared).file);
                for env in &service.environments {
                    assert_same(&service_rules(&model, service, RuleScope::Environment(env)).file);
                    if let Some(own) = environment_rules(&model, service, env) {
                        assert_same(&own.file);
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 10, "{checked}");
    }
}
