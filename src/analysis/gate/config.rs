//! The gate's thresholds: built-in defaults, then the `[gate]` section of
//! `pipescope.toml`, then the command line (which wins).
//!
//! ```toml
//! [gate]
//! baseline = "branch=main,since=14d"
//! p50_increase = 0.20          # relative: +20 % of the baseline p50
//! p95_increase = 0.30
//! min_increase_s = 0.5         # ignore slowdowns smaller than this, however significant
//! duration_min_runs = 5        # baseline samples (and current ones for Mann-Whitney)
//! failure_rate_increase_pp = 10
//! failure_rate_min_runs = 5    # in each window
//! new_failure_min_runs = 10    # baseline executions that all passed
//! new_flaky_min_runs = 10      # baseline executions that were not flaky
//! significance = 0.01          # p-value below which a change counts as real
//! disable = ["new_flaky"]      # rules not to check
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The names of the rules (`disable`, JSON `rule`).
pub const RULES: [&str; 5] = [
    "duration_p50",
    "duration_p95",
    "failure_rate",
    "new_flaky",
    "new_failure",
];

/// Thresholds of every rule. Every field has a default; see the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// Default baseline window when `--baseline` is not given.
    pub baseline: Option<String>,
    pub p50_increase: f64,
    pub p95_increase: f64,
    pub min_increase_s: f64,
    pub duration_min_runs: u64,
    pub failure_rate_increase_pp: f64,
    pub failure_rate_min_runs: u64,
    pub new_failure_min_runs: u64,
    pub new_flaky_min_runs: u64,
    pub significance: f64,
    pub disable: Vec<String>,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            baseline: None,
            p50_increase: 0.20,
            p95_increase: 0.30,
            min_increase_s: 0.5,
            duration_min_runs: 5,
            failure_rate_increase_pp: 10.0,
            failure_rate_min_runs: 5,
            new_failure_min_runs: 10,
            new_flaky_min_runs: 10,
            significance: 0.01,
            disable: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    gate: Option<GateConfig>,
}

impl GateConfig {
    /// Reads the `[gate]` section of a `pipescope.toml` (other sections are ignored;
    /// no `[gate]` gives the defaults). Errors name the file and the bad key.
    pub fn from_file(path: &Path) -> Result<GateConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the `[gate]` section of TOML text.
    pub fn from_toml(text: &str) -> Result<GateConfig, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let config = file.gate.unwrap_or_default();
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges and rule names.
    pub fn validate(&self) -> Result<(), String> {
        for name in &self.disable {
            if !RULES.contains(&name.as_str()) {
                return Err(format!(
                    "unknown rule '{name}' in disable (rules: {})",
                    RULES.join(", ")
                ));
            }
        }
        let non_negative = [
            ("p50_increase", self.p50_increase),
            ("p95_increase", self.p95_increase),
            ("min_increase_s", self.min_increase_s),
            ("failure_rate_increase_pp", self.failure_rate_increase_pp),
        ];
        for (name, value) in non_negative {
            if !(value.is_finite() && value >= 0.0) {
                return Err(format!("{name} must be a number >= 0, got {value}"));
            }
        }
        if !(self.significance > 0.0 && self.significance <= 1.0) {
            return Err(format!(
                "significance must be in (0, 1], got {}",
                self.significance
            ));
        }
        Ok(())
    }

    /// Whether a rule is checked.
    pub fn enabled(&self, rule: &str) -> bool {
        !self.disable.iter().any(|d| d == rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_override_defaults_and_unknown_keys_are_errors() {
        let c = GateConfig::from_toml(
            "[other]\nx = 1\n[gate]\np50_increase = 0.5\ndisable = [\"new_flaky\"]\n",
        )
        .unwrap();
        assert_eq!(c.p50_increase, 0.5);
        assert_eq!(c.p95_increase, 0.30);
        assert!(!c.enabled("new_flaky") && c.enabled("new_failure"));
        let err = GateConfig::from_toml("[gate]\np50_increse = 0.5\n").unwrap_err();
        assert!(err.contains("p50_increse"), "{err}");
        let err = GateConfig::from_toml("[gate]\ndisable = [\"speed\"]\n").unwrap_err();
        assert!(err.contains("speed"), "{err}");
        assert_eq!(GateConfig::from_toml("").unwrap(), GateConfig::default());
    }
}
