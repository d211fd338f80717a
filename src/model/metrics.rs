//! Which request metrics each framework exposes: the domain knowledge that
//! turns `framework: grpc` into PromQL.
//!
//! Recording rules, SLO indicators and (later) dashboards all read this one
//! table, so a framework is described exactly once: the counter that counts
//! finished requests, how a failed one is recognised, the latency histogram
//! and its default buckets, and the label that names the route. Client-side
//! metrics (calls to dependencies) are described the same way. `docs/metrics.md`
//! is the human-readable copy of this table; a unit test keeps them in step.

use crate::spec::{Framework, Language};

/// How a failed request is recognised among the counted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMatcher {
    /// The label carrying the outcome (`http_response_status_code`, `grpc_code`).
    pub label: &'static str,
    /// An RE2 regex over its values that means "the server failed".
    pub regex: &'static str,
}

/// One side (server or client) of a framework's request metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestMetrics {
    /// The library that exposes them, for docs and hints.
    pub library: &'static str,
    /// A counter of finished requests (a histogram's `_count` or a plain
    /// counter); every request is counted once.
    pub requests: &'static str,
    /// Which of those requests failed.
    pub errors: ErrorMatcher,
    /// The latency histogram, without the `_bucket`/`_count` suffix, in seconds.
    pub duration: &'static str,
    /// The histogram's default bucket boundaries in seconds (`le` values,
    /// without `+Inf`) and the library defining them. Empty when the library
    /// has no usable default and the boundaries are always configured.
    pub buckets: BucketTable,
    /// How to add a bucket boundary when a latency threshold is not one.
    pub bucket_hint: &'static str,
    /// The labels naming the operation (route, view, gRPC method); empty
    /// when the library has none.
    pub route_labels: &'static [&'static str],
    /// Extra `label="value"` matchers that latency must select: gRPC
    /// servers record a stream's whole lifetime in the same histogram, so
    /// only unary calls measure request latency.
    pub latency_matchers: &'static [(&'static str, &'static str)],
}

impl RequestMetrics {
    /// The histogram's bucket series.
    pub fn duration_bucket(&self) -> String {
        format!("{}_bucket", self.duration)
    }
    /// The histogram's count series (every observation).
    pub fn duration_count(&self) -> String {
        format!("{}_count", self.duration)
    }
    /// Whether `seconds` is one of the default bucket boundaries.
    pub fn is_default_bucket(&self, seconds: f64) -> bool {
        self.buckets
            .bounds
            .iter()
            .any(|bound| (bound - seconds).abs() < 1e-9)
    }
}

/// A framework's server and client request metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameworkMetrics {
    pub server: RequestMetrics,
    /// Calls the service makes, when the framework's library instruments them.
    pub client: Option<RequestMetrics>,
}

/// 5xx responses: the server's fault. 4xx are the client's and do not burn
/// the error budget.
const HTTP_5XX: &str = "5..";

/// gRPC codes that mean the server failed (the others are the caller's doing).
pub const GRPC_SERVER_ERRORS: &str =
    "Unknown|DeadlineExceeded|Unimplemented|Internal|Unavailable|DataLoss";

/// A client library's default histogram boundaries, with where they are
/// defined (`docs/metrics.md` cites the same sources).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketTable {
    pub library: &'static str,
    /// The constant in the library's source.
    pub source: &'static str,
    pub bounds: &'static [f64],
}

/// client_golang's `DefBuckets` (`prometheus/histogram.go`), used by
/// go-grpc-prometheus and most Go HTTP middleware.
pub const CLIENT_GOLANG: BucketTable = BucketTable {
    library: "client_golang",
    source: "prometheus/histogram.go `DefBuckets`",
    bounds: &[
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ],
};

/// client_python's `Histogram.DEFAULT_BUCKETS` (`prometheus_client/metrics.py`).
pub const CLIENT_PYTHON: BucketTable = BucketTable {
    library: "client_python",
    source: "prometheus_client/metrics.py `Histogram.DEFAULT_BUCKETS`",
    bounds: &[
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ],
};

/// client_java 1.x's `Histogram.Builder.DEFAULT_CLASSIC_UPPER_BOUNDS`. The
/// 0.x `simpleclient` also had 0.075, 0.75 and 7.5: only the boundaries
/// both versions share are known.
pub const CLIENT_JAVA: BucketTable = BucketTable {
    library: "client_java",
    source: "prometheus-metrics-core `Histogram.Builder.DEFAULT_CLASSIC_UPPER_BOUNDS`",
    bounds: &[
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ],
};

/// prom-client's (Node.js) default histogram buckets (`lib/histogram.js`).
pub const PROM_CLIENT: BucketTable = BucketTable {
    library: "prom-client",
    source: "lib/histogram.js default `buckets`",
    bounds: &[
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ],
};

/// prometheus-net's `Histogram.DefaultBuckets` (.NET).
pub const PROMETHEUS_NET: BucketTable = BucketTable {
    library: "prometheus-net",
    source: "Prometheus/Histogram.cs `DefaultBuckets`",
    bounds: &[
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ],
};

/// The OpenTelemetry HTTP semantic conventions' advice for
/// `http.server.request.duration` (and `http.client.request.duration`).
pub const OTEL_HTTP: BucketTable = BucketTable {
    library: "OpenTelemetry semantic conventions",
    source: "http-metrics.md, `ExplicitBucketBoundaries` advice of `http.server.request.duration`",
    bounds: &[
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ],
};

/// django-prometheus' `PROMETHEUS_LATENCY_BUCKETS` default (`django_prometheus/conf.py`).
pub const DJANGO_PROMETHEUS: BucketTable = BucketTable {
    library: "django-prometheus",
    source: "django_prometheus/conf.py `PROMETHEUS_LATENCY_BUCKETS`",
    bounds: &[
        0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 25.0, 50.0, 75.0,
    ],
};

/// express-prom-bundle's default `buckets` (`src/index.js`).
pub const EXPRESS_PROM_BUNDLE: BucketTable = BucketTable {
    library: "express-prom-bundle",
    source: "src/index.js default `buckets`",
    bounds: &[0.003, 0.03, 0.1, 0.3, 1.5, 10.0],
};

/// prometheus-net.AspNetCore's HTTP request duration
/// (`HttpRequestDurationMiddleware`: `Histogram.ExponentialBuckets(0.001, 2, 16)`).
pub const PROMETHEUS_NET_ASPNETCORE: BucketTable = BucketTable {
    library: "prometheus-net.AspNetCore",
    source: "HttpRequestDurationMiddleware `Histogram.ExponentialBuckets(0.001, 2, 16)`",
    bounds: &[
        0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096,
        8.192, 16.384, 32.768,
    ],
};

/// Micrometer's percentile histogram (`PercentileHistogramBuckets`) has no
/// round boundaries: SLO boundaries are always configured.
pub const MICROMETER: BucketTable = BucketTable {
    library: "Micrometer",
    source: "`PercentileHistogramBuckets` (no round boundaries)",
    bounds: &[],
};

/// Every table, for the docs test.
pub const BUCKET_TABLES: [BucketTable; 10] = [
    CLIENT_GOLANG,
    CLIENT_PYTHON,
    CLIENT_JAVA,
    PROM_CLIENT,
    PROMETHEUS_NET,
    OTEL_HTTP,
    DJANGO_PROMETHEUS,
    EXPRESS_PROM_BUNDLE,
    PROMETHEUS_NET_ASPNETCORE,
    MICROMETER,
];

/// The client library whose default buckets a gRPC service written in
/// `language` exposes. Unknown languages get client_golang's: the metric
/// names are go-grpc-prometheus', and its boundaries are the ones every
/// other table shares.
fn grpc_buckets(language: Language) -> BucketTable {
    match language {
        Language::Python => CLIENT_PYTHON,
        Language::Jvm => CLIENT_JAVA,
        Language::Node => PROM_CLIENT,
        Language::Dotnet => PROMETHEUS_NET,
        Language::Go | Language::Rust | Language::Other => CLIENT_GOLANG,
    }
}

/// The request metrics of a framework as a service written in `language`
/// exposes them: the default buckets depend on the client library.
pub fn for_service(framework: Framework, language: Language) -> FrameworkMetrics {
    let mut metrics = for_framework(framework);
    if framework == Framework::Grpc {
        let table = grpc_buckets(language);
        metrics.server.buckets = table;
        if let Some(client) = metrics.client.as_mut() {
            client.buckets = table;
        }
    }
    metrics
}

const OTEL_HTTP_CLIENT: RequestMetrics = RequestMetrics {
    library: "OpenTelemetry HTTP client semantic conventions",
    requests: "http_client_request_duration_seconds_count",
    errors: ErrorMatcher {
        label: "http_response_status_code",
        regex: HTTP_5XX,
    },
    duration: "http_client_request_duration_seconds",
    buckets: OTEL_HTTP,
    bucket_hint: "set explicit bucket boundaries with an OpenTelemetry View on `http.client.request.duration`",
    route_labels: &["server_address"],
    latency_matchers: &[],
};

const GRPC_CLIENT: RequestMetrics = RequestMetrics {
    library: "go-grpc-prometheus / grpc-ecosystem client interceptors",
    requests: "grpc_client_handled_total",
    errors: ErrorMatcher {
        label: "grpc_code",
        regex: GRPC_SERVER_ERRORS,
    },
    duration: "grpc_client_handling_seconds",
    buckets: CLIENT_GOLANG,
    bucket_hint: "pass `WithHistogramBuckets` to the client metrics",
    route_labels: &["grpc_service", "grpc_method"],
    latency_matchers: &[("grpc_type", "unary")],
};

/// The request metrics of a framework.
pub fn for_framework(framework: Framework) -> FrameworkMetrics {
    match framework {
        Framework::Http => FrameworkMetrics {
            server: RequestMetrics {
                library: "OpenTelemetry HTTP semantic conventions (the generic default)",
                requests: "http_server_request_duration_seconds_count",
                errors: ErrorMatcher {
                    label: "http_response_status_code",
                    regex: HTTP_5XX,
                },
                duration: "http_server_request_duration_seconds",
                buckets: OTEL_HTTP,
                bucket_hint: "set explicit bucket boundaries with an OpenTelemetry View on `http.server.request.duration`",
                route_labels: &["http_route"],
                latency_matchers: &[],
            },
            client: Some(OTEL_HTTP_CLIENT),
        },
        Framework::Grpc => FrameworkMetrics {
            server: RequestMetrics {
                library: "go-grpc-prometheus / grpc-ecosystem server interceptors",
                // The latency histogram has no `grpc_code`: errors come from
                // the handled counter.
                requests: "grpc_server_handled_total",
                errors: ErrorMatcher {
                    label: "grpc_code",
                    regex: GRPC_SERVER_ERRORS,
                },
                duration: "grpc_server_handling_seconds",
                buckets: CLIENT_GOLANG,
                bucket_hint: "enable the handling-time histogram with `WithHistogramBuckets` including the threshold",
                route_labels: &["grpc_service", "grpc_method"],
                latency_matchers: &[("grpc_type", "unary")],
            },
            client: Some(GRPC_CLIENT),
        },
        Framework::SpringBoot => FrameworkMetrics {
            server: RequestMetrics {
                library: "Spring Boot Actuator / Micrometer (`outcome` is SERVER_ERROR exactly when `status` is 5xx)",
                requests: "http_server_requests_seconds_count",
                errors: ErrorMatcher {
                    label: "status",
                    regex: HTTP_5XX,
                },
                duration: "http_server_requests_seconds",
                // Micrometer's percentile histogram has no round boundaries:
                // SLO boundaries are always configured.
                buckets: MICROMETER,
                bucket_hint: "add the threshold with `management.metrics.distribution.slo.http.server.requests`",
                route_labels: &["uri"],
                latency_matchers: &[],
            },
            client: Some(RequestMetrics {
                library: "Spring Boot Actuator / Micrometer",
                requests: "http_client_requests_seconds_count",
                errors: ErrorMatcher {
                    label: "status",
                    regex: HTTP_5XX,
                },
                duration: "http_client_requests_seconds",
                buckets: MICROMETER,
                bucket_hint: "add the threshold with `management.metrics.distribution.slo.http.client.requests`",
                route_labels: &["client_name", "uri"],
                latency_matchers: &[],
            }),
        },
        Framework::Express => FrameworkMetrics {
            server: RequestMetrics {
                library: "express-prom-bundle (with `includePath: true`)",
                requests: "http_request_duration_seconds_count",
                errors: ErrorMatcher {
                    label: "status_code",
                    regex: HTTP_5XX,
                },
                duration: "http_request_duration_seconds",
                buckets: EXPRESS_PROM_BUNDLE,
                bucket_hint: "pass `buckets` (including the threshold) to express-prom-bundle",
                route_labels: &["path"],
                latency_matchers: &[],
            },
            client: None,
        },
        Framework::Django => FrameworkMetrics {
            server: RequestMetrics {
                library: "django-prometheus",
                requests: "django_http_responses_total_by_status_view_method_total",
                errors: ErrorMatcher {
                    label: "status",
                    regex: HTTP_5XX,
                },
                duration: "django_http_requests_latency_seconds_by_view_method",
                buckets: DJANGO_PROMETHEUS,
                bucket_hint: "set `PROMETHEUS_LATENCY_BUCKETS` in the Django settings",
                route_labels: &["view"],
                latency_matchers: &[],
            },
            client: None,
        },
        Framework::Flask => FrameworkMetrics {
            server: RequestMetrics {
                library: "prometheus-flask-exporter",
                requests: "flask_http_request_duration_seconds_count",
                errors: ErrorMatcher {
                    label: "status",
                    regex: HTTP_5XX,
                },
                duration: "flask_http_request_duration_seconds",
                buckets: CLIENT_PYTHON,
                bucket_hint: "pass `buckets` to `PrometheusMetrics`",
                route_labels: &["path"],
                latency_matchers: &[],
            },
            client: None,
        },
        Framework::Aspnetcore => FrameworkMetrics {
            server: RequestMetrics {
                library: "prometheus-net.AspNetCore (`UseHttpMetrics`)",
                requests: "http_request_duration_seconds_count",
                errors: ErrorMatcher {
                    label: "code",
                    regex: HTTP_5XX,
                },
                duration: "http_request_duration_seconds",
                buckets: PROMETHEUS_NET_ASPNETCORE,
                bucket_hint: "configure `RequestDuration.Histogram` buckets in `UseHttpMetrics`",
                route_labels: &["endpoint"],
                latency_matchers: &[],
            },
            client: Some(RequestMetrics {
                library: "prometheus-net (`AddHttpClientMetrics`)",
                requests: "httpclient_request_duration_seconds_count",
                errors: ErrorMatcher {
                    label: "code",
                    regex: HTTP_5XX,
                },
                duration: "httpclient_request_duration_seconds",
                buckets: PROMETHEUS_NET_ASPNETCORE,
                bucket_hint: "configure the HttpClient metrics' histogram buckets",
                route_labels: &["client", "host"],
                latency_matchers: &[],
            }),
        },
    }
}

/// Every framework, in the order the docs list them.
pub const FRAMEWORKS: [Framework; 7] = [
    Framework::Http,
    Framework::Grpc,
    Framework::SpringBoot,
    Framework::Express,
    Framework::Django,
    Framework::Flask,
    Framework::Aspnetcore,
];

/// A `le` value as client libraries write it: `0.25`, and for whole
/// seconds both `1` (Go) and `1.0` (Python, Java).
pub fn le_values(seconds: f64) -> Vec<String> {
    let plain = crate::spec::units::format_number(seconds);
    if seconds.fract() == 0.0 {
        vec![plain.clone(), format!("{plain}.0")]
    } else {
        vec![plain]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_errors_come_from_the_handled_counter() {
        let grpc = for_framework(Framework::Grpc).server;
        assert_eq!(grpc.requests, "grpc_server_handled_total");
        assert_eq!(grpc.errors.label, "grpc_code");
        assert_eq!(
            grpc.duration_bucket(),
            "grpc_server_handling_seconds_bucket"
        );
        assert!(!grpc.errors.regex.contains("OK"));
    }

    #[test]
    fn defaults_and_buckets() {
        let http = for_framework(Framework::Http).server;
        assert_eq!(http.requests, "http_server_request_duration_seconds_count");
        assert!(http.is_default_bucket(0.25));
        assert!(!http.is_default_bucket(0.3));
        assert_eq!(le_values(1.0), ["1", "1.0"]);
        assert_eq!(le_values(0.25), ["0.25"]);
    }

    #[test]
    fn go_grpc_uses_client_golang_def_buckets() {
        let go = for_service(Framework::Grpc, Language::Go).server;
        assert_eq!(
            go.buckets.bounds,
            [
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
            ]
        );
        for python_only in [0.075, 0.75, 7.5] {
            assert!(!go.is_default_bucket(python_only), "{python_only}");
        }
        let python = for_service(Framework::Grpc, Language::Python).server;
        assert!(python.is_default_bucket(0.75));
        let flask = for_service(Framework::Flask, Language::Python).server;
        assert_eq!(flask.buckets.library, "client_python");
        let node = for_service(Framework::Grpc, Language::Node).server;
        assert!(!node.is_default_bucket(0.75));
    }

    #[test]
    fn grpc_latency_is_unary_only() {
        let grpc = for_framework(Framework::Grpc);
        assert_eq!(grpc.server.latency_matchers, [("grpc_type", "unary")]);
        assert!(
            for_framework(Framework::Http)
                .server
                .latency_matchers
                .is_empty()
        );
    }

    #[test]
    fn the_docs_cite_every_bucket_table() {
        let docs = include_str!("../../docs/metrics.md");
        for table in BUCKET_TABLES {
            assert!(
                docs.contains(table.library) && docs.contains(table.source),
                "docs/metrics.md lacks the {} table or its source `{}`",
                table.library,
                table.source
            );
            let bounds: Vec<String> = table
                .bounds
                .iter()
                .map(|b| crate::spec::units::format_number(*b))
                .collect();
            if !bounds.is_empty() {
                assert!(
                    docs.contains(&bounds.join(", ")),
                    "docs/metrics.md lacks the {} boundaries {}",
                    table.library,
                    bounds.join(", ")
                );
            }
        }
    }

    #[test]
    fn the_docs_list_every_framework_metric() {
        let docs = include_str!("../../docs/metrics.md");
        for framework in FRAMEWORKS {
            let metrics = for_framework(framework);
            for side in std::iter::once(metrics.server).chain(metrics.client) {
                for name in [side.requests, side.duration, side.errors.label] {
                    assert!(docs.contains(name), "docs/metrics.md lacks `{name}`");
                }
            }
        }
    }
}
