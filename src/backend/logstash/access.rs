//! Where logs live and who may read them, as request bodies for the
//! Elasticsearch and Kibana APIs: ILM policies and index templates, and per
//! team a role reading its own services' streams only, a role mapping from
//! its SSO group, a Kibana space, a Kibana role on that space, a data view
//! per service and environment and a saved search per service.
//!
//! A team's role names every stream of its services explicitly (with
//! `output: indices`, each rollover alias and `<alias>-*`). Stream names
//! are built by [`naming`] from parts that cannot hold a `-`, so no name
//! or pattern of one service can match another service's stream, even when
//! one service's name is a prefix of another's.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{Model, Service, naming};
use crate::output::{OutputError, OutputSet};
use crate::spec::LogOutput;

use super::{UNROUTED_POLICY, ilm_policy};

/// The script that applies every body, and its path.
pub const APPLY_SCRIPT: &str = include_str!("../../../templates/logstash/apply.sh");
pub const APPLY_PATH: &str = "elasticsearch/apply.sh";

/// The Elasticsearch role of a team: read its services' logs.
pub fn es_role(team: &str) -> String {
    format!("obsgen-logs-reader-{team}")
}

/// The Kibana role of a team: its space.
pub fn kibana_role(team: &str) -> String {
    format!("obsgen-kibana-{team}")
}

/// The index template of a service (with indices: of a service in one
/// environment, as each alias is a setting of its own).
pub fn index_template(service: &str) -> String {
    format!("obsgen-logs-{service}")
}

/// The index or data-stream names a team's role grants, for each of its
/// services: exact stream names, or with indices each alias and its
/// backing indices.
pub fn granted_names(model: &Model, team: &str) -> Vec<String> {
    let mut names = Vec::new();
    for service in model.services.iter().filter(|s| s.team == team) {
        for env in &service.environments {
            let target = model.platform.log_target(&service.name, &env.name);
            if model.platform.logging.elasticsearch.output == LogOutput::Indices {
                names.push(format!("{target}-*"));
            }
            names.push(target);
        }
    }
    names
}

/// The files shared by every service's logs access: ILM policies, team
/// roles, role mappings and spaces, the apply script.
pub fn render_shared(model: &Model, output: &mut OutputSet) -> Result<(), OutputError> {
    let mut policies: BTreeSet<String> = BTreeSet::new();
    policies.insert(UNROUTED_POLICY.to_string());
    for service in &model.services {
        policies.insert(ilm_policy(service));
    }
    for policy in &policies {
        let retention = policy.trim_start_matches("obsgen-logs-");
        output.add(
            format!("elasticsearch/ilm/{policy}.json"),
            to_json(&ilm_body(retention))?,
        )?;
    }
    for team in &model.platform.teams {
        let space = naming::kibana_space(&team.name);
        output.add(
            format!("elasticsearch/roles/{}.json", es_role(&team.name)),
            to_json(&es_role_body(model, &team.name))?,
        )?;
        output.add(
            format!("elasticsearch/role_mappings/obsgen-{}.json", team.name),
            to_json(&json!({
                "enabled": true,
                "roles": [es_role(&team.name), kibana_role(&team.name)],
                "rules": {"field": {"groups": team.sso_group}},
                "metadata": {"generated_by": "obsgen", "team": team.name},
            }))?,
        )?;
        output.add(
            format!("kibana/spaces/{space}.json"),
            to_json(&json!({
                "id": space,
                "name": team.name,
                "description": format!("Logs of the services of team {}", team.name),
                "disabledFeatures": [],
            }))?,
        )?;
        output.add(
            format!("kibana/roles/{}.json", kibana_role(&team.name)),
            to_json(&json!({
                "elasticsearch": {"cluster": [], "indices": [], "run_as": []},
                "kibana": [{
                    "base": [],
                    "feature": {"discover": ["read"], "dashboard": ["read"], "visualize": ["read"]},
                    "spaces": [space],
                }],
                "metadata": {"generated_by": "obsgen", "team": team.name},
            }))?,
        )?;
    }
    output.add(APPLY_PATH, APPLY_SCRIPT)?;
    Ok(())
}

/// One service's logs access: its index templates, Kibana data views and
/// saved search.
pub fn render_service(
    model: &Model,
    service: &Service,
    output: &mut OutputSet,
) -> Result<(), OutputError> {
    match model.platform.logging.elasticsearch.output {
        LogOutput::DataStreams => output.add(
            format!(
                "elasticsearch/index_templates/{}.json",
                index_template(&service.name)
            ),
            to_json(&data_stream_template(model, service))?,
        )?,
        LogOutput::Indices => {
            for env in &service.environments {
                let alias = model.platform.log_target(&service.name, &env.name);
                output.add(
                    format!("elasticsearch/index_templates/{alias}.json"),
                    to_json(&rollover_template(service, &alias))?,
                )?;
            }
        }
    }
    let space = naming::kibana_space(&service.team);
    for env in &service.environments {
        let id = naming::log_data_view(&service.name, &env.name);
        let body = DataViewBody {
            data_view: DataView {
                name: format!("{} ({})", service.name, env.name),
                title: model.platform.log_target(&service.name, &env.name),
                time_field_name: "@timestamp",
                id: &id,
            },
            overwrite: true,
        };
        output.add(
            format!("kibana/data_views/{space}/{id}.json"),
            to_json(&body)?,
        )?;
    }
    if let Some(first) = service.environments.first() {
        output.add(
            format!(
                "kibana/saved_searches/{space}/{}.json",
                naming::log_saved_search(&service.name)
            ),
            to_json(&saved_search(
                service,
                &naming::log_data_view(&service.name, &first.name),
            ))?,
        )?;
    }
    Ok(())
}

/// Hot until rolled over, deleted `retention` after rollover.
fn ilm_body(retention: &str) -> Value {
    json!({
        "policy": {
            "_meta": {"generated_by": "obsgen"},
            "phases": {
                "hot": {
                    "min_age": "0ms",
                    "actions": {"rollover": {"max_age": "1d", "max_primary_shard_size": "50gb"}},
                },
                "delete": {"min_age": retention, "actions": {"delete": {}}},
            },
        },
    })
}

/// The fields obsgen's pipelines set, mapped explicitly.
fn mappings() -> Value {
    let keyword = json!({"type": "keyword"});
    json!({
        "properties": {
            "@timestamp": {"type": "date"},
            "message": {"type": "match_only_text"},
            "tags": keyword,
            "service": {"properties": {"name": keyword, "environment": keyword}},
            "event": {"properties": {"dataset": keyword}},
            "organization": {"properties": {"name": keyword}},
            "log": {"properties": {"level": keyword}},
            "labels": {"type": "object", "dynamic": true},
        },
        "dynamic_templates": [
            {"labels_as_keywords": {"path_match": "labels.*", "mapping": {"type": "keyword"}}},
        ],
    })
}

/// The body of a Kibana data view (the saved objects API's `data_view`).
#[derive(Serialize)]
struct DataViewBody<'a> {
    data_view: DataView<'a>,
    #[serde(rename = "override")]
    overwrite: bool,
}

#[derive(Serialize)]
struct DataView<'a> {
    id: &'a str,
    name: String,
    title: String,
    #[serde(rename = "timeFieldName")]
    time_field_name: &'static str,
}

/// An index template: per service with data streams, per rollover alias
/// with indices. Typed rather than a `json!` tree: one is written per
/// service, and the mappings are the same for all.
#[derive(Serialize)]
struct IndexTemplate<'a> {
    index_patterns: Vec<String>,
    /// `{}` with data streams; left out with indices.
    #[serde(skip_serializing_if = "Option::is_none")]
    data_stream: Option<Empty>,
    priority: u32,
    template: TemplateBody<'a>,
    #[serde(rename = "_meta")]
    meta: TemplateMeta<'a>,
}

/// `{}`.
#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct TemplateBody<'a> {
    settings: TemplateSettings<'a>,
    mappings: &'static Value,
}

#[derive(Serialize)]
struct TemplateSettings<'a> {
    #[serde(rename = "index.lifecycle.name")]
    lifecycle_name: String,
    #[serde(
        rename = "index.lifecycle.rollover_alias",
        skip_serializing_if = "Option::is_none"
    )]
    rollover_alias: Option<&'a str>,
}

#[derive(Serialize)]
struct TemplateMeta<'a> {
    generated_by: &'static str,
    service: &'a str,
    team: &'a str,
}

/// [`mappings`], built once.
static MAPPINGS: std::sync::LazyLock<Value> = std::sync::LazyLock::new(mappings);

/// An index template for data streams, or, with a rollover alias, for
/// indices.
fn index_template_body<'a>(
    service: &'a Service,
    index_patterns: Vec<String>,
    rollover_alias: Option<&'a str>,
) -> IndexTemplate<'a> {
    IndexTemplate {
        index_patterns,
        data_stream: rollover_alias.is_none().then_some(Empty {}),
        priority: 200,
        template: TemplateBody {
            settings: TemplateSettings {
                lifecycle_name: ilm_policy(service),
                rollover_alias,
            },
            mappings: &MAPPINGS,
        },
        meta: TemplateMeta {
            generated_by: "obsgen",
            service: &service.name,
            team: &service.team,
        },
    }
}

fn data_stream_template<'a>(model: &Model, service: &'a Service) -> IndexTemplate<'a> {
    let streams: Vec<String> = service
        .environments
        .iter()
        .map(|env| model.platform.log_target(&service.name, &env.name))
        .collect();
    index_template_body(service, streams, None)
}

fn rollover_template<'a>(service: &'a Service, alias: &'a str) -> IndexTemplate<'a> {
    index_template_body(service, vec![format!("{alias}-*")], Some(alias))
}

fn es_role_body(model: &Model, team: &str) -> Value {
    let names = granted_names(model, team);
    let indices: Vec<Value> = if names.is_empty() {
        Vec::new()
    } else {
        vec![json!({"names": names, "privileges": ["read", "view_index_metadata"]})]
    };
    json!({
        "cluster": [],
        "indices": indices,
        "run_as": [],
        "metadata": {"generated_by": "obsgen", "team": team},
    })
}

/// A Kibana saved search (the saved objects API's `search`): the
/// service's logs, newest first, level and message as columns.
#[derive(Serialize)]
struct SavedSearch<'a> {
    attributes: SavedSearchAttributes<'a>,
    references: [Reference<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SavedSearchAttributes<'a> {
    title: String,
    description: &'a str,
    columns: [&'static str; 2],
    sort: [[&'static str; 2]; 1],
    kibana_saved_object_meta: SearchSourceMeta,
}

#[derive(Serialize)]
struct SearchSourceMeta {
    #[serde(rename = "searchSourceJSON")]
    search_source_json: &'static str,
}

#[derive(Serialize)]
struct Reference<'a> {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
}

/// Where a saved search's data view is referenced from.
const SEARCH_SOURCE_INDEX: &str = "kibanaSavedObjectMeta.searchSourceJSON.index";

/// The search source, JSON in a string as Kibana stores it: no query, no
/// filter, the data view by reference. The same for every service.
const SEARCH_SOURCE_JSON: &str = r#"{"query":{"query":"","language":"kuery"},"filter":[],"indexRefName":"kibanaSavedObjectMeta.searchSourceJSON.index"}"#;

fn saved_search<'a>(service: &'a Service, data_view: &'a str) -> SavedSearch<'a> {
    SavedSearch {
        attributes: SavedSearchAttributes {
            title: format!("Logs of {}", service.name),
            description: service.description.as_deref().unwrap_or_default(),
            columns: ["log.level", "message"],
            sort: [["@timestamp", "desc"]],
            kibana_saved_object_meta: SearchSourceMeta {
                search_source_json: SEARCH_SOURCE_JSON,
            },
        },
        references: [Reference {
            name: SEARCH_SOURCE_INDEX,
            kind: "index-pattern",
            id: data_view,
        }],
    }
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, OutputError> {
    crate::output::json::pretty(value, 2048)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::prometheus::model_from;

    fn platform(output: &str) -> String {
        format!(
            "apiVersion: obsgen.dev/v1\nkind: Platform\nmetadata: {{name: p}}\nspec:\n  environments: [{{name: staging}}, {{name: production, production: true}}]\n  teams: {{alpha: {{}}}}\n  logging:\n    elasticsearch: {{hosts: [\"https://es:9200\"], output: {output}}}\n"
        )
    }

    const SERVICE: &str = "apiVersion: obsgen.dev/v1\nkind: Service\nmetadata: {name: a-svc, team: alpha}\nspec: {}\n";

    /// The index templates as `json!` trees, as they were written before
    /// they were typed.
    fn tree(service: &Service, patterns: Vec<String>, alias: Option<&str>) -> Value {
        let mut settings = json!({"index.lifecycle.name": ilm_policy(service)});
        if let (Some(alias), Some(settings)) = (alias, settings.as_object_mut()) {
            settings.insert("index.lifecycle.rollover_alias".into(), json!(alias));
        }
        let mut body = json!({"index_patterns": patterns});
        let object = body.as_object_mut().unwrap();
        if alias.is_none() {
            object.insert("data_stream".into(), json!({}));
        }
        object.insert("priority".into(), json!(200));
        object.insert(
            "template".into(),
            json!({"settings": settings, "mappings": mappings()}),
        );
        object.insert(
            "_meta".into(),
            json!({"generated_by": "obsgen", "service": service.name, "team": service.team}),
        );
        body
    }

    #[test]
    fn typed_bodies_write_what_their_json_trees_wrote() {
        let model = model_from(&platform("data_streams"), &[SERVICE]);
        let service = &model.services[0];
        let streams: Vec<String> = service
            .environments
            .iter()
            .map(|env| model.platform.log_target(&service.name, &env.name))
            .collect();
        assert_eq!(
            to_json(&data_stream_template(&model, service)).unwrap(),
            to_json(&tree(service, streams, None)).unwrap()
        );

        let model = model_from(&platform("indices"), &[SERVICE]);
        let service = &model.services[0];
        let alias = model.platform.log_target(&service.name, "staging");
        assert_eq!(
            to_json(&rollover_template(service, &alias)).unwrap(),
            to_json(&tree(service, vec![format!("{alias}-*")], Some(&alias))).unwrap()
        );

        let mut output = OutputSet::new();
        render_service(&model, service, &mut output).unwrap();
        let id = naming::log_data_view(&service.name, "staging");
        let space = naming::kibana_space(&service.team);
        let view = output
            .get(&format!("kibana/data_views/{space}/{id}.json"))
            .unwrap();
        let expected = json!({
            "data_view": {
                "id": id,
                "name": format!("{} (staging)", service.name),
                "title": alias,
                "timeFieldName": "@timestamp",
            },
            "override": true,
        });
        assert_eq!(view, to_json(&expected).unwrap());

        // The saved search, as its `json!` tree wrote it.
        let source = json!({
            "query": {"query": "", "language": "kuery"},
            "filter": [],
            "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
        });
        let described = model_from(
            &platform("indices"),
            &[&SERVICE.replace(
                "team: alpha}",
                "team: alpha, description: \"Says \\\"hi\\\"\"}",
            )],
        );
        for service in [service, &described.services[0]] {
            let tree = json!({
                "attributes": {
                    "title": format!("Logs of {}", service.name),
                    "description": service.description.clone().unwrap_or_default(),
                    "columns": ["log.level", "message"],
                    "sort": [["@timestamp", "desc"]],
                    "kibanaSavedObjectMeta": {"searchSourceJSON": source.to_string()},
                },
                "references": [{
                    "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
                    "type": "index-pattern",
                    "id": id,
                }],
            });
            assert_eq!(
                to_json(&saved_search(service, &id)).unwrap(),
                to_json(&tree).unwrap()
            );
        }
        assert!(described.services[0].description.is_some());
    }
}
