//! The report's "Platform or change?" part: for the current period, per pipeline, how
//! many failed runs and how much of their time the CI platform failed rather than the
//! code or its tests (`analysis::failure_cause`), said in a sentence: "build: 3 of 8
//! failed runs (38 %) and 41 min of 2.1 h lost were the platform: checkout errored (2),
//! runner timed out (1)."

use serde::Serialize;

use crate::analysis::failure_cause::{self, CauseCount, CauseRow};
use crate::query::{Engine, QueryError};

/// One pipeline's (or, last, all pipelines') platform share, with its sentence.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformShare {
    #[serde(flatten)]
    pub counts: CauseRow,
    /// The failures that decided the platform runs, most runs first.
    pub platform_causes: Vec<CauseCount>,
    /// The counts in words.
    pub words: String,
}

/// The pipelines with most failed runs shown; the total covers them all.
const MAX_PIPELINES: usize = 8;
/// Platform causes named in a sentence.
const MAX_CAUSES: usize = 3;

/// The part's lines: the pipelines with failed runs (most first), then the total when
/// more than one pipeline failed. Empty when no run failed.
pub async fn shares(engine: &Engine) -> Result<Vec<PlatformShare>, QueryError> {
    let all = failure_cause::rows(engine, None).await?;
    let (totals, mut pipelines): (Vec<_>, Vec<_>) = all.into_iter().partition(|c| c.row.total);
    pipelines.truncate(MAX_PIPELINES);
    let mut out: Vec<PlatformShare> = pipelines
        .into_iter()
        .map(|c| line(c.row, c.platform_causes, false))
        .collect();
    if out.len() > 1 {
        out.extend(
            totals
                .into_iter()
                .map(|c| line(c.row, c.platform_causes, true)),
        );
    }
    Ok(out)
}

fn line(counts: CauseRow, platform_causes: Vec<CauseCount>, total: bool) -> PlatformShare {
    let name = if total {
        "All pipelines".to_string()
    } else {
        counts
            .pipeline
            .clone()
            .unwrap_or_else(|| "(no pipeline name)".into())
    };
    let words = format!("{name}: {}", sentence(&counts, &platform_causes, total));
    PlatformShare {
        counts,
        platform_causes,
        words,
    }
}

/// "3 of 8 failed runs (38 %) and 41 min of 2.1 h lost were the platform: …".
fn sentence(c: &CauseRow, causes: &[CauseCount], total: bool) -> String {
    let runs = |n: u64| if n == 1 { "run" } else { "runs" };
    if c.platform_runs == 0 {
        let all = if c.failed_runs == 1 {
            "the 1 failed run".to_string()
        } else {
            format!("all {} failed runs", c.failed_runs)
        };
        return format!(
            "{all} ({} lost) were code or tests, none the platform.",
            duration(c.lost_s)
        );
    }
    let mut text = format!(
        "{} of {} failed {} ({} %) and {} of {} lost were the platform",
        c.platform_runs,
        c.failed_runs,
        runs(c.failed_runs),
        (c.platform_share * 100.0).round(),
        duration(c.platform_lost_s),
        duration(c.lost_s),
    );
    if !total && !causes.is_empty() {
        let named: Vec<String> = causes
            .iter()
            .take(MAX_CAUSES)
            .map(|c| format!("{} ({})", c.cause, c.runs))
            .collect();
        text.push_str(": ");
        text.push_str(&named.join(", "));
        if causes.len() > MAX_CAUSES {
            text.push_str(", …");
        }
    }
    text.push('.');
    text
}

/// Seconds as a reader counts them: `45 s`, `41 min`, `2.1 h`, `3.2 days`.
pub fn duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{} s", seconds.round())
    } else if seconds < 90.0 * 60.0 {
        format!("{} min", (seconds / 60.0).round())
    } else if seconds < 48.0 * 3600.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} days", seconds / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(failed: u64, platform: u64, lost: f64, platform_lost: f64) -> CauseRow {
        CauseRow {
            pipeline: Some("build".into()),
            failed_runs: failed,
            platform_runs: platform,
            change_runs: failed - platform,
            platform_share: (platform as f64 / failed as f64 * 10_000.0).round() / 10_000.0,
            lost_s: lost,
            platform_lost_s: platform_lost,
            ..CauseRow::default()
        }
    }

    #[test]
    fn the_sentence_names_counts_time_and_causes() {
        let causes = vec![
            CauseCount {
                cause: "checkout errored".into(),
                runs: 2,
            },
            CauseCount {
                cause: "runner timed out".into(),
                runs: 1,
            },
        ];
        let l = line(counts(8, 3, 2.1 * 3600.0, 41.0 * 60.0), causes, false);
        assert_eq!(
            l.words,
            "build: 3 of 8 failed runs (38 %) and 41 min of 2.1 h lost were the platform: checkout errored (2), runner timed out (1)."
        );
        let l = line(counts(2, 0, 75.0, 0.0), Vec::new(), false);
        assert_eq!(
            l.words,
            "build: all 2 failed runs (75 s lost) were code or tests, none the platform."
        );
        assert_eq!(duration(3.0 * 86_400.0), "3.0 days");
    }
}
