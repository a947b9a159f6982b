//! Service level objectives (`slo { availability window }`): the error
//! budget of each service's requests, the burn-rate alerts that guard it and
//! the panels that show it, decided once here. Kubernetes and Helm render
//! the alerts in the environment's PrometheusRule (`plan::observability`),
//! and the environment's SLO dashboard comes from `plan::dashboards`.
//!
//! The SLI is the share of the service's requests answered without a 5xx,
//! read from `http_requests_total` as its ServiceMonitor scrapes it (the
//! series the error-rate alert and the dashboards read). The alerts are the
//! multiwindow, multi-burn-rate alerts of Google's SRE workbook: each fires
//! when a share of the window's budget burns within a long window, and the
//! same rate holds over a short window (a twelfth of the long one), so it
//! resolves soon after the errors stop.
//!
//! **Invariant:** a tier whose threshold is 100% or more (an objective too
//! loose for that speed) is left out rather than written as an alert that
//! can never fire; with no requests the ratio is empty and nothing fires.

use super::crd::Rule;
use super::EnvPlan;
use crate::model::{Service, Slo};
use std::collections::BTreeMap;

/// One burn-rate tier: the share of the window's budget that may burn in
/// `long_h` hours before it fires, its short confirmation window, how long
/// it must hold, and its severity.
pub struct Tier {
    pub alert: &'static str,
    pub budget_share: f64,
    pub long: &'static str,
    pub long_h: f64,
    pub short: &'static str,
    pub for_: &'static str,
    pub severity: &'static str,
}

/// The SRE workbook's tiers: 2% of the budget in an hour and 5% in six
/// hours page; 10% in three days opens a ticket.
pub static TIERS: &[Tier] = &[
    Tier {
        alert: "ErrorBudgetFastBurn",
        budget_share: 0.02,
        long: "1h",
        long_h: 1.0,
        short: "5m",
        for_: "2m",
        severity: "critical",
    },
    Tier {
        alert: "ErrorBudgetBurn",
        budget_share: 0.05,
        long: "6h",
        long_h: 6.0,
        short: "30m",
        for_: "15m",
        severity: "critical",
    },
    Tier {
        alert: "ErrorBudgetSlowBurn",
        budget_share: 0.10,
        long: "3d",
        long_h: 72.0,
        short: "6h",
        for_: "1h",
        severity: "warning",
    },
];

/// The error budget: the share of requests that may fail (0.001 at 99.9%).
pub fn budget(slo: &Slo) -> f64 {
    1.0 - slo.availability / 100.0
}

/// The burn rate at which a tier fires: its share of the budget spent in
/// its long window, as a multiple of the rate that spends exactly the
/// budget over the whole window (14.4 for 2% in 1h of 30 days).
pub fn burn_rate(slo: &Slo, t: &Tier) -> f64 {
    let window_h = slo.window_ms as f64 / 3_600_000.0;
    t.budget_share * window_h / t.long_h
}

/// The window as PromQL writes it (`30d`).
pub fn window(slo: &Slo) -> String {
    format!("{}d", slo.window_ms / 86_400_000)
}

/// The share of a service's requests that failed over `range`, per service.
pub fn error_ratio(ns: &str, svc: &str, range: &str) -> String {
    let sel = format!("namespace=\"{ns}\",service=\"{svc}\"");
    format!(
        "sum by (service) (rate(http_requests_total{{{sel},code=~\"5..\"}}[{range}])) / sum by (service) (rate(http_requests_total{{{sel}}}[{range}]))"
    )
}

/// Shortest decimal text of a threshold (PromQL reads `0.0144`).
fn num(x: f64) -> String {
    let s = format!("{:.10}", x);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The services deployed in the environment with an objective.
pub fn services<'a>(cx: &'a EnvPlan) -> impl Iterator<Item = (&'a Service, &'a Slo)> + 'a {
    cx.env.deployments.iter().filter_map(|d| {
        let s = cx.model.service(d.service);
        s.slo.as_ref().map(|slo| (s, slo))
    })
}

/// The burn-rate alerts of the environment's objectives, with the labels
/// every rule of the environment carries (`base`: namespace, route).
pub fn alert_rules(cx: &EnvPlan, base: &BTreeMap<String, String>) -> Vec<Rule> {
    let ns = cx.ns();
    let mut out = Vec::new();
    for (s, slo) in services(cx) {
        for t in TIERS {
            let threshold = burn_rate(slo, t) * budget(slo);
            if threshold >= 1.0 {
                continue;
            }
            let th = num(threshold);
            let mut labels = base.clone();
            labels.insert("severity".into(), t.severity.into());
            labels.insert("slo".into(), format!("{}%", num(slo.availability)));
            out.push(Rule {
                alert: t.alert.into(),
                expr: format!(
                    "({}) > {th} and ({}) > {th}",
                    error_ratio(ns, &s.name, t.long),
                    error_ratio(ns, &s.name, t.short)
                ),
                for_: t.for_.into(),
                labels,
                annotations: BTreeMap::from([
                    (
                        "summary".to_string(),
                        format!(
                            "{} is spending its error budget {}x too fast: {}% of its {} budget within {}",
                            s.name,
                            num((burn_rate(slo, t) * 10.0).round() / 10.0),
                            num(t.budget_share * 100.0),
                            window(slo),
                            t.long
                        ),
                    ),
                    (
                        "description".to_string(),
                        format!(
                            "The share of 5xx answers over {} and over {} is above {th} (objective {}% over {}).",
                            t.long,
                            t.short,
                            num(slo.availability),
                            window(slo)
                        ),
                    ),
                ]),
            });
        }
    }
    out
}

/// A panel of the SLO dashboard: title, unit, queries with their legends.
pub type SloPanel = (String, &'static str, Vec<(String, String)>);

/// The panels of one objective on the SLO dashboard: availability against
/// the objective over the window, the error budget left, and the burn rate
/// over the fast tier's window (1 spends exactly the budget).
pub fn panels(ns: &str, s: &Service, slo: &Slo) -> Vec<SloPanel> {
    let w = window(slo);
    let ratio = error_ratio(ns, &s.name, &w);
    let b = num(budget(slo));
    vec![
        (
            format!("{}: availability over {w} (objective {}%)", s.name, num(slo.availability)),
            "percentunit",
            vec![
                (format!("1 - ({ratio})"), "availability".to_string()),
                (format!("vector({})", num(slo.availability / 100.0)), "objective".to_string()),
            ],
        ),
        (
            format!("{}: error budget left over {w}", s.name),
            "percentunit",
            vec![(format!("1 - ({ratio}) / {b}"), "budget left".to_string())],
        ),
        (
            format!("{}: burn rate (1h)", s.name),
            "short",
            vec![(format!("({}) / {b}", error_ratio(ns, &s.name, "1h")), "burn rate".to_string())],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_days_at_the_workbooks_rates() {
        let slo = Slo { availability: 99.9, window_ms: 30 * 86_400_000, span: None };
        let rates: Vec<f64> = TIERS.iter().map(|t| (burn_rate(&slo, t) * 10.0).round() / 10.0).collect();
        assert_eq!(rates, [14.4, 6.0, 1.0]);
        assert_eq!(num(burn_rate(&slo, &TIERS[0]) * budget(&slo)), "0.0144");
    }
}
