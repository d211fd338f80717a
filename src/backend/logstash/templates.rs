//! The MiniJinja templates the pipelines are rendered from.
//!
//! obsgen's own templates (`templates/logstash/` of this repository) are
//! embedded in the binary; a platform's `templates:` folder replaces any of
//! them by file name (`<templates>/logstash/service.conf.j2`). Undefined
//! variables are errors (`UndefinedBehavior::Strict`), and no output is
//! auto-escaped: user strings reach a pipeline only through the `ls` filter,
//! which is [`super::escape::quote`].

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};

use super::escape;

/// The embedded templates, by file name.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "distributor.conf.j2",
        include_str!("../../../templates/logstash/distributor.conf.j2"),
    ),
    (
        "service.conf.j2",
        include_str!("../../../templates/logstash/service.conf.j2"),
    ),
    (
        "unrouted.conf.j2",
        include_str!("../../../templates/logstash/unrouted.conf.j2"),
    ),
    (
        "output.conf.j2",
        include_str!("../../../templates/logstash/output.conf.j2"),
    ),
];

/// Whether `name` (`logstash/service.conf.j2`) is a template a platform may
/// replace.
pub fn is_known(name: &str) -> bool {
    name.strip_prefix("logstash/")
        .is_some_and(|file| BUILTIN.iter().any(|(builtin, _)| *builtin == file))
}

/// The environment: obsgen's templates, the platform's replacements
/// (`overrides`, keyed `logstash/<file>`), strict undefined behaviour, the
/// `ls` filter.
pub fn environment(overrides: &BTreeMap<String, String>) -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Borrowed: a string value is quoted without being copied out first;
    // any other value is quoted as it prints.
    env.add_filter("ls", |value: &Value| -> Result<String, Error> {
        let quoted = match value.as_str() {
            Some(text) => escape::quote(text),
            None => escape::quote(&value.to_string()),
        };
        quoted.map_err(|error| Error::new(ErrorKind::InvalidOperation, error.to_string()))
    });
    for (name, text) in BUILTIN {
        let text = overrides
            .get(&format!("logstash/{name}"))
            .cloned()
            .unwrap_or_else(|| (*text).to_string());
        env.add_template_owned(*name, text)?;
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_variables_are_errors() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "logstash/unrouted.conf.j2".to_string(),
            "{{ nope }}".to_string(),
        );
        let env = environment(&overrides).unwrap();
        let template = env.get_template("unrouted.conf.j2").unwrap();
        assert!(template.render(minijinja::context! {}).is_err());
    }

    #[test]
    fn the_filter_quotes_or_refuses() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "logstash/unrouted.conf.j2".to_string(),
            "{{ v | ls }}".to_string(),
        );
        let env = environment(&overrides).unwrap();
        let template = env.get_template("unrouted.conf.j2").unwrap();
        assert_eq!(
            template
                .render(minijinja::context! { v => "a\"b" })
                .unwrap(),
            "'a\"b'"
        );
        assert!(
            template
                .render(minijinja::context! { v => "${X}" })
                .is_err()
        );
        // A value that is not a string is quoted as it prints.
        assert_eq!(
            template.render(minijinja::context! { v => 5 }).unwrap(),
            "\"5\""
        );
    }
}
