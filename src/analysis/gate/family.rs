//! The gate's error control across the family of subjects: every significance test of
//! one gate run (one per duration subject, one per failure-rate subject) is judged
//! together, so a quiet history of a few hundred subjects does not fail a build by
//! chance.
//!
//! **Holm–Bonferroni** controls the family-wise error rate (FWER): the probability that
//! a gate run on a history with no change reports *any* violation is at most
//! `significance`. That is the error a CI gate must bound — one false violation fails
//! the build and sends someone chasing a regression that is not there. The false
//! discovery rate (Benjamini–Hochberg) bounds instead the expected *share* of false
//! findings among the findings; on a quiet build every finding is false, so it too is
//! at most `significance` there, but once one real regression is found it lets further
//! chance findings through in proportion, and the gate fails on the first one either
//! way. Holm is uniformly more powerful than plain Bonferroni and assumes nothing about
//! how the tests depend on each other (the durations of a task, its steps and its
//! pipeline share runs).
//!
//! **Tarone's rule** first leaves out the tests that cannot be significant whatever
//! their data: a rank test on 3 current runs against 5 baseline ones cannot go below
//! p = 1/56, and Fisher's test on a task that never failed in either window cannot go
//! below p = 1. For the smallest `K` such that at most `K` tests can reach
//! `significance / K`, the family is those tests, and Holm judges them alone: subjects
//! with little data do not dilute the budget of the others. This is valid because what is left out depends only on sample
//! sizes and margins, never on the p-values.

use serde::Serialize;

/// One test of the family: its p-value and the smallest p-value its test could have
/// given on samples of these sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hypothesis {
    pub p: f64,
    pub min_p: f64,
}

/// What the correction decided for one hypothesis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Kept in the family by Tarone's rule.
    pub tested: bool,
    /// Holm's adjusted p-value: the smallest family-wise level at which this test is
    /// rejected (1 for a test left out).
    pub adjusted_p: f64,
    /// `adjusted_p < significance`.
    pub rejected: bool,
}

/// The family of one gate run, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilySummary {
    /// `holm` (Holm–Bonferroni after Tarone's rule).
    pub method: &'static str,
    /// The family-wise error rate bounded: `significance` of the config.
    pub significance: f64,
    /// Tests carried out (subjects checked by a statistical rule).
    pub hypotheses: u64,
    /// Tests kept in the family: the `m` of Holm's `significance / m`.
    pub tested: u64,
    /// Tests left out because their smallest possible p-value cannot reach the level.
    pub untestable: u64,
}

/// Tarone's rule, then Holm–Bonferroni at family-wise level `significance`: one
/// decision per hypothesis, in order.
pub fn holm_tarone(hypotheses: &[Hypothesis], significance: f64) -> (FamilySummary, Vec<Decision>) {
    let clean = |x: f64| if x.is_nan() { 1.0 } else { x.clamp(0.0, 1.0) };
    let level = tarone_level(hypotheses.iter().map(|h| clean(h.min_p)), significance);
    let kept: Vec<usize> = (0..hypotheses.len())
        .filter(|&i| clean(hypotheses[i].min_p) <= level)
        .collect();

    let mut decisions = vec![
        Decision {
            tested: false,
            adjusted_p: 1.0,
            rejected: false,
        };
        hypotheses.len()
    ];
    let mut by_p = kept.clone();
    by_p.sort_by(|&a, &b| clean(hypotheses[a].p).total_cmp(&clean(hypotheses[b].p)));
    let m = by_p.len();
    let mut running = 0.0f64;
    for (j, &i) in by_p.iter().enumerate() {
        // Holm's step j multiplies by the hypotheses not yet rejected; the running
        // maximum keeps the adjusted p-values in the order of the raw ones.
        running = running.max(((m - j) as f64 * clean(hypotheses[i].p)).min(1.0));
        decisions[i] = Decision {
            tested: true,
            adjusted_p: running,
            rejected: running < significance,
        };
    }
    let summary = FamilySummary {
        method: "holm",
        significance,
        hypotheses: hypotheses.len() as u64,
        tested: m as u64,
        untestable: (hypotheses.len() - m) as u64,
    };
    (summary, decisions)
}

/// Tarone's level `significance / K` for the smallest `K >= 1` such that at most `K`
/// hypotheses have a smallest possible p-value at or below it.
fn tarone_level(min_ps: impl Iterator<Item = f64>, significance: f64) -> f64 {
    let mut min_ps: Vec<f64> = min_ps.collect();
    min_ps.sort_by(f64::total_cmp);
    let mut reachable = min_ps.len();
    for k in 1..=min_ps.len().max(1) {
        let level = significance / k as f64;
        while reachable > 0 && min_ps[reachable - 1] > level {
            reachable -= 1;
        }
        if reachable <= k {
            return level;
        }
    }
    significance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(p: f64, min_p: f64) -> Hypothesis {
        Hypothesis { p, min_p }
    }

    #[test]
    fn holm_adjusts_step_down_and_keeps_the_order() {
        let hs = [h(0.01, 0.0), h(0.04, 0.0), h(0.03, 0.0), h(0.005, 0.0)];
        let (summary, d) = holm_tarone(&hs, 0.05);
        let adjusted: Vec<f64> = d.iter().map(|d| d.adjusted_p).collect();
        // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.06, 0.04·1).
        let expected = [0.03, 0.06, 0.06, 0.02];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{adjusted:?}");
        }
        let rejected: Vec<bool> = d.iter().map(|d| d.rejected).collect();
        assert_eq!(rejected, [true, false, false, true]);
        assert_eq!(
            (summary.hypotheses, summary.tested, summary.untestable),
            (4, 4, 0)
        );
    }

    #[test]
    fn tarone_leaves_out_tests_that_cannot_reach_the_level() {
        // 100 tests that cannot go below 0.02 and one strong one: alone in the family,
        // it is judged at 0.01, not at 0.01 / 101.
        let mut hs = vec![h(0.5, 0.02); 100];
        hs.push(h(0.002, 1e-6));
        let (summary, d) = holm_tarone(&hs, 0.01);
        assert_eq!((summary.tested, summary.untestable), (1, 100));
        assert!(d[100].tested && d[100].rejected);
        assert!((d[100].adjusted_p - 0.002).abs() < 1e-12);
        assert!(!d[0].tested && !d[0].rejected && d[0].adjusted_p == 1.0);
        // Without Tarone's rule Holm would multiply by 101 and miss it.
        let plain: Vec<Hypothesis> = hs.iter().map(|x| h(x.p, 0.0)).collect();
        let (summary, d) = holm_tarone(&plain, 0.01);
        assert_eq!(summary.tested, 101);
        assert!(!d[100].rejected);
    }

    #[test]
    fn tarone_keeps_as_many_as_the_level_allows() {
        // min_p 0.004 reaches 0.01 / K for K <= 2 only: with three such tests, K = 2
        // would keep 3 > 2, so K = 3 keeps none.
        let (summary, _) = holm_tarone(&[h(0.004, 0.004); 3], 0.01);
        assert_eq!(summary.tested, 0);
        let (summary, d) = holm_tarone(&[h(0.004, 0.004); 2], 0.01);
        assert_eq!(summary.tested, 2);
        assert!(
            d.iter()
                .all(|d| d.rejected && (d.adjusted_p - 0.008).abs() < 1e-12)
        );
    }

    #[test]
    fn empty_and_nan_inputs() {
        let (summary, d) = holm_tarone(&[], 0.01);
        assert_eq!((summary.hypotheses, summary.tested), (0, 0));
        assert!(d.is_empty());
        let (_, d) = holm_tarone(&[h(f64::NAN, 0.0), h(1e-9, f64::NAN)], 0.01);
        assert!(d[0].tested && !d[0].rejected && d[0].adjusted_p == 1.0);
        assert!(!d[1].tested);
    }
}
