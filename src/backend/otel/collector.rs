//! The part of the OpenTelemetry Collector's configuration that obsgen
//! writes, as typed values.
//!
//! Field names follow the collector's component documentation (core:
//! `otlp` receiver, `memory_limiter` and `batch` processors, `otlp_grpc`
//! and `otlp_http` exporters; contrib: `resource` and `tail_sampling`
//! processors, `zipkin` exporter). Every struct denies unknown fields, so a
//! generated file reads back into these types only if it holds nothing
//! else: a misspelt field cannot be generated, and the round-trip test of
//! every generated configuration proves it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A collector configuration file (`otel/<env>/collector.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorConfig {
    pub receivers: Receivers,
    pub processors: Processors,
    pub exporters: Exporters,
    pub service: ServiceSection,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receivers {
    pub otlp: OtlpReceiver,
}

/// The `otlp` receiver: gRPC and HTTP servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpReceiver {
    pub protocols: OtlpReceiverProtocols,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpReceiverProtocols {
    pub grpc: ServerConfig,
    pub http: ServerConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `host:port` to listen on.
    pub endpoint: String,
}

/// The processors, serialized in the order the pipeline runs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Processors {
    pub memory_limiter: MemoryLimiter,
    pub resource: ResourceProcessor,
    pub tail_sampling: TailSampling,
    pub batch: Batch,
}

/// `memory_limiter`: refuses data before the collector runs out of memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryLimiter {
    /// A Go duration, e.g. `1s`.
    pub check_interval: String,
    pub limit_percentage: u32,
    pub spike_limit_percentage: u32,
}

/// `resource`: sets resource attributes on everything passing through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceProcessor {
    pub attributes: Vec<ResourceAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceAction {
    pub key: String,
    pub value: String,
    pub action: AttributeAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeAction {
    /// Sets the attribute whether or not it is there.
    Upsert,
}

/// `tail_sampling`: waits for a trace's spans, then keeps the trace when
/// any policy samples it (policies are OR-ed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailSampling {
    /// A Go duration: how long after its first span a trace is decided.
    pub decision_wait: String,
    /// Traces held in memory at once.
    pub num_traces: u64,
    pub policies: Vec<Policy>,
}

/// A sampling policy: a name, and one of the policy kinds obsgen uses
/// (the kind's `type` and its settings under the key of the same name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Policy {
    /// Keeps traces with a span whose status is one of `status_codes`.
    StatusCode {
        name: String,
        status_code: StatusCode,
    },
    /// Keeps traces in which every sub-policy samples.
    And { name: String, and: And },
}

impl Policy {
    pub fn name(&self) -> &str {
        match self {
            Policy::StatusCode { name, .. } | Policy::And { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusCode {
    /// `OK`, `ERROR` or `UNSET`.
    pub status_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct And {
    pub and_sub_policy: Vec<SubPolicy>,
}

/// A sub-policy of an `and` policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SubPolicy {
    /// Matches traces with a span (or resource) attribute `key` equal to
    /// one of `values`.
    StringAttribute {
        name: String,
        string_attribute: StringAttribute,
    },
    /// Samples `sampling_percentage` % of traces, by a hash of the trace id.
    Probabilistic {
        name: String,
        probabilistic: Probabilistic,
    },
    /// Matches traces lasting at least `threshold_ms`.
    Latency { name: String, latency: Latency },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StringAttribute {
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probabilistic {
    pub sampling_percentage: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    pub threshold_ms: u64,
}

/// `batch`: groups spans before export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub send_batch_size: u32,
    /// A Go duration.
    pub timeout: String,
}

/// The one exporter of the platform's backend.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exporters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zipkin: Option<HttpExporter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp_grpc: Option<GrpcExporter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp_http: Option<HttpExporter>,
}

/// `zipkin` and `otlp_http`: an HTTP client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpExporter {
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// `otlp_grpc`: a gRPC client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcExporter {
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    pub tls: Tls,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Plaintext gRPC (an `http://` endpoint).
    pub insecure: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    pub pipelines: Pipelines,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipelines {
    pub traces: Pipeline,
}

/// A pipeline names its components by id (the key they are defined under).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    pub receivers: Vec<String>,
    pub processors: Vec<String>,
    pub exporters: Vec<String>,
}

impl CollectorConfig {
    /// The components of each kind: what the sections define (their keys
    /// once serialized) and what the pipeline names.
    fn wiring(&self) -> [(&'static str, Vec<String>, &[String]); 3] {
        let pipeline = &self.service.pipelines.traces;
        [
            (
                "receivers",
                section_ids(&self.receivers),
                &pipeline.receivers,
            ),
            (
                "processors",
                section_ids(&self.processors),
                &pipeline.processors,
            ),
            (
                "exporters",
                section_ids(&self.exporters),
                &pipeline.exporters,
            ),
        ]
    }

    /// The component ids the pipeline names that no section defines, as
    /// `kind/id` (empty for a well-wired configuration). Defined ids are
    /// read from the serialized sections, so they are exactly what the
    /// collector will see.
    pub fn undefined_components(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for (kind, defined, used) in self.wiring() {
            for id in used.iter().filter(|id| !defined.contains(id)) {
                missing.push(format!("{kind}/{id}"));
            }
        }
        missing
    }

    /// The component ids defined but named by no pipeline: the collector
    /// accepts them, but they would be dead configuration.
    pub fn unused_components(&self) -> Vec<String> {
        let mut unused = Vec::new();
        for (kind, defined, used) in self.wiring() {
            for id in defined.iter().filter(|id| !used.contains(id)) {
                unused.push(format!("{kind}/{id}"));
            }
        }
        unused
    }
}

/// The keys a section serializes to: the ids of its components.
fn section_ids<T: Serialize>(section: &T) -> Vec<String> {
    match serde_json::to_value(section) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}
