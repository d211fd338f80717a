//! The platform's dashboard library (`<grafana.library>/dashboards.jsonnet`),
//! once evaluated: its shape, and every panel query checked like obsgen's
//! own panels.
//!
//! The evaluated JSON has no positions, so a problem with a panel is
//! reported at the line of the library file where the panel's title (or
//! query) is written, when it is written literally; otherwise at line 1.

use crate::backend::grafana::lint;
use crate::diagnostics::{Diagnostic, Sources};
use crate::load::Document;
use crate::spec::{DashboardLibrarySpec, LibraryRowSpec};

/// The placeholder library queries use for the service's name.
pub const SERVICE_PLACEHOLDER: &str = "{{service}}";

/// Checks the evaluated library; its rows when it is sound.
pub fn check(
    document: &Document,
    sources: &Sources,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Vec<LibraryRowSpec>> {
    let library: DashboardLibrarySpec = match serde_json::from_value(document.value.clone()) {
        Ok(library) => library,
        Err(error) => {
            diagnostics.push(
                Diagnostic::error(&document.source, format!("the dashboard library has the wrong shape: {error}"))
                    .at(1, 1)
                    .expected("`{rows: [{title, languages?, frameworks?, panels: [{title, expr, unit?, description?, legend?}]}]}`")
                    .hint("start from obsgen's `library/dashboards.jsonnet`"),
            );
            return None;
        }
    };
    let text = sources
        .get(&document.source)
        .map(|text| &**text)
        .unwrap_or_default();
    // Where `needle` is first written in the file: (line, column), 1-based.
    let place_of = |needle: &str| -> Option<(usize, usize)> {
        text.lines().enumerate().find_map(|(index, line)| {
            let at = line.find(needle).filter(|_| !needle.is_empty())?;
            Some((index + 1, line[..at].chars().count() + 1))
        })
    };
    let mut sound = true;
    for (row_index, row) in library.rows.iter().enumerate() {
        let mut titles = std::collections::HashSet::new();
        for (index, panel) in row.panels.iter().enumerate() {
            let path = format!("rows[{row_index}].panels[{index}]");
            if !titles.insert(panel.title.as_str()) {
                sound = false;
                diagnostics.push(
                    Diagnostic::error(
                        &document.source,
                        format!(
                            "another panel of row `{}` is titled `{}`",
                            row.title, panel.title
                        ),
                    )
                    .at(
                        place_of(&panel.title).map_or(1, |p| p.0),
                        place_of(&panel.title).map_or(1, |p| p.1),
                    )
                    .path(format!("{path}.title")),
                );
            }
            let expr = panel.expr.replace(SERVICE_PLACEHOLDER, "service");
            let problems = lint::lint_query(&expr, Some("service"));
            // The lint names the stand-in service; say it as the library writes it.
            let problems: Vec<String> = problems
                .iter()
                .map(|p| p.replace("job=\"service\"", "job=\"{{service}}\""))
                .collect();
            if let Some(first) = problems.first() {
                sound = false;
                let (line, column) = place_of(&panel.expr)
                    .or_else(|| place_of(&panel.title))
                    .unwrap_or((1, 1));
                diagnostics.push(
                    Diagnostic::error(&document.source, format!("the query of panel `{}` {first}", panel.title))
                        .at(line, column)
                        .path(format!("{path}.expr"))
                        .expected("a query scoped with `job=\"{{service}}\"` and `env=\"$env\"`, rates over `$__rate_interval`")
                        .found(panel.expr.clone())
                        .hint(match problems.get(1..).filter(|rest| !rest.is_empty()) {
                            Some(rest) => format!("also: {}", rest.join("; ")),
                            None => "`{{service}}` becomes each service's name".to_string(),
                        }),
                );
            }
        }
    }
    sound.then_some(library.rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Positions;

    fn document(value: serde_json::Value) -> Document {
        Document {
            source: "lib/dashboards.jsonnet".into(),
            value,
            positions: Positions::default(),
        }
    }

    #[test]
    fn the_shipped_library_is_empty_and_sound() {
        let dir = crate::output::test_dir();
        std::fs::write(
            dir.join("dashboards.jsonnet"),
            include_str!("../../library/dashboards.jsonnet"),
        )
        .expect("writing");
        let value = crate::load::jsonnet::evaluate(
            &dir.join("dashboards.jsonnet"),
            &dir,
            &[],
            crate::load::EMBEDDED_LIBRARY,
        )
        .expect("the shipped library evaluates");
        let mut diagnostics = Vec::new();
        let rows = check(&document(value), &Sources::new(), &mut diagnostics);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(rows.map(|r| r.len()), Some(0));
    }

    #[test]
    fn bad_queries_and_shapes_are_reported_at_their_line() {
        let text = "{\n  rows: [{title: 'R', panels: [\n    {title: 'A', expr: 'rate(x_total[5m])'},\n  ]}],\n}\n";
        let mut sources = Sources::new();
        sources.insert("lib/dashboards.jsonnet".into(), text.into());
        let value = serde_json::json!({"rows": [{"title": "R", "panels": [{"title": "A", "expr": "rate(x_total[5m])"}]}]});
        let mut diagnostics = Vec::new();
        assert!(check(&document(value), &sources, &mut diagnostics).is_none());
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        let rendered = format!("{:?}", diagnostics[0]);
        assert_eq!(diagnostics[0].line, 3, "{rendered}");
        let mut diagnostics = Vec::new();
        let value = serde_json::json!({"rows": [{"title": "R", "panel": []}]});
        assert!(check(&document(value), &sources, &mut diagnostics).is_none());
        assert!(format!("{:?}", diagnostics[0]).contains("wrong shape"));
    }
}
