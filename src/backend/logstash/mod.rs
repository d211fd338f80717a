//! Logs: Logstash pipelines into Elasticsearch, and access to each service's
//! logs for its owning team only, in Elasticsearch and Kibana.
//!
//! Layout of the generated tree:
//!
//! ```text
//! logstash/pipelines.yml                       the pipelines, for Logstash's settings folder
//! logstash/pipelines/distributor.conf          the platform's single input, routing by service.name
//! logstash/pipelines/unrouted.conf             events of no known service or environment, tagged, kept
//! logstash/pipelines/svc-<service>.conf        one per service: parse, ECS fields, date, output
//! elasticsearch/ilm/<policy>.json              an ILM policy per distinct retention
//! elasticsearch/index_templates/<name>.json    an index template per service
//! elasticsearch/roles/<role>.json              per team: read its own services' logs only
//! elasticsearch/role_mappings/<name>.json      per team: its SSO group → its roles
//! kibana/spaces/<team>.json                    per team: a space
//! kibana/roles/<role>.json                     per team: that space only
//! kibana/data_views/<team>/<id>.json           per service and environment
//! kibana/saved_searches/<team>/<id>.json       per service (the dashboard's Logs link)
//! elasticsearch/apply.sh                       PUTs all of the above (curl --fail)
//! ```
//!
//! The pipelines are text, rendered from MiniJinja templates ([`templates`])
//! in which every user string goes through [`escape::quote`]; everything
//! else is typed JSON ([`access`]). Names shared with the Grafana backend
//! (data streams, data views, spaces) come from [`crate::model::naming`].

pub mod access;
pub mod escape;
pub mod grok;
pub mod templates;

use serde::Serialize;

use crate::backend::{Backend, Prepared, RenderContext};
use crate::model::{LogInput, Model, Service, naming};
use crate::output::{OutputError, OutputSet, header, yaml};
use crate::spec::{KafkaSaslMechanism, LogFormat, LogOutput};

/// Where Logstash finds the pipeline files (`path.config` in
/// `pipelines.yml`): the official image's pipeline folder.
pub const PIPELINE_DIR: &str = "/usr/share/logstash/pipeline/obsgen";
/// The distributor pipeline's id.
pub const DISTRIBUTOR: &str = "obsgen-distributor";
/// The unrouted pipeline's id and address.
pub const UNROUTED: &str = "obsgen-unrouted";
/// The dataset of unrouted events: `.` occurs in no service name, so it is
/// no service's stream.
pub const UNROUTED_DATASET: &str = "obsgen.unrouted";
/// The ILM policy of unrouted events (two weeks).
pub const UNROUTED_POLICY: &str = "obsgen-logs-14d";
/// The tag of events that no pipeline could parse.
pub const PARSE_FAILURE: &str = "_obsgen_parse_failure";
/// The tag of events of no known service or environment.
pub const UNROUTED_TAG: &str = "_obsgen_unrouted";

/// A service's pipeline id and address: `svc-<service>`, which no obsgen
/// pipeline (`obsgen-*`) can be.
pub fn pipeline_id(service: &str) -> String {
    format!("svc-{service}")
}

/// The ILM policy of a retention: `obsgen-logs-<days>d` (or hours).
pub fn ilm_policy(service: &Service) -> String {
    format!(
        "obsgen-logs-{}",
        es_time(service.logs.retention.as_secs_f64())
    )
}

/// A duration in Elasticsearch's time units: whole days, else whole hours.
pub fn es_time(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    if seconds.is_multiple_of(86_400) {
        format!("{}d", seconds / 86_400)
    } else {
        format!("{}h", seconds.div_ceil(3_600))
    }
}

pub struct LogstashBackend;

impl Backend for LogstashBackend {
    fn name(&self) -> &'static str {
        "logstash"
    }

    fn prepare<'a>(&'a self, context: &'a RenderContext<'a>) -> Result<Prepared<'a>, OutputError> {
        let model = context.model;
        let env =
            templates::environment(&model.platform.logging.templates).map_err(template_error)?;
        let es = EsContext::new(model);
        let mut output = OutputSet::new();

        output.add(
            "logstash/pipelines.yml",
            yaml::document(
                &header::hash_comment(&[&model.platform.source]),
                &pipelines_yml(model),
            )?,
        )?;
        let all_sources = format!(
            "{} and {} service manifests",
            model.platform.source,
            model.services.len()
        );
        let services: Vec<RouteContext> = model
            .services
            .iter()
            .map(|service| RouteContext {
                name: service.name.clone(),
                address: pipeline_id(&service.name),
            })
            .collect();
        let distributor = render(
            &env,
            "distributor.conf.j2",
            minijinja::context! {
                header => header::hash_comment(&[&all_sources]).trim_end(),
                input => input_kind(&model.platform.logging.input),
                port => match &model.platform.logging.input {
                    LogInput::Listen { port, .. } => Some(*port),
                    LogInput::Kafka(_) => None,
                },
                kafka => kafka_context(&model.platform.logging.input),
                services => services,
                unrouted => UNROUTED,
            },
        )?;
        output.add(
            format!("logstash/pipelines/{DISTRIBUTOR}.conf"),
            distributor,
        )?;
        let unrouted = render(
            &env,
            "unrouted.conf.j2",
            minijinja::context! {
                header => header::hash_comment(&[&model.platform.source]).trim_end(),
                address => UNROUTED,
                tag => UNROUTED_TAG,
                es => &es,
                target => Target::unrouted(model),
            },
        )?;
        output.add(format!("logstash/pipelines/{UNROUTED}.conf"), unrouted)?;

        access::render_shared(model, &mut output)?;
        Ok(Prepared {
            shared: output,
            shared_parts: Vec::new(),
            per_service: Some(Box::new(move |service, output| {
                let text = render(
                    &env,
                    "service.conf.j2",
                    service_context(model, service, &es),
                )?;
                output.add(
                    format!("logstash/pipelines/{}.conf", pipeline_id(&service.name)),
                    text,
                )?;
                access::render_service(model, service, output)
            })),
        })
    }
}

fn template_error(error: minijinja::Error) -> OutputError {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    OutputError::Serialize(format!("a Logstash template: {text}"))
}

fn render(
    env: &minijinja::Environment<'_>,
    name: &str,
    context: minijinja::Value,
) -> Result<String, OutputError> {
    let mut text = env
        .get_template(name)
        .and_then(|template| template.render(context))
        .map_err(template_error)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// How a spec enum is spelt in manifests.
fn spelling(value: impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[derive(Serialize)]
struct PipelineEntry {
    #[serde(rename = "pipeline.id")]
    id: String,
    #[serde(rename = "path.config")]
    path: String,
    #[serde(rename = "pipeline.ecs_compatibility")]
    ecs_compatibility: &'static str,
}

fn pipelines_yml(model: &Model) -> Vec<PipelineEntry> {
    let entry = |id: String| PipelineEntry {
        path: format!("{PIPELINE_DIR}/{id}.conf"),
        id,
        ecs_compatibility: "v8",
    };
    let mut entries = vec![entry(DISTRIBUTOR.to_string()), entry(UNROUTED.to_string())];
    entries.extend(model.services.iter().map(|s| entry(pipeline_id(&s.name))));
    entries
}

#[derive(Serialize)]
struct RouteContext {
    name: String,
    address: String,
}

/// The Elasticsearch output's settings, shared by every pipeline.
#[derive(Serialize)]
struct EsContext {
    hosts: Vec<String>,
    user: Option<String>,
    /// `"${NAME}"`, already a Logstash string.
    password_ref: Option<String>,
    api_key_ref: Option<String>,
    data_streams: bool,
}

impl EsContext {
    fn new(model: &Model) -> Self {
        let es = &model.platform.logging.elasticsearch;
        EsContext {
            hosts: es.hosts.clone(),
            user: es.user.clone(),
            password_ref: es.password_env.as_deref().and_then(escape::env_reference),
            api_key_ref: es.api_key_env.as_deref().and_then(escape::env_reference),
            data_streams: es.output == LogOutput::DataStreams,
        }
    }
}

/// Where one output writes.
#[derive(Serialize)]
struct Target {
    /// The environment the output is for (the routing condition).
    env: String,
    /// With data streams: `logs-<dataset>-<namespace>`.
    dataset: String,
    namespace: String,
    /// With indices: the rollover alias, and its ILM policy.
    alias: String,
    ilm_policy: String,
}

impl Target {
    fn unrouted(model: &Model) -> Self {
        let prefix = &model.platform.logging.elasticsearch.index_prefix;
        Target {
            env: String::new(),
            alias: format!("{prefix}-{UNROUTED_DATASET}"),
            dataset: UNROUTED_DATASET.to_string(),
            namespace: "default".to_string(),
            ilm_policy: UNROUTED_POLICY.to_string(),
        }
    }
}

#[derive(Serialize)]
struct Copy {
    from: String,
    to: String,
}

#[derive(Serialize)]
struct LevelAlias {
    name: &'static str,
    aliases: &'static [&'static str],
}

/// How levels are normalised: lower case, then these spellings.
const LEVEL_ALIASES: &[LevelAlias] = &[
    LevelAlias {
        name: "trace",
        aliases: &["trc", "finest", "finer"],
    },
    LevelAlias {
        name: "debug",
        aliases: &["dbg", "fine", "config"],
    },
    LevelAlias {
        name: "info",
        aliases: &["inf", "information", "informational", "notice"],
    },
    LevelAlias {
        name: "warn",
        aliases: &["warning", "wrn"],
    },
    LevelAlias {
        name: "error",
        aliases: &["err", "severe"],
    },
    LevelAlias {
        name: "fatal",
        aliases: &["crit", "critical", "alert", "emerg", "emergency", "panic"],
    },
];

#[derive(Serialize)]
struct LabelField {
    field: String,
    value: String,
}

#[derive(Serialize)]
struct Definition {
    name: String,
    pattern: String,
}

/// The grok pattern of the formats obsgen parses with grok: Logstash's own
/// ECS (v8) patterns.
pub fn grok_pattern(service: &Service) -> Option<String> {
    match service.logs.format {
        LogFormat::Nginx | LogFormat::Apache => Some("%{HTTPD_COMBINEDLOG}".to_string()),
        LogFormat::Syslog => Some("%{SYSLOGLINE}".to_string()),
        LogFormat::Grok => service.logs.pattern.clone(),
        LogFormat::Json | LogFormat::Logfmt => None,
    }
}

/// Where the parser puts a parsed field: under the json/kv target, or at
/// the top for grok.
fn parsed_field(format: LogFormat, field: &str) -> String {
    let path: String = field.split('.').map(|part| format!("[{part}]")).collect();
    match format {
        LogFormat::Json => format!("[json]{path}"),
        LogFormat::Logfmt => format!("[logfmt]{path}"),
        _ => path,
    }
}

fn service_context(model: &Model, service: &Service, es: &EsContext) -> minijinja::Value {
    let format = service.logs.format;
    let copies: Vec<Copy> = match format {
        LogFormat::Json => vec![
            Copy {
                from: "[json][level]".into(),
                to: "[log][level]".into(),
            },
            Copy {
                from: "[json][message]".into(),
                to: "message".into(),
            },
            Copy {
                from: "[json][msg]".into(),
                to: "message".into(),
            },
        ],
        LogFormat::Logfmt => vec![
            Copy {
                from: "[logfmt][level]".into(),
                to: "[log][level]".into(),
            },
            Copy {
                from: "[logfmt][lvl]".into(),
                to: "[log][level]".into(),
            },
            Copy {
                from: "[logfmt][msg]".into(),
                to: "message".into(),
            },
        ],
        LogFormat::Grok => vec![Copy {
            from: "[level]".into(),
            to: "[log][level]".into(),
        }],
        LogFormat::Nginx | LogFormat::Apache | LogFormat::Syslog => Vec::new(),
    };
    let environments: Vec<Target> = service
        .environments
        .iter()
        .map(|env| Target {
            env: env.name.clone(),
            dataset: naming::data_stream_part(&service.name),
            namespace: naming::data_stream_part(&env.name),
            alias: naming::log_rollover_alias(
                &model.platform.logging.elasticsearch.index_prefix,
                &service.name,
                &env.name,
            ),
            ilm_policy: ilm_policy(service),
        })
        .collect();
    let labels: Vec<LabelField> = service
        .labels
        .iter()
        .map(|(key, value)| LabelField {
            field: format!("[labels][{key}]"),
            value: value.clone(),
        })
        .collect();
    let definitions: Vec<Definition> = if format == LogFormat::Grok {
        model
            .platform
            .logging
            .grok_patterns
            .iter()
            .map(|(name, pattern)| Definition {
                name: name.clone(),
                pattern: pattern.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    minijinja::context! {
        header => header::hash_comment(&[&model.platform.source, &service.source]).trim_end(),
        name => service.name,
        team => service.team,
        format => spelling(format),
        address => pipeline_id(&service.name),
        failure_tag => PARSE_FAILURE,
        grok_pattern => grok_pattern(service),
        pattern_definitions => definitions,
        copies => copies,
        level_aliases => LEVEL_ALIASES,
        timestamp_field => parsed_field(format, &service.logs.timestamp_field),
        timestamp_formats => service.logs.timestamp_formats,
        dataset => service.logs.dataset(&service.name),
        labels => labels,
        environments => environments,
        es => es,
        unrouted => UNROUTED,
    }
}

/// The input's name, as the distributor template tests it.
fn input_kind(input: &LogInput) -> String {
    match input {
        LogInput::Listen { kind, .. } => spelling(*kind),
        LogInput::Kafka(_) => spelling(crate::spec::LogInputKind::Kafka),
    }
}

/// What the distributor template writes of a Kafka input: every value
/// goes through the `ls` quoting filter there.
#[derive(Serialize)]
struct KafkaContext {
    /// Logstash's `bootstrap_servers` is one comma-separated string.
    bootstrap_servers: String,
    topics: Vec<String>,
    group_id: String,
    security_protocol: Option<String>,
    sasl_mechanism: Option<String>,
    /// The JAAS login line, already quoted: its password is a `${VAR}`
    /// reference that Logstash substitutes from its environment when it
    /// loads the file (the `ls` filter refuses `${` in user strings).
    sasl_jaas_config: Option<String>,
}

fn kafka_context(input: &LogInput) -> Option<KafkaContext> {
    let LogInput::Kafka(kafka) = input else {
        return None;
    };
    Some(KafkaContext {
        bootstrap_servers: kafka.bootstrap_servers.join(","),
        topics: kafka.topics.clone(),
        group_id: kafka.group_id.clone(),
        security_protocol: kafka.security_protocol.map(spelling),
        sasl_mechanism: kafka.sasl.as_ref().map(|sasl| spelling(sasl.mechanism)),
        sasl_jaas_config: kafka.sasl.as_ref().map(|sasl| {
            let module = match sasl.mechanism {
                KafkaSaslMechanism::Plain => {
                    "org.apache.kafka.common.security.plain.PlainLoginModule"
                }
                KafkaSaslMechanism::ScramSha256 | KafkaSaslMechanism::ScramSha512 => {
                    "org.apache.kafka.common.security.scram.ScramLoginModule"
                }
            };
            // Validation keeps `user` and the variable's name to characters
            // that need no escaping in the JAAS line's single quotes nor in
            // a Logstash double-quoted string; anything else is dropped
            // rather than let through.
            let safe = |text: &str| {
                !text.is_empty()
                    && text
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c))
            };
            let user = if safe(&sasl.user) {
                sasl.user.as_str()
            } else {
                ""
            };
            let password = escape::env_reference(&sasl.password_env).unwrap_or_default();
            let password = password.trim_matches('"');
            format!("\"{module} required username='{user}' password='{password}';\"")
        }),
    })
}
