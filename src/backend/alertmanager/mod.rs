//! Alertmanager: the routing tree, receivers and inhibitions for the alerts
//! the Prometheus rules raise, and the routing test cases that prove them.
//!
//! Layout of the generated tree:
//!
//! ```text
//! alertmanager/alertmanager.yml        the configuration (Alertmanager 0.25+)
//! alertmanager/templates/obsgen.tmpl   notification templates (Slack, e-mail, PagerDuty)
//! alertmanager/tests/routes.tsv        routing cases for `amtool config routes test`
//! ```
//!
//! The modules follow the configuration: [`receivers`] (who is notified, and
//! how), [`routes`] (which alert goes where, working hours, inhibitions),
//! [`cases`] (the routing policy as test cases), over the typed form in
//! [`config`] and the matcher syntax in [`matchers`]. The templates are
//! `templates/alertmanager/obsgen.tmpl` in the repository, embedded.

pub mod cases;
pub mod config;
pub mod matchers;
pub mod receivers;
pub mod routes;
#[cfg(test)]
mod tests;

use crate::backend::{Backend, Prepared, RenderContext};
use crate::model::Model;
use crate::output::{OutputError, OutputSet, header, yaml};

use config::{Config, Global};

/// The configuration's path in the output tree.
pub const CONFIG_PATH: &str = "alertmanager/alertmanager.yml";
/// The templates' path; `templates:` names it relative to the
/// configuration, which is how Alertmanager resolves it.
pub const TEMPLATES_PATH: &str = "alertmanager/templates/obsgen.tmpl";
/// The routing cases' path.
pub const CASES_PATH: &str = "alertmanager/tests/routes.tsv";

/// The notification templates, Go `text/template` syntax.
pub const TEMPLATES: &str = include_str!("../../../templates/alertmanager/obsgen.tmpl");

pub struct AlertmanagerBackend;

impl Backend for AlertmanagerBackend {
    fn name(&self) -> &'static str {
        "alertmanager"
    }

    fn prepare<'a>(&'a self, context: &'a RenderContext<'a>) -> Result<Prepared<'a>, OutputError> {
        let model = context.model;
        let sources = format!(
            "{} and {} service manifests",
            model.platform.source,
            model.services.len()
        );
        let header = header::hash_comment(&[&sources]);

        let mut output = OutputSet::new();
        output.add(CONFIG_PATH, yaml::document(&header, &config(model))?)?;
        output.add(
            TEMPLATES_PATH,
            format!(
                "{{{{/* {} */}}}}\n{TEMPLATES}",
                header::hash_comment(&[])
                    .trim_start_matches("# ")
                    .trim_end()
            ),
        )?;
        output.add(CASES_PATH, cases::render_tsv(&header, &cases::cases(model)))?;
        Ok(Prepared {
            shared: output,
            shared_parts: Vec::new(),
            per_service: None,
        })
    }
}

/// The whole configuration.
pub fn config(model: &Model) -> Config {
    let alerting = &model.platform.alerting;
    let smtp = alerting.smtp.as_ref();
    Config {
        global: Global {
            resolve_timeout: alerting.resolve_timeout,
            smtp_smarthost: smtp.map(|s| s.smarthost.clone()),
            smtp_from: smtp.map(|s| s.from.clone()),
            smtp_auth_username: smtp.and_then(|s| s.auth_username.clone()),
            smtp_auth_password_file: smtp.and_then(|s| s.auth_password_file.clone()),
            smtp_require_tls: smtp.map(|s| s.require_tls),
            slack_api_url_file: alerting.slack_api_url_file.clone(),
        },
        templates: vec![
            TEMPLATES_PATH
                .trim_start_matches("alertmanager/")
                .to_string(),
        ],
        route: routes::route_tree(model),
        inhibit_rules: routes::inhibit_rules(),
        receivers: receivers::receivers(model),
        time_intervals: routes::time_intervals(model),
    }
}
