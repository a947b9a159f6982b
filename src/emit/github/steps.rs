//! Steps shared by several workflows: checkout, language setup from a
//! toolchain preset, coverage thresholds, SARIF upload and thresholds.

use super::wf::Step;
use crate::model::{Service, Toolchain};
pub use crate::plan::delivery::{coverage_script, pct, requirement_files, test_commands};

/// The repository, without leaving the token in `.git/config` (a later step
/// or an uploaded artifact could read it).
pub fn checkout() -> Step {
    Step::uses("Check out", "actions/checkout").with("persist-credentials", false)
}

/// The whole history: secret scanners look at every commit.
pub fn checkout_history() -> Step {
    checkout().with("fetch-depth", 0)
}

/// `dir/file`, or `file` for the repository root.
pub fn join(dir: &str, file: &str) -> String {
    if dir == "." || dir.is_empty() {
        file.to_string()
    } else {
        format!("{}/{file}", dir.trim_end_matches('/'))
    }
}

/// Sets up the runtime of a toolchain. `cache` restores the package
/// manager's cache; workflows that publish images do without, so a pull
/// request can never seed what a release build reads.
pub fn setup(tc: &Toolchain, dir: &str, cache: bool) -> Step {
    let cache_kind = tc.cache.as_deref().filter(|_| cache);
    match tc.family.as_str() {
        "node" => {
            let v = tc.version.clone().unwrap_or_else(|| "20".into());
            let s = Step::uses(format!("Set up Node.js {v}"), "actions/setup-node").with("node-version", v);
            match cache_kind {
                Some(k @ ("npm" | "yarn" | "pnpm")) => {
                    let lock = match k {
                        "yarn" => "yarn.lock",
                        "pnpm" => "pnpm-lock.yaml",
                        _ => "package-lock.json",
                    };
                    s.with("cache", k).with("cache-dependency-path", join(dir, lock))
                }
                _ => s.with("package-manager-cache", false),
            }
        }
        "python" => {
            let v = tc.version.clone().unwrap_or_else(|| "3.12".into());
            let s = Step::uses(format!("Set up Python {v}"), "actions/setup-python").with("python-version", v);
            match cache_kind {
                Some("pip") => s.with("cache", "pip").with("cache-dependency-path", join(dir, "requirements*.txt")),
                _ => s,
            }
        }
        "go" => {
            let v = tc.version.clone().unwrap_or_else(|| "1.22".into());
            let s = Step::uses(format!("Set up Go {v}"), "actions/setup-go").with("go-version", v);
            match cache_kind {
                Some(_) => s.with("cache", true).with("cache-dependency-path", join(dir, "go.sum")),
                None => s.with("cache", false),
            }
        }
        _ => {
            let v = tc.version.clone().unwrap_or_else(|| "21".into());
            let s = Step::uses(format!("Set up Java {v}"), "actions/setup-java")
                .with("distribution", "temurin")
                .with("java-version", v);
            match cache_kind {
                Some(k @ ("maven" | "gradle")) => s.with("cache", k),
                _ => s,
            }
        }
    }
}

/// Setup and dependency install for a service, run in its build context.
pub fn prepare(tc: &Toolchain, svc: &Service, cache: bool) -> Vec<Step> {
    let dir = svc.build_context.as_str();
    let mut v = vec![setup(tc, dir, cache)];
    if let Some(i) = &tc.install {
        v.push(Step::run("Install dependencies", i.clone()).dir(dir));
    }
    v
}

/// Fails when line coverage is below `$COVERAGE_MIN`, reading the report
/// the family's usual coverage tool writes.
pub fn coverage_check(tc: &Toolchain, name: &str, min: f64, dir: &str) -> Step {
    Step::run(name, coverage_script(tc)).env("COVERAGE_MIN", pct(min)).dir(dir)
}

/// The coverage report file of a family, for uploads.
pub fn coverage_report(tc: &Toolchain) -> &'static str {
    match tc.family.as_str() {
        "python" => "coverage.xml",
        "node" => "coverage/lcov.info",
        "go" => "coverage.out",
        _ => {
            if tc.cache.as_deref() == Some("gradle") {
                "build/reports/jacoco/test/jacocoTestReport.xml"
            } else {
                "target/site/jacoco/jacoco.xml"
            }
        }
    }
}

/// Uploads SARIF results to code scanning, also after a failing scan (that
/// is when they matter).
pub fn upload_sarif(path: &str, category: &str) -> Step {
    Step::uses("Upload SARIF to code scanning", "github/codeql-action/upload-sarif")
        .when("${{ !cancelled() }}")
        .with("sarif_file", path)
        .with("category", category)
}

/// The lowest CVSS score of a severity, as code scanning's
/// `security-severity` uses them.
pub fn severity_score(fail_on: &str) -> &'static str {
    match fail_on {
        "critical" => "9.0",
        "high" => "7.0",
        "medium" => "4.0",
        _ => "0.1",
    }
}

/// Fails when a SARIF file (or any in a folder) has a result at or above
/// `fail_on`: the rule's `security-severity` when it has one, else the
/// result's level (error = high, warning = medium, note = low).
pub fn sarif_threshold(path: &str, fail_on: &str) -> Step {
    let script = r#"count=0
while IFS= read -r f; do
  n=$(jq --argjson min "$MIN_SCORE" '
    [ .runs[] as $run
      | ([$run.tool.driver.rules[]?, $run.tool.extensions[]?.rules[]?] | map({(.id): .}) | add // {}) as $rules
      | $run.results[]?
      | ($rules[.ruleId] // {}) as $rule
      | ($rule.properties["security-severity"] // null) as $score
      | (if $score != null then ($score | tonumber)
         else {"error": 7.0, "warning": 4.0, "note": 0.1}[.level // $rule.defaultConfiguration.level // "warning"] // 4.0
         end) as $severity
      | select($severity >= $min)
    ] | length' "$f")
  count=$((count + n))
done < <(find "$SARIF" -name '*.sarif' -type f)
echo "findings at or above $FAIL_ON: $count"
test "$count" -eq 0"#;
    Step::run(format!("Fail on {fail_on} or worse"), script)
        .env("SARIF", path)
        .env("FAIL_ON", fail_on)
        .env("MIN_SCORE", severity_score(fail_on))
}
