//! What the path to production needs to know of a team's conventions that traces do
//! not say: which branches are the default branch, which environments are production,
//! how soon after a deployment a rollback or hotfix says it failed, and which branches
//! hold hotfixes. Built-in defaults, then the `[delivery]` section of `pipescope.toml`,
//! then the command line.
//!
//! ```toml
//! [delivery]
//! default_branches = ["main", "master"]
//! production = ["production", "prod"]   # environment names, case-insensitive
//! failure_window = "24h"                # a rollback or hotfix this soon after a
//!                                       # production deployment marks it failed
//! hotfix_prefixes = ["hotfix/", "hotfix-", "hotfix_"]
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The settings of one delivery or DORA analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliverySettings {
    pub default_branches: Vec<String>,
    /// Lower-case production environment names.
    pub production: Vec<String>,
    pub failure_window_ns: i64,
    pub hotfix_prefixes: Vec<String>,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            default_branches: vec!["main".into(), "master".into()],
            production: vec!["production".into(), "prod".into()],
            failure_window_ns: 24 * 3_600 * 1_000_000_000,
            hotfix_prefixes: vec!["hotfix/".into(), "hotfix-".into(), "hotfix_".into()],
        }
    }
}

/// The config file read when none is named, if it exists in the working directory.
pub const DEFAULT_FILE: &str = "pipescope.toml";

/// A `[delivery]` section that cannot be used; the message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Default, Deserialize)]
struct File {
    delivery: Option<RawSettings>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    default_branches: Option<Vec<String>>,
    production: Option<Vec<String>>,
    failure_window: Option<String>,
    hotfix_prefixes: Option<Vec<String>>,
}

impl DeliverySettings {
    /// The defaults with `file`'s `[delivery]` section (or [`DEFAULT_FILE`]'s, when no
    /// file is named and it exists) on top.
    pub fn load(file: Option<&Path>) -> Result<DeliverySettings, SettingsError> {
        let path = match file {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
        };
        let Some(path) = path else {
            return Ok(DeliverySettings::default());
        };
        let text = std::fs::read_to_string(&path).map_err(|error| SettingsError::Read {
            path: path.clone(),
            error,
        })?;
        DeliverySettings::from_toml(&text)
            .map_err(|message| SettingsError::Invalid { path, message })
    }

    /// The defaults with the `[delivery]` section of TOML text on top (other sections
    /// are other commands' business).
    pub fn from_toml(text: &str) -> Result<DeliverySettings, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        let raw = file.delivery.unwrap_or_default();
        let mut settings = DeliverySettings::default();
        if let Some(branches) = raw.default_branches {
            settings.default_branches = branches;
        }
        if let Some(names) = raw.production {
            settings.production = names.iter().map(|n| n.trim().to_lowercase()).collect();
        }
        if let Some(window) = raw.failure_window {
            settings.failure_window_ns =
                parse_window(&window).map_err(|e| format!("[delivery] failure_window: {e}"))?;
        }
        if let Some(prefixes) = raw.hotfix_prefixes {
            settings.hotfix_prefixes = prefixes;
        }
        Ok(settings)
    }

    /// `--failure-window` on the command line.
    pub fn with_failure_window(mut self, text: &str) -> Result<DeliverySettings, String> {
        self.failure_window_ns = parse_window(text)?;
        Ok(self)
    }

    pub fn is_default_branch(&self, branch: Option<&str>) -> bool {
        branch.is_some_and(|b| self.default_branches.iter().any(|d| d == b))
    }

    pub fn is_production(&self, environment: &str) -> bool {
        let e = environment.to_lowercase();
        self.production.contains(&e)
    }

    pub fn is_hotfix_branch(&self, branch: Option<&str>) -> bool {
        branch.is_some_and(|b| {
            self.hotfix_prefixes
                .iter()
                .any(|p| b.starts_with(p.as_str()))
        })
    }
}

fn parse_window(text: &str) -> Result<i64, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("'{text}' is not a duration (24h, 2d): {e}"))?;
    i64::try_from(d.as_nanos()).map_err(|_| format!("'{text}' is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_overrides_the_defaults_and_other_sections_are_ignored() {
        let s = DeliverySettings::from_toml(
            "[gate]\nsignificance = 0.1\n[delivery]\ndefault_branches = [\"trunk\"]\nproduction = [\"Live\"]\nfailure_window = \"2h\"\n",
        )
        .unwrap();
        assert!(s.is_default_branch(Some("trunk")));
        assert!(!s.is_default_branch(Some("main")));
        assert!(s.is_production("live"));
        assert_eq!(s.failure_window_ns, 2 * 3_600 * 1_000_000_000);
        assert!(s.is_hotfix_branch(Some("hotfix/login")), "default kept");
    }

    #[test]
    fn bad_values_say_which_key() {
        let err =
            DeliverySettings::from_toml("[delivery]\nfailure_window = \"soon\"\n").unwrap_err();
        assert!(
            err.contains("failure_window") && err.contains("soon"),
            "{err}"
        );
        let err = DeliverySettings::from_toml("[delivery]\nproduction_env = []\n").unwrap_err();
        assert!(err.contains("production_env"), "{err}");
    }
}
