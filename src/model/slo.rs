//! Multi-window, multi-burn-rate alerting parameters (the SRE workbook's,
//! as Sloth computes them).
//!
//! The four alert windows are fixed; each is paired with the share of the
//! error budget it may consume before alerting (2 % in 1 h, 5 % in 6 h,
//! 10 % in 1 d, 10 % in 3 d). The burn-rate factor follows from the SLO
//! window: `factor = budget share × SLO window / long window`, which gives
//! 14.4, 6, 3 and 1 for a 30-day SLO, and Sloth's 13.44, 5.6, 2.8 and 0.93
//! for a 28-day one. Validation (which rejects thresholds that can never be
//! reached) and the rules backend both read this one table.

use crate::spec::Duration;

/// Page (wake someone up) or ticket (look at it in working hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    Page,
    Ticket,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Page => "page",
            Tier::Ticket => "ticket",
        }
    }
}

/// Fast burns are caught by the short pair of windows, slow by the long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Speed {
    Fast,
    Slow,
}

impl Speed {
    pub fn as_str(self) -> &'static str {
        match self {
            Speed::Fast => "fast",
            Speed::Slow => "slow",
        }
    }
}

/// One burn-rate alert condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnWindow {
    pub tier: Tier,
    pub speed: Speed,
    /// The long window: the error ratio over it must exceed the threshold.
    pub long: Duration,
    /// The short window (1/12 of the long): ends the alert soon after recovery.
    pub short: Duration,
    /// The share of the error budget the long window may consume.
    pub budget_share: f64,
    /// The burn-rate factor: threshold = factor × error budget.
    pub factor: f64,
    /// How long the condition must hold before the alert fires.
    pub hold: Duration,
}

/// The SLO windows obsgen accepts: long enough for the 3-day ticket window,
/// short enough for Prometheus' retention to hold the SLI history.
pub const MIN_SLO_WINDOW: Duration = Duration::from_days(7);
pub const MAX_SLO_WINDOW: Duration = Duration::from_days(90);

/// The four burn-rate conditions for an SLO with the given window.
pub fn burn_windows(slo_window: Duration) -> [BurnWindow; 4] {
    let make =
        |tier, speed, long_hours: u64, short_mins: u64, budget_share: f64, hold_mins: u64| {
            let long = Duration::from_hours(long_hours);
            let factor = budget_share * slo_window.as_millis() as f64 / long.as_millis() as f64;
            BurnWindow {
                tier,
                speed,
                long,
                short: Duration::from_mins(short_mins),
                budget_share,
                // Four significant digits are plenty and keep outputs tidy (13.44, 0.9333).
                factor: round_significant(factor, 4),
                hold: Duration::from_mins(hold_mins),
            }
        };
    [
        make(Tier::Page, Speed::Fast, 1, 5, 0.02, 2),
        make(Tier::Page, Speed::Slow, 6, 30, 0.05, 15),
        make(Tier::Ticket, Speed::Fast, 24, 120, 0.10, 60),
        // 1h, not half the 6h short window: any dip of the 6h ratio under
        // the threshold restarts a hold, and a 3h hold on a bursty slow burn
        // could be restarted for days. The 3d window is the evidence.
        make(Tier::Ticket, Speed::Slow, 72, 360, 0.10, 60),
    ]
}

/// Every distinct window the SLI recordings need, short to long.
pub fn sli_windows(slo_window: Duration) -> Vec<Duration> {
    let mut windows: Vec<Duration> = burn_windows(slo_window)
        .iter()
        .flat_map(|w| [w.long, w.short])
        .collect();
    windows.sort();
    windows.dedup();
    windows
}

fn round_significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let magnitude = value.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1 - magnitude);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_days_gives_the_workbook_factors() {
        let windows = burn_windows(Duration::from_days(30));
        let factors: Vec<f64> = windows.iter().map(|w| w.factor).collect();
        assert_eq!(factors, [14.4, 6.0, 3.0, 1.0]);
        let pairs: Vec<(String, String)> = windows
            .iter()
            .map(|w| (w.long.to_string(), w.short.to_string()))
            .collect();
        assert_eq!(
            pairs,
            [("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn twenty_eight_days_matches_sloth() {
        let factors: Vec<f64> = burn_windows(Duration::from_days(28))
            .iter()
            .map(|w| w.factor)
            .collect();
        assert_eq!(factors, [13.44, 5.6, 2.8, 0.9333]);
    }

    #[test]
    fn holds_are_short_next_to_the_windows() {
        let holds: Vec<String> = burn_windows(Duration::from_days(30))
            .iter()
            .map(|w| w.hold.to_string())
            .collect();
        assert_eq!(holds, ["2m", "15m", "1h", "1h"]);
        let docs = include_str!("../../docs/alerts.md");
        assert!(
            docs.contains("Sloth emits no `for:`"),
            "docs/alerts.md must say the holds are obsgen's"
        );
    }

    #[test]
    fn sli_windows_are_distinct_and_sorted() {
        let windows: Vec<String> = sli_windows(Duration::from_days(30))
            .iter()
            .map(|w| w.to_string())
            .collect();
        assert_eq!(windows, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
    }
}
