//! The report's "Path to production" part: the DORA keys per repository with their
//! bands and the trend against the period before, and the waterfall of the change
//! most recently deployed to production (`analysis::delivery`).
//!
//! A nightly report covers a day, and a day says little about deployment frequency or
//! change failure rate: the keys cover the report's current period when it is at least
//! [`MIN_DORA_NS`] long, else the [`MIN_DORA_NS`] up to its end, and the baseline the
//! same span just before.

use serde::Serialize;

use super::window::Window;
use super::words;
use crate::analysis::delivery::{
    ChangeRow, DeliverySettings, DoraBy, DoraRow, History, Period, StageRow, dora_window, headline,
    paths, stages,
};
use crate::query::QueryError;
use crate::store::Store;

/// The shortest period the DORA keys are computed over: 30 days, DevLake's default.
pub const MIN_DORA_NS: i64 = 30 * 86_400 * 1_000_000_000;

/// What the part shows.
#[derive(Debug, Clone, Serialize)]
pub struct PathToProduction {
    /// The periods of the keys in plain English.
    pub summary: String,
    /// The environments counted as production.
    pub production: Vec<String>,
    /// `pipescope dora`'s rows, per repository.
    pub dora: Vec<DoraRow>,
    /// The change most recently deployed to production up to the report's end.
    pub latest: Option<LatestChange>,
}

/// One change's path, as `pipescope delivery --commit` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LatestChange {
    /// The change in a sentence.
    pub headline: String,
    pub change: ChangeRow,
    pub stages: Vec<StageRow>,
}

/// The DORA periods for a report over `w`: its own when long enough.
pub fn dora_periods(w: &Window) -> Window {
    if w.current_ns() >= MIN_DORA_NS {
        return *w;
    }
    Window {
        baseline_ns: w.until_ns - 2 * MIN_DORA_NS,
        since_ns: w.until_ns - MIN_DORA_NS,
        until_ns: w.until_ns,
        ends_now_by_duration: w.ends_now_by_duration,
    }
}

pub async fn gather(
    store: &Store,
    w: &Window,
    settings: &DeliverySettings,
) -> Result<PathToProduction, QueryError> {
    let dw = dora_periods(w);
    let history = History::load_since(store, Some(dw.baseline_ns), None).await?;
    Ok(from_history(history, &dw, settings))
}

/// The part as of the store's last production deployment, None when nothing reached
/// production: `pipescope demo` shows it, whose bundled history has fixed dates.
pub async fn as_of_last_production(
    store: &Store,
    settings: &DeliverySettings,
) -> Result<Option<PathToProduction>, QueryError> {
    let history = History::load_since(store, None, None).await?;
    let last = history
        .deployments
        .iter()
        .filter(|d| settings.is_production(&d.environment))
        .map(|d| d.end_ns)
        .max();
    Ok(last.map(|end_ns| {
        let until_ns = end_ns + 1;
        let dw = Window {
            baseline_ns: until_ns - 2 * MIN_DORA_NS,
            since_ns: until_ns - MIN_DORA_NS,
            until_ns,
            ends_now_by_duration: false,
        };
        from_history(history, &dw, settings)
    }))
}

/// The part over the DORA periods `dw` of a history loaded from their start.
fn from_history(
    mut history: History,
    dw: &Window,
    settings: &DeliverySettings,
) -> PathToProduction {
    // Nothing after the report's end: a report of last week does not know today.
    history.runs.retain(|r| r.start_ns < dw.until_ns);
    history.deployments.retain(|d| d.end_ns < dw.until_ns);
    let changes = paths(&history, settings);
    let dora = dora_window(
        &history,
        &changes,
        settings,
        DoraBy::Repo,
        Period {
            start_ns: dw.since_ns,
            end_ns: dw.until_ns,
        },
        Period {
            start_ns: dw.baseline_ns,
            end_ns: dw.since_ns,
        },
    );
    // The latest production deployment's own commit rather than the older changes
    // it carried along (they share its time).
    let latest = changes
        .iter()
        .filter_map(|p| {
            let prod = p.production(settings)?;
            let own = prod.deployed_commit.as_deref() == Some(p.commit.as_str());
            Some(((prod.end_ns, own), p))
        })
        .max_by(|(a, p), (b, q)| a.cmp(b).then_with(|| q.commit.cmp(&p.commit)))
        .map(|(_, p)| LatestChange {
            headline: headline(p, settings),
            change: ChangeRow::of(p, settings),
            stages: stages(p)
                .iter()
                .map(|s| StageRow::of(s, p.first_ci_ns))
                .collect(),
        });
    let summary = if dora.iter().any(|row| row.trend.is_some()) || dora.is_empty() {
        format!("DORA keys of {}.", words::periods(dw))
    } else {
        format!(
            "DORA keys of {}, nothing before it to compare with.",
            words::range(dw.since_ns, dw.until_ns)
        )
    };
    PathToProduction {
        summary,
        production: settings.production.clone(),
        dora,
        latest,
    }
}
