//! Which request metrics each framework exposes: the domain knowledge that
//! turns `framework: grpc` into PromQL.
//!
//! Recording rules, SLO indicators and (later) dashboards all read this one
//! table, so a framework is described exactly once: the counter that counts
//! finished requests, how a failed one is recognised, the latency histogram
//! and its default buckets, and the label that names the route. Client-side
//! metrics (calls to dependencies) are described the same way. `docs/metrics.md`
//! is the human-readable copy of this table; a unit test keeps them in step.

use crate::spec::Framework;

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
    /// The histogram's default bucket boundaries in seconds (`le` values),
    /// without `+Inf`. Empty when the library has no usable default and the
    /// boundaries are always configured.
    pub default_buckets: &'static [f64],
    /// How to add a bucket boundary when a latency threshold is not one.
    pub bucket_hint: &'static str,
    /// The labels naming the operation (route, view, gRPC method); empty
    /// when the library has none.
    pub route_labels: &'static [&'static str],
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
        self.default_buckets
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

/// The Prometheus client libraries' `DefBuckets`.
const PROMETHEUS_DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// OpenTelemetry's recommended buckets for `http.server.request.duration`.
const OTEL_HTTP_BUCKETS: &[f64] = PROMETHEUS_DEFAULT_BUCKETS;

const DJANGO_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 25.0, 50.0, 75.0,
];

const EXPRESS_BUCKETS: &[f64] = &[0.003, 0.03, 0.1, 0.3, 1.5, 10.0];

/// prometheus-net's `ExponentialBuckets(0.001, 2, 16)`.
const PROMETHEUS_NET_BUCKETS: &[f64] = &[
    0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096,
    8.192, 16.384, 32.768,
];

const OTEL_HTTP_CLIENT: RequestMetrics = RequestMetrics {
    library: "OpenTelemetry HTTP client semantic conventions",
    requests: "http_client_request_duration_seconds_count",
    errors: ErrorMatcher {
        label: "http_response_status_code",
        regex: HTTP_5XX,
    },
    duration: "http_client_request_duration_seconds",
    default_buckets: OTEL_HTTP_BUCKETS,
    bucket_hint: "set explicit bucket boundaries with an OpenTelemetry View on `http.client.request.duration`",
    route_labels: &["server_address"],
};

const GRPC_CLIENT: RequestMetrics = RequestMetrics {
    library: "go-grpc-prometheus / grpc-ecosystem client interceptors",
    requests: "grpc_client_handled_total",
    errors: ErrorMatcher {
        label: "grpc_code",
        regex: GRPC_SERVER_ERRORS,
    },
    duration: "grpc_client_handling_seconds",
    default_buckets: PROMETHEUS_DEFAULT_BUCKETS,
    bucket_hint: "pass `WithHistogramBuckets` to the client metrics",
    route_labels: &["grpc_service", "grpc_method"],
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
                default_buckets: OTEL_HTTP_BUCKETS,
                bucket_hint: "set explicit bucket boundaries with an OpenTelemetry View on `http.server.request.duration`",
                route_labels: &["http_route"],
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
                default_buckets: PROMETHEUS_DEFAULT_BUCKETS,
                bucket_hint: "enable the handling-time histogram with `WithHistogramBuckets` including the threshold",
                route_labels: &["grpc_service", "grpc_method"],
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
                default_buckets: &[],
                bucket_hint: "add the threshold with `management.metrics.distribution.slo.http.server.requests`",
                route_labels: &["uri"],
            },
            client: Some(RequestMetrics {
                library: "Spring Boot Actuator / Micrometer",
                requests: "http_client_requests_seconds_count",
                errors: ErrorMatcher {
                    label: "status",
                    regex: HTTP_5XX,
                },
                duration: "http_client_requests_seconds",
                default_buckets: &[],
                bucket_hint: "add the threshold with `management.metrics.distribution.slo.http.client.requests`",
                route_labels: &["client_name", "uri"],
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
                default_buckets: EXPRESS_BUCKETS,
                bucket_hint: "pass `buckets` (including the threshold) to express-prom-bundle",
                route_labels: &["path"],
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
                default_buckets: DJANGO_BUCKETS,
                bucket_hint: "set `PROMETHEUS_LATENCY_BUCKETS` in the Django settings",
                route_labels: &["view"],
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
                default_buckets: PROMETHEUS_DEFAULT_BUCKETS,
                bucket_hint: "pass `buckets` to `PrometheusMetrics`",
                route_labels: &["path"],
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
                default_buckets: PROMETHEUS_NET_BUCKETS,
                bucket_hint: "configure `RequestDuration.Histogram` buckets in `UseHttpMetrics`",
                route_labels: &["endpoint"],
            },
            client: Some(RequestMetrics {
                library: "prometheus-net (`AddHttpClientMetrics`)",
                requests: "httpclient_request_duration_seconds_count",
                errors: ErrorMatcher {
                    label: "code",
                    regex: HTTP_5XX,
                },
                duration: "httpclient_request_duration_seconds",
                default_buckets: PROMETHEUS_NET_BUCKETS,
                bucket_hint: "configure the HttpClient metrics' histogram buckets",
                route_labels: &["client", "host"],
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
