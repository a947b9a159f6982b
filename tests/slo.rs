//! Service level objectives read as Prometheus evaluates them: the
//! burn-rate alerts of healthcare-devops' API objective (99.9% over 30 days)
//! are run by `promtool test rules` against request series, and fire
//! exactly when the budget burns at their rate — all three under a 5% error
//! rate, only the slow tier under 0.3%, none under 0.05% or without
//! requests. Without promtool the test fails under CI (`.ci/run` installs
//! Debian's `prometheus` package).

use serde_json::{json, Value};

const RULES: &str = "examples/healthcare-devops/out/k8s/production/prometheusrule-healthcare-devops-alerts.yaml";
const NS: &str = "healthcare-devops-production";
const TIERS: &[&str] = &["ErrorBudgetFastBurn", "ErrorBudgetBurn", "ErrorBudgetSlowBurn"];

fn promtool() -> Option<String> {
    let p = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    if std::process::Command::new(&p).arg("--version").output().is_ok() {
        return Some(p);
    }
    assert!(std::env::var_os("CI").is_none(), "promtool not found ({p}); .ci/run installs it");
    eprintln!("!!!!!!!! promtool not found: SLO alerts NOT evaluated (CI fails here) !!!!!!!!");
    None
}

/// The SLO rules of the committed PrometheusRule, as a rule file.
fn slo_rules() -> (Value, Vec<Value>) {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(RULES)).expect("rules");
    let doc: Value = serde_yaml_ng::from_str(&text).expect("YAML");
    let rules: Vec<Value> = doc["spec"]["groups"][0]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| TIERS.contains(&r["alert"].as_str().unwrap_or("")))
        .cloned()
        .collect();
    assert_eq!(rules.len(), 3, "one alert per tier for the API");
    (json!({ "groups": [{ "name": "slo", "rules": rules.clone() }] }), rules)
}

/// Runs promtool over 3 hours of 10 requests a second of which `errors` a
/// minute fail, and expects `firing` (alert names) at 2h30m.
fn run(errors_per_minute: f64, firing: &[&str]) {
    let Some(promtool) = promtool() else { return };
    let (file, rules) = slo_rules();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("rules.yaml"), serde_yaml_ng::to_string(&file).unwrap()).unwrap();
    let series = |code: &str, per_min: f64| {
        json!({
            "series": format!("http_requests_total{{namespace=\"{NS}\",service=\"api\",code=\"{code}\"}}"),
            "values": format!("0+{per_min}x180"),
        })
    };
    let mut input = vec![series("200", 600.0)];
    if errors_per_minute > 0.0 {
        input.push(series("500", errors_per_minute));
    }
    let exp: Vec<Value> = firing
        .iter()
        .map(|name| {
            let r = rules.iter().find(|r| r["alert"] == *name).expect("tier");
            let mut labels = r["labels"].clone();
            labels["service"] = json!("api");
            labels["alertname"] = json!(name);
            json!({ "exp_labels": labels, "exp_annotations": r["annotations"] })
        })
        .collect();
    let tests = json!({
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": input,
            "alert_rule_test": TIERS.iter().map(|name| json!({
                "eval_time": "150m",
                "alertname": name,
                "exp_alerts": exp.iter().filter(|e| e["exp_labels"]["alertname"] == *name).cloned().collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }],
    });
    std::fs::write(dir.path().join("tests.yaml"), serde_yaml_ng::to_string(&tests).unwrap()).unwrap();
    let out = std::process::Command::new(&promtool)
        .args(["test", "rules", "tests.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "{errors_per_minute} errors a minute, expected {firing:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_five_percent_error_rate_fires_every_tier() {
    run(30.0, TIERS);
}

#[test]
fn a_slow_leak_opens_only_the_ticket() {
    // 0.3% of requests fail: above the 0.1% budget, below the paging rates.
    run(1.8, &["ErrorBudgetSlowBurn"]);
}

#[test]
fn errors_within_the_budget_fire_nothing() {
    run(0.3, &[]);
}

#[test]
fn no_errors_fire_nothing() {
    run(0.0, &[]);
}
