//! The gate's thresholds: built-in defaults, then the `[gate]` section of
//! `pipescope.toml`, then the command line (which wins).
//!
//! ```toml
//! [gate]
//! baseline = "branch=main,since=14d"
//! p50_increase = 0.20          # relative: +20 % of the baseline p50
//! p95_increase = 0.30
//! min_increase_s = 0.5         # ignore slowdowns smaller than this, however significant
//! duration_min_runs = 5        # baseline samples
//! failure_rate_increase_pp = 10
//! failure_rate_min_runs = 5    # in each window
//! new_failure_min_runs = 10    # baseline executions that all passed
//! new_flaky_min_runs = 10      # baseline executions that were not flaky
//! significance = 0.05          # family-wise: chance a run with no change fails at all
//! disable = ["new_flaky"]      # rules not to check
//! allow_known_flaky = true     # a failed run passes when every failure is a known flake
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The names of the rules (`disable`, JSON `rule`).
pub const RULES: [&str; 5] = [
    "duration_p50",
    "duration_p95",
    "failure_rate",
    "new_flaky",
    "new_failure",
];

/// The config file read when none is named, if it exists in the working directory.
pub const DEFAULT_FILE: &str = "pipescope.toml";

/// Thresholds of every rule. Every field has a default; see the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// Default baseline selection when `--baseline` is not given.
    pub baseline: Option<String>,
    pub p50_increase: f64,
    pub p95_increase: f64,
    pub min_increase_s: f64,
    pub duration_min_runs: u64,
    pub failure_rate_increase_pp: f64,
    pub failure_rate_min_runs: u64,
    pub new_failure_min_runs: u64,
    pub new_flaky_min_runs: u64,
    /// The family-wise error rate of the statistical rules (duration_p50/p95,
    /// failure_rate): Holm-Bonferroni over all of a run's tests (`gate::family`).
    /// 0.05 by default: a bound for one whole gate run, not per subject; the effect
    /// thresholds keep the measured rate far below it (tests/gate_error_control.rs).
    pub significance: f64,
    pub disable: Vec<String>,
    /// Judge the job, not only the rules: the gate passes a failed run when every
    /// failure of it is known flaky, and fails it when any is not (`gate::verdict`).
    pub allow_known_flaky: bool,
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
            significance: 0.05,
            disable: Vec::new(),
            allow_known_flaky: false,
        }
    }
}

/// Values set on the command line; each one that is `Some` replaces the file's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub p50_increase: Option<f64>,
    pub p95_increase: Option<f64>,
    pub min_increase_s: Option<f64>,
    pub failure_rate_increase_pp: Option<f64>,
    /// Replaces the minimum run count of every rule.
    pub min_runs: Option<u64>,
    pub significance: Option<f64>,
    /// Added to the file's `disable`.
    pub disable: Vec<String>,
    /// `--allow-known-flaky`: turns it on whatever the file says.
    pub allow_known_flaky: bool,
}

/// A threshold out of range or an unknown rule name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Invalid {
    #[error("unknown rule '{0}' in disable (rules: {rules})", rules = RULES.join(", "))]
    UnknownRule(String),
    #[error("{name} must be a number >= 0, got {value}")]
    Negative { name: &'static str, value: f64 },
    #[error("significance must be in (0, 1], got {0}")]
    Significance(f64),
}

/// Why the gate has no configuration. The messages are complete sentences on their
/// own (no `source` chain) because they are what `pipescope gate` prints.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Not TOML, or a key `[gate]` does not have.
    #[error("{}{error}", in_file(path))]
    Syntax {
        path: Option<PathBuf>,
        error: toml::de::Error,
    },
    /// The file's values are out of range.
    #[error("{}{error}", in_file(path))]
    InvalidFile {
        path: Option<PathBuf>,
        error: Invalid,
    },
    /// The file and the command line together are out of range.
    #[error("invalid gate configuration: {0} (rules: {rules})", rules = RULES.join(", "))]
    Invalid(Invalid),
}

fn in_file(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    gate: Option<GateConfig>,
}

impl GateConfig {
    /// The configuration of one run: defaults, then `file` (or [`DEFAULT_FILE`] when
    /// none is named and it exists), then the command line's `overrides`, which win.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<GateConfig, ConfigError> {
        let path = match file {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
        };
        let config = match path {
            Some(path) => GateConfig::from_file(&path)?,
            None => GateConfig::default(),
        };
        config.with(overrides)
    }

    /// This configuration with the command line's values applied, validated again.
    pub fn with(mut self, overrides: &Overrides) -> Result<GateConfig, ConfigError> {
        let set = |slot: &mut f64, value: Option<f64>| {
            if let Some(v) = value {
                *slot = v;
            }
        };
        set(&mut self.p50_increase, overrides.p50_increase);
        set(&mut self.p95_increase, overrides.p95_increase);
        set(&mut self.min_increase_s, overrides.min_increase_s);
        set(
            &mut self.failure_rate_increase_pp,
            overrides.failure_rate_increase_pp,
        );
        set(&mut self.significance, overrides.significance);
        if let Some(n) = overrides.min_runs {
            self.duration_min_runs = n;
            self.failure_rate_min_runs = n;
            self.new_failure_min_runs = n;
            self.new_flaky_min_runs = n;
        }
        self.disable.extend(overrides.disable.iter().cloned());
        self.allow_known_flaky |= overrides.allow_known_flaky;
        self.validate().map_err(ConfigError::Invalid)?;
        Ok(self)
    }

    /// Reads the `[gate]` section of a `pipescope.toml` (other sections are ignored;
    /// no `[gate]` gives the defaults). Errors name the file and the bad key.
    pub fn from_file(path: &Path) -> Result<GateConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(&text, Some(path))
    }

    /// Parses the `[gate]` section of TOML text.
    pub fn from_toml(text: &str) -> Result<GateConfig, ConfigError> {
        Self::parse(text, None)
    }

    /// Parses and validates; errors name `path` when there is one.
    fn parse(text: &str, path: Option<&Path>) -> Result<GateConfig, ConfigError> {
        let path = || path.map(Path::to_path_buf);
        let file: ConfigFile = toml::from_str(text).map_err(|error| ConfigError::Syntax {
            path: path(),
            error,
        })?;
        let config = file.gate.unwrap_or_default();
        config
            .validate()
            .map_err(|error| ConfigError::InvalidFile {
                path: path(),
                error,
            })?;
        Ok(config)
    }

    /// Checks ranges and rule names.
    pub fn validate(&self) -> Result<(), Invalid> {
        if let Some(name) = self.disable.iter().find(|n| !RULES.contains(&n.as_str())) {
            return Err(Invalid::UnknownRule(name.clone()));
        }
        let non_negative = [
            ("p50_increase", self.p50_increase),
            ("p95_increase", self.p95_increase),
            ("min_increase_s", self.min_increase_s),
            ("failure_rate_increase_pp", self.failure_rate_increase_pp),
        ];
        for (name, value) in non_negative {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Invalid::Negative { name, value });
            }
        }
        if !(self.significance > 0.0 && self.significance <= 1.0) {
            return Err(Invalid::Significance(self.significance));
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
        assert!(!c.allow_known_flaky);
        let allowed = GateConfig::from_toml("[gate]\nallow_known_flaky = true\n").unwrap();
        assert!(allowed.allow_known_flaky);
        let err = GateConfig::from_toml("[gate]\np50_increse = 0.5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("p50_increse"), "{err}");
        let err = GateConfig::from_toml("[gate]\ndisable = [\"speed\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("speed"), "{err}");
        assert_eq!(GateConfig::from_toml("").unwrap(), GateConfig::default());
    }

    #[test]
    fn the_command_line_wins_over_the_file_and_is_validated_with_it() {
        let file = GateConfig::from_toml("[gate]\np50_increase = 0.5\ndisable = [\"new_flaky\"]\n")
            .unwrap();
        let overrides = Overrides {
            p50_increase: Some(0.1),
            min_runs: Some(3),
            disable: vec!["failure_rate".into()],
            ..Overrides::default()
        };
        let c = file.clone().with(&overrides).unwrap();
        assert_eq!(c.p50_increase, 0.1);
        assert_eq!(c.p95_increase, 0.30);
        assert_eq!((c.duration_min_runs, c.new_flaky_min_runs), (3, 3));
        assert_eq!(c.disable, vec!["new_flaky", "failure_rate"]);
        let bad = Overrides {
            significance: Some(2.0),
            ..Overrides::default()
        };
        let err = file.with(&bad).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid gate configuration: significance must be in (0, 1], got 2"),
            "{err}"
        );
    }
}
