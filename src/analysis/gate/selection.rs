//! The gate's run selections: `branch=main,since=14d` — comma-separated `key=value`
//! pairs (`branch`, `pipeline`, `since`, `until`) naming the current or the baseline
//! runs, turned into the engine's [`Filters`]. (Not to be confused with the search
//! window of `pull`, `source::backend::Window`: this one selects stored runs.)

use crate::analysis::time::parse_time;
use crate::query::Filters;

/// The keys a selection accepts, for error messages.
const KEYS: &str = "branch, pipeline, since, until";

/// A set of runs to measure: a span of time on a branch and/or pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunSelection {
    pub branch: Option<String>,
    pub pipeline: Option<String>,
    /// As given (`14d`, `2026-11-01`, RFC 3339); resolved against "now" by
    /// [`RunSelection::filters`].
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Why a selection text does not parse or resolve. Pairs are numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("pair {index} ('{pair}') is not key=value (keys: {keys})", keys = KEYS)]
    NotKeyValue { index: usize, pair: String },
    #[error("pair {index} ('{pair}') has an empty value")]
    EmptyValue { index: usize, pair: String },
    #[error("unknown key '{key}' in pair {index} (keys: {keys})", keys = KEYS)]
    UnknownKey { key: String, index: usize },
    #[error("key '{key}' given twice")]
    Repeated { key: String },
    /// `since` or `until` is not a time `analysis::time::parse_time` understands.
    #[error("{key}: {message}")]
    Time { key: &'static str, message: String },
}

impl RunSelection {
    /// Parses `key=value,key=value`. Errors name the offending pair and the keys accepted.
    pub fn parse(text: &str) -> Result<RunSelection, SelectionError> {
        let mut selection = RunSelection::default();
        for (index, pair) in text.split(',').enumerate() {
            let index = index + 1;
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let Some((key, value)) = pair.split_once('=') else {
                return Err(SelectionError::NotKeyValue {
                    index,
                    pair: pair.to_string(),
                });
            };
            let value = value.trim();
            if value.is_empty() {
                return Err(SelectionError::EmptyValue {
                    index,
                    pair: pair.to_string(),
                });
            }
            let key = key.trim();
            let slot = match key {
                "branch" => &mut selection.branch,
                "pipeline" => &mut selection.pipeline,
                "since" => &mut selection.since,
                "until" => &mut selection.until,
                other => {
                    return Err(SelectionError::UnknownKey {
                        key: other.to_string(),
                        index,
                    });
                }
            };
            if slot.is_some() {
                return Err(SelectionError::Repeated {
                    key: key.to_string(),
                });
            }
            *slot = Some(value.to_string());
        }
        Ok(selection)
    }

    /// The runs of `branch` over the last `since` (`7d`): the CI defaults.
    pub fn branch_since(branch: String, since: &str) -> RunSelection {
        RunSelection {
            branch: Some(branch),
            since: Some(since.to_string()),
            ..RunSelection::default()
        }
    }

    /// The engine filters for this selection, times resolved against `now_ns`.
    pub fn filters(&self, now_ns: i64) -> Result<Filters, SelectionError> {
        let time = |key: &'static str, text: &Option<String>| {
            text.as_deref()
                .map(|t| {
                    parse_time(t, now_ns).map_err(|message| SelectionError::Time { key, message })
                })
                .transpose()
        };
        Ok(Filters {
            since_ns: time("since", &self.since)?,
            until_ns: time("until", &self.until)?,
            branches: self.branch.iter().cloned().collect(),
            pipeline: self.pipeline.clone(),
            ..Filters::default()
        })
    }

    /// `branch=main,since=14d` again (for messages and reports).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("branch", &self.branch),
            ("pipeline", &self.pipeline),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        if parts.is_empty() {
            "all runs".to_string()
        } else {
            parts.join(",")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_and_resolves_times() {
        let w = RunSelection::parse("branch=feature/x, since=2d").unwrap();
        assert_eq!(w.branch.as_deref(), Some("feature/x"));
        assert_eq!(w.since.as_deref(), Some("2d"));
        let f = w.filters(10 * 86_400_000_000_000).unwrap();
        assert_eq!(f.since_ns, Some(8 * 86_400_000_000_000));
        assert_eq!(f.branches, vec!["feature/x".to_string()]);
        assert_eq!(w.describe(), "branch=feature/x,since=2d");
        assert_eq!(
            RunSelection::branch_since("main".into(), "14d").describe(),
            "branch=main,since=14d"
        );
    }

    #[test]
    fn bad_pairs_are_named() {
        let message = |text: &str| RunSelection::parse(text).unwrap_err().to_string();
        assert!(message("branch").contains("pair 1"));
        assert!(message("since=1d,colour=red").contains("colour"));
        assert!(message("branch=a,branch=b").contains("twice"));
        let w = RunSelection::parse("since=someday").unwrap();
        assert!(w.filters(0).unwrap_err().to_string().contains("since"));
    }
}
