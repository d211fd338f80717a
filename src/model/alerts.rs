//! The alert contract between the rules backend (which emits alerts) and
//! the Alertmanager backend (which routes them): alert names, label names
//! and their values. Both read these constants; neither spells them.

/// Every alert's routing label: [`SEVERITY_PAGE`] reaches PagerDuty,
/// [`SEVERITY_TICKET`] the team's Slack / e-mail / webhook receivers.
pub const SEVERITY: &str = "severity";
/// Pages: only for production environments of services with `alerts.page: true`.
pub const SEVERITY_PAGE: &str = "page";
/// Everything else.
pub const SEVERITY_TICKET: &str = "ticket";

/// The SLO an alert is about (burn-rate alerts only).
pub const SLO: &str = "slo";
/// The burn-rate condition's tier: `page` (fast budget loss) or `ticket`.
/// Independent of [`SEVERITY`]: a page-tier burn of a service that has not
/// opted in to paging still has `severity: ticket`.
pub const SLO_TIER: &str = "slo_tier";
/// The burn-rate window pair: `fast` or `slow`.
pub const SLO_BURN: &str = "slo_burn";

/// Every target of the job down, or the job absent.
pub const SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";
/// More 5xx answers through the ingress than `alerts.proxy_error_ratio`.
pub const PROXY_ERRORS: &str = "ReverseProxyErrorRatioHigh";
/// An SLO's error budget burns too fast.
pub const ERROR_BUDGET_BURN: &str = "ErrorBudgetBurn";
/// An SLO's indicator sees no series while the service is up: its
/// recordings are empty and its burn-rate alerts cannot fire. Always a ticket.
pub const SLO_INDICATOR_MISSING: &str = "SLOIndicatorMissing";
