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
        output.add(
            format!("kibana/data_views/{space}/{id}.json"),
            to_json(&json!({
                "data_view": {
                    "id": id,
                    "name": format!("{} ({})", service.name, env.name),
                    "title": model.platform.log_target(&service.name, &env.name),
                    "timeFieldName": "@timestamp",
                },
                "override": true,
            }))?,
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

fn data_stream_template(model: &Model, service: &Service) -> Value {
    let streams: Vec<String> = service
        .environments
        .iter()
        .map(|env| model.platform.log_target(&service.name, &env.name))
        .collect();
    json!({
        "index_patterns": streams,
        "data_stream": {},
        "priority": 200,
        "template": {
            "settings": {"index.lifecycle.name": ilm_policy(service)},
            "mappings": mappings(),
        },
        "_meta": {"generated_by": "obsgen", "service": service.name, "team": service.team},
    })
}

fn rollover_template(service: &Service, alias: &str) -> Value {
    json!({
        "index_patterns": [format!("{alias}-*")],
        "priority": 200,
        "template": {
            "settings": {
                "index.lifecycle.name": ilm_policy(service),
                "index.lifecycle.rollover_alias": alias,
            },
            "mappings": mappings(),
        },
        "_meta": {"generated_by": "obsgen", "service": service.name, "team": service.team},
    })
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

fn saved_search(service: &Service, data_view: &str) -> Value {
    let source = json!({
        "query": {"query": "", "language": "kuery"},
        "filter": [],
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
    });
    json!({
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
            "id": data_view,
        }],
    })
}

fn to_json(value: &Value) -> Result<Vec<u8>, OutputError> {
    crate::output::json::pretty(value, 2048)
}
