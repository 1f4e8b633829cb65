//! The gate's windows: `branch=main,since=14d` — comma-separated `key=value` pairs
//! (`branch`, `pipeline`, `since`, `until`) turned into the engine's [`Filters`].

use crate::analysis::time::parse_time;
use crate::query::Filters;

/// A set of runs to measure: a window of time on a branch and/or pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub branch: Option<String>,
    pub pipeline: Option<String>,
    /// As given (`14d`, `2026-11-01`, RFC 3339); resolved against "now" by [`Window::filters`].
    pub since: Option<String>,
    pub until: Option<String>,
}

impl Window {
    /// Parses `key=value,key=value`. Errors name the offending pair and the keys accepted.
    pub fn parse(text: &str) -> Result<Window, String> {
        let mut window = Window::default();
        for (index, pair) in text.split(',').enumerate() {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let Some((key, value)) = pair.split_once('=') else {
                return Err(format!(
                    "pair {} ('{pair}') is not key=value (keys: branch, pipeline, since, until)",
                    index + 1
                ));
            };
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("pair {} ('{pair}') has an empty value", index + 1));
            }
            let slot = match key.trim() {
                "branch" => &mut window.branch,
                "pipeline" => &mut window.pipeline,
                "since" => &mut window.since,
                "until" => &mut window.until,
                other => {
                    return Err(format!(
                        "unknown key '{other}' in pair {} (keys: branch, pipeline, since, until)",
                        index + 1
                    ));
                }
            };
            if slot.is_some() {
                return Err(format!("key '{}' given twice", key.trim()));
            }
            *slot = Some(value.to_string());
        }
        Ok(window)
    }

    /// The engine filters for this window, times resolved against `now_ns`.
    pub fn filters(&self, now_ns: i64) -> Result<Filters, String> {
        let time = |key: &str, text: &Option<String>| {
            text.as_deref()
                .map(|t| parse_time(t, now_ns).map_err(|e| format!("{key}: {e}")))
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
        let w = Window::parse("branch=feature/x, since=2d").unwrap();
        assert_eq!(w.branch.as_deref(), Some("feature/x"));
        assert_eq!(w.since.as_deref(), Some("2d"));
        let f = w.filters(10 * 86_400_000_000_000).unwrap();
        assert_eq!(f.since_ns, Some(8 * 86_400_000_000_000));
        assert_eq!(f.branches, vec!["feature/x".to_string()]);
        assert_eq!(w.describe(), "branch=feature/x,since=2d");
    }

    #[test]
    fn bad_pairs_are_named() {
        assert!(Window::parse("branch").unwrap_err().contains("pair 1"));
        assert!(
            Window::parse("since=1d,colour=red")
                .unwrap_err()
                .contains("colour")
        );
        assert!(
            Window::parse("branch=a,branch=b")
                .unwrap_err()
                .contains("twice")
        );
        let w = Window::parse("since=someday").unwrap();
        assert!(w.filters(0).unwrap_err().contains("since"));
    }
}
