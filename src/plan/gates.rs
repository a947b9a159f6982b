//! The gate tools as one table: per tool, the toolchain families it
//! understands, whether our renderings write SARIF, and how the gate's
//! `fail_on` reaches the tool. GitHub Actions and Jenkins read these rows
//! (and [`super::delivery::check_command`] for linters), so a threshold or a
//! language fit is decided once.

use crate::model::GateTool;

/// How a gate's `fail_on` (low, medium, high, critical) reaches its tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// The tool has no severity setting (secrets, licences, tests, linters,
    /// SonarQube's own quality gate).
    None,
    /// The word as the program writes it (Grype, Snyk).
    Same,
    /// Bandit's `--severity-level`: low, medium or high (critical is high).
    Bandit,
    /// npm's `--audit-level`: `moderate` for medium.
    Npm,
    /// Trivy's `--severity` list: every level from `fail_on` up, upper case.
    TrivyList,
    /// tfsec's `--minimum-severity`: upper case.
    Upper,
    /// Judged on the SARIF results (CodeQL and Semgrep on GitHub; Semgrep's
    /// `--severity` flags on Jenkins).
    Sarif,
}

/// One row of the gate tool table.
#[derive(Clone, Copy, Debug)]
pub struct GateSpec {
    pub tool: GateTool,
    /// Toolchain families the tool understands; empty for any.
    pub families: &'static [&'static str],
    /// Whether the renderings write SARIF for code scanning.
    pub sarif: bool,
    pub threshold: Threshold,
}

const fn row(tool: GateTool, families: &'static [&'static str], sarif: bool, threshold: Threshold) -> GateSpec {
    GateSpec { tool, families, sarif, threshold }
}

/// The row of a tool.
pub fn spec(tool: GateTool) -> GateSpec {
    use GateTool as T;
    use Threshold as H;
    match tool {
        T::Gitleaks => row(tool, &[], true, H::None),
        T::Trufflehog => row(tool, &[], false, H::None),
        T::DetectSecrets => row(tool, &[], false, H::None),
        T::Codeql => row(tool, &[], true, H::Sarif),
        T::Semgrep => row(tool, &[], true, H::Sarif),
        T::Sonarqube => row(tool, &[], false, H::None),
        T::Bandit => row(tool, &["python"], true, H::Bandit),
        T::Grype => row(tool, &[], true, H::Same),
        T::Snyk => row(tool, &[], true, H::Same),
        T::Safety => row(tool, &["python"], false, H::None),
        T::PipAudit => row(tool, &["python"], false, H::None),
        T::NpmAudit => row(tool, &["node"], false, H::Npm),
        T::Trivy => row(tool, &[], true, H::TrivyList),
        T::Checkov => row(tool, &[], true, H::None),
        T::Tfsec => row(tool, &[], false, H::Upper),
        T::LicenseFinder => row(tool, &[], false, H::None),
        T::Coverage => row(tool, &[], false, H::None),
        T::Eslint => row(tool, &["node"], false, H::None),
        T::Ruff => row(tool, &["python"], false, H::None),
        T::Flake8 => row(tool, &["python"], false, H::None),
        T::GolangciLint => row(tool, &["go"], false, H::None),
        T::Tsc => row(tool, &["node"], false, H::None),
        T::Mypy => row(tool, &["python"], false, H::None),
        T::Tests => row(tool, &[], false, H::None),
    }
}

/// The value a tool's severity setting takes for `fail_on`, when it has one.
pub fn threshold(tool: GateTool, fail_on: &str) -> Option<String> {
    const LEVELS: [&str; 4] = ["low", "medium", "high", "critical"];
    Some(match spec(tool).threshold {
        Threshold::None | Threshold::Sarif => return None,
        Threshold::Same => fail_on.to_string(),
        Threshold::Bandit => if fail_on == "critical" { "high" } else { fail_on }.to_string(),
        Threshold::Npm => if fail_on == "medium" { "moderate" } else { fail_on }.to_string(),
        Threshold::TrivyList => {
            LEVELS.iter().skip_while(|l| **l != fail_on).map(|l| l.to_ascii_uppercase()).collect::<Vec<_>>().join(",")
        }
        Threshold::Upper => fail_on.to_ascii_uppercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_agrees_with_the_checkers_schema() {
        for (word, _, families) in crate::check::schema::GATE_TOOLS {
            let tool = GateTool::parse(word).expect("every schema tool is a GateTool");
            assert_eq!(spec(tool).families, *families, "{word}");
        }
        assert_eq!(GateTool::ALL.len(), crate::check::schema::GATE_TOOLS.len());
    }

    #[test]
    fn thresholds() {
        assert_eq!(threshold(GateTool::Trivy, "high").as_deref(), Some("HIGH,CRITICAL"));
        assert_eq!(threshold(GateTool::NpmAudit, "medium").as_deref(), Some("moderate"));
        assert_eq!(threshold(GateTool::Bandit, "critical").as_deref(), Some("high"));
        assert_eq!(threshold(GateTool::Gitleaks, "high"), None);
    }
}
