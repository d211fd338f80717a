//! The Runtime row: what each language's Prometheus client exposes about
//! the process, by default, with no code from the service team.
//!
//! One table, by language (and for the JVM by framework: Spring Boot
//! services expose Micrometer's names, others client_java's). Sources:
//! client_golang's Go and process collectors, Micrometer's JVM binders,
//! client_java's `simpleclient_hotspot` exporters, client_python's GC and
//! process collectors, prom-client's default metrics and prometheus-net's
//! .NET stats. `docs/dashboards.md` lists the same names.

use super::panels::{Query, unit};
use super::queries::{RATE_INTERVAL, Selector};
use crate::spec::{Framework, Language};

/// What a runtime panel plots: `{sel}` in `expr` is the service's selector
/// (job, `$env`, `$instance`), `{rate}` the rate interval.
#[derive(Debug, Clone, Copy)]
pub struct RuntimePanel {
    pub title: &'static str,
    pub description: &'static str,
    pub unit: &'static str,
    /// `(expression template, legend)`.
    pub queries: &'static [(&'static str, &'static str)],
}

impl RuntimePanel {
    /// The panel's queries for one service.
    pub fn queries(&self, selector: &Selector) -> Vec<Query> {
        self.queries
            .iter()
            .map(|(template, legend)| {
                let expr = expand(template, selector);
                Query::new(expr, *legend)
            })
            .collect()
    }
}

/// Replaces `metric{sel}` with the metric and the service's matchers, and
/// `{rate}` with Grafana's rate interval.
fn expand(template: &str, selector: &Selector) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(at) = rest.find("{sel") {
        let before = &rest[..at];
        // The metric name is the identifier just before `{sel`.
        let name_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |i| i + 1);
        out.push_str(&before[..name_start]);
        let after = &rest[at + "{sel".len()..];
        let close = after.find('}').unwrap_or(after.len());
        let extra = after[..close].trim_start_matches(',');
        let scoped = if extra.is_empty() {
            selector.clone()
        } else {
            selector.clone().matcher(extra)
        };
        out.push_str(&scoped.on(&before[name_start..]));
        rest = after.get(close + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out.replace("{rate}", RATE_INTERVAL)
}

const CPU: RuntimePanel = RuntimePanel {
    title: "CPU",
    description: "CPU time used by the process, in cores (`process_cpu_seconds_total`).",
    unit: unit::CORES,
    queries: &[(
        "sum by (instance) (rate(process_cpu_seconds_total{sel}[{rate}]))",
        "{{instance}}",
    )],
};

const RESIDENT_MEMORY: RuntimePanel = RuntimePanel {
    title: "Resident memory",
    description: "Resident set size of the process (`process_resident_memory_bytes`).",
    unit: unit::BYTES,
    queries: &[(
        "sum by (instance) (process_resident_memory_bytes{sel})",
        "{{instance}}",
    )],
};

const OPEN_FDS: RuntimePanel = RuntimePanel {
    title: "Open file descriptors",
    description: "Open file descriptors against the limit (`process_open_fds`, `process_max_fds`).",
    unit: unit::COUNT,
    queries: &[
        ("sum by (instance) (process_open_fds{sel})", "{{instance}}"),
        ("min(process_max_fds{sel})", "limit"),
    ],
};

/// What every client library exposes about the process.
const PROCESS: &[RuntimePanel] = &[CPU, RESIDENT_MEMORY, OPEN_FDS];

const GO: &[RuntimePanel] = &[
    RuntimePanel {
        title: "Goroutines",
        description: "Live goroutines per instance (`go_goroutines`); a steady climb is a leak.",
        unit: unit::COUNT,
        queries: &[("sum by (instance) (go_goroutines{sel})", "{{instance}}")],
    },
    RuntimePanel {
        title: "GC pause",
        description: "Longest stop-the-world GC pause per instance over the last collections (`go_gc_duration_seconds`, quantile 1).",
        unit: unit::SECONDS,
        queries: &[(
            "max by (instance) (go_gc_duration_seconds{sel,quantile=\"1\"})",
            "{{instance}}",
        )],
    },
    RuntimePanel {
        title: "Heap in use",
        description: "Bytes in in-use heap spans (`go_memstats_heap_inuse_bytes`).",
        unit: unit::BYTES,
        queries: &[(
            "sum by (instance) (go_memstats_heap_inuse_bytes{sel})",
            "{{instance}}",
        )],
    },
    RuntimePanel {
        title: "Allocation rate",
        description: "Bytes allocated per second (`go_memstats_alloc_bytes_total`).",
        unit: unit::BYTES_PER_SECOND,
        queries: &[(
            "sum by (instance) (rate(go_memstats_alloc_bytes_total{sel}[{rate}]))",
            "{{instance}}",
        )],
    },
];

/// Micrometer's JVM binders (Spring Boot Actuator).
const JVM_MICROMETER: &[RuntimePanel] = &[
    RuntimePanel {
        title: "Heap by pool",
        description: "JVM heap used by memory pool (Micrometer `jvm_memory_used_bytes{area=\"heap\"}`).",
        unit: unit::BYTES,
        queries: &[(
            "sum by (id) (jvm_memory_used_bytes{sel,area=\"heap\"})",
            "{{id}}",
        )],
    },
    RuntimePanel {
        title: "Non-heap by pool",
        description: "JVM non-heap memory (metaspace, code cache) by pool (Micrometer `jvm_memory_used_bytes{area=\"nonheap\"}`).",
        unit: unit::BYTES,
        queries: &[(
            "sum by (id) (jvm_memory_used_bytes{sel,area=\"nonheap\"})",
            "{{id}}",
        )],
    },
    RuntimePanel {
        title: "GC pause by collector",
        description: "Average GC pause by collector and action (Micrometer `jvm_gc_pause_seconds`).",
        unit: unit::SECONDS,
        queries: &[(
            "sum by (gc, action) (rate(jvm_gc_pause_seconds_sum{sel}[{rate}])) / sum by (gc, action) (rate(jvm_gc_pause_seconds_count{sel}[{rate}]))",
            "{{gc}} {{action}}",
        )],
    },
    RuntimePanel {
        title: "Threads",
        description: "Live JVM threads (Micrometer `jvm_threads_live_threads`).",
        unit: unit::COUNT,
        queries: &[(
            "sum by (instance) (jvm_threads_live_threads{sel})",
            "{{instance}}",
        )],
    },
    RuntimePanel {
        title: "Loaded classes",
        description: "Classes currently loaded (Micrometer `jvm_classes_loaded_classes`).",
        unit: unit::COUNT,
        queries: &[(
            "sum by (instance) (jvm_classes_loaded_classes{sel})",
            "{{instance}}",
        )],
    },
];

/// client_java's hotspot exporters (`simpleclient_hotspot`).
const JVM_CLIENT_JAVA: &[RuntimePanel] = &[
    RuntimePanel {
        title: "Heap by pool",
        description: "JVM memory used by pool (client_java `jvm_memory_pool_bytes_used`).",
        unit: unit::BYTES,
        queries: &[(
            "sum by (pool) (jvm_memory_pool_bytes_used{sel})",
            "{{pool}}",
        )],
    },
    RuntimePanel {
        title: "Heap and non-heap",
        description: "JVM heap and non-heap memory used (client_java `jvm_memory_bytes_used`).",
        unit: unit::BYTES,
        queries: &[("sum by (area) (jvm_memory_bytes_used{sel})", "{{area}}")],
    },
    RuntimePanel {
        title: "GC pause by collector",
        description: "Average collection time by collector (client_java `jvm_gc_collection_seconds`).",
        unit: unit::SECONDS,
        queries: &[(
            "sum by (gc) (rate(jvm_gc_collection_seconds_sum{sel}[{rate}])) / sum by (gc) (rate(jvm_gc_collection_seconds_count{sel}[{rate}]))",
            "{{gc}}",
        )],
    },
    RuntimePanel {
        title: "Threads",
        description: "Live JVM threads (client_java `jvm_threads_current`).",
        unit: unit::COUNT,
        queries: &[(
            "sum by (instance) (jvm_threads_current{sel})",
            "{{instance}}",
        )],
    },
    RuntimePanel {
        title: "Loaded classes",
        description: "Classes currently loaded (client_java `jvm_classes_loaded`).",
        unit: unit::COUNT,
        queries: &[(
            "sum by (instance) (jvm_classes_loaded{sel})",
            "{{instance}}",
        )],
    },
];

const PYTHON: &[RuntimePanel] = &[
    RuntimePanel {
        title: "GC collections",
        description: "Garbage collections per second by generation (client_python `python_gc_collections_total`).",
        unit: unit::OPERATIONS_PER_SECOND,
        queries: &[(
            "sum by (generation) (rate(python_gc_collections_total{sel}[{rate}]))",
            "generation {{generation}}",
        )],
    },
    RESIDENT_MEMORY,
    OPEN_FDS,
];

const NODE: &[RuntimePanel] = &[
    RuntimePanel {
        title: "Event loop lag",
        description: "Event-loop lag, p99 and mean (prom-client `nodejs_eventloop_lag_p99_seconds`, `nodejs_eventloop_lag_mean_seconds`).",
        unit: unit::SECONDS,
        queries: &[
            (
                "max by (instance) (nodejs_eventloop_lag_p99_seconds{sel})",
                "p99 {{instance}}",
            ),
            (
                "max by (instance) (nodejs_eventloop_lag_mean_seconds{sel})",
                "mean {{instance}}",
            ),
        ],
    },
    RuntimePanel {
        title: "Heap",
        description: "V8 heap used and total (prom-client `nodejs_heap_size_used_bytes`, `nodejs_heap_size_total_bytes`).",
        unit: unit::BYTES,
        queries: &[
            (
                "sum by (instance) (nodejs_heap_size_used_bytes{sel})",
                "used {{instance}}",
            ),
            (
                "sum by (instance) (nodejs_heap_size_total_bytes{sel})",
                "total {{instance}}",
            ),
        ],
    },
    RuntimePanel {
        title: "Active handles",
        description: "Active libuv handles, e.g. sockets and timers (prom-client `nodejs_active_handles_total`).",
        unit: unit::COUNT,
        queries: &[(
            "sum by (instance) (nodejs_active_handles_total{sel})",
            "{{instance}}",
        )],
    },
];

const DOTNET: &[RuntimePanel] = &[
    RuntimePanel {
        title: "GC collections",
        description: "Garbage collections per second by generation (prometheus-net `dotnet_collection_count_total`).",
        unit: unit::OPERATIONS_PER_SECOND,
        queries: &[(
            "sum by (generation) (rate(dotnet_collection_count_total{sel}[{rate}]))",
            "gen {{generation}}",
        )],
    },
    RuntimePanel {
        title: "Working set",
        description: "Working set of the process (prometheus-net `process_working_set_bytes`).",
        unit: unit::BYTES,
        queries: &[(
            "sum by (instance) (process_working_set_bytes{sel})",
            "{{instance}}",
        )],
    },
    RuntimePanel {
        title: "Threads",
        description: "Threads of the process, thread-pool workers included (prometheus-net `process_num_threads`).",
        unit: unit::COUNT,
        queries: &[(
            "sum by (instance) (process_num_threads{sel})",
            "{{instance}}",
        )],
    },
];

/// The runtime panels of a service, by language (and framework, for the JVM).
pub fn panels(language: Language, framework: Framework) -> Vec<RuntimePanel> {
    let specific: &[RuntimePanel] = match language {
        Language::Go => GO,
        Language::Jvm if framework == Framework::SpringBoot => JVM_MICROMETER,
        Language::Jvm => JVM_CLIENT_JAVA,
        Language::Python => PYTHON,
        Language::Node => NODE,
        Language::Dotnet => DOTNET,
        Language::Rust | Language::Other => PROCESS,
    };
    let mut panels = specific.to_vec();
    // Every client library but Python's (listed above) and Node's exposes
    // process CPU; add it where the language table does not already have it.
    if !panels.iter().any(|panel| panel.title == "CPU") {
        panels.push(CPU);
    }
    panels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::grafana::queries::Selector;

    #[test]
    fn templates_expand_to_scoped_selectors() {
        let sel = Selector::job("checkout");
        assert_eq!(
            expand("sum(rate(a_total{sel}[{rate}])) / b{sel,x=\"1\"}", &sel),
            "sum(rate(a_total{job=\"checkout\",env=\"$env\"}[$__rate_interval])) / b{job=\"checkout\",env=\"$env\",x=\"1\"}"
        );
    }

    #[test]
    fn every_language_has_panels_and_they_parse() {
        let sel = Selector::job("svc").matcher("instance=~\"$instance\"");
        for language in [
            Language::Go,
            Language::Jvm,
            Language::Python,
            Language::Node,
            Language::Dotnet,
            Language::Rust,
            Language::Other,
        ] {
            for framework in [Framework::Http, Framework::SpringBoot] {
                let list = panels(language, framework);
                assert!(list.len() >= 3, "{language:?}");
                for panel in list {
                    for query in panel.queries(&sel) {
                        let expr = crate::backend::grafana::lint::substitute_variables(&query.expr);
                        promql_parser::parser::parse(&expr)
                            .unwrap_or_else(|e| panic!("{}: {e}", query.expr));
                    }
                }
            }
        }
    }
}
