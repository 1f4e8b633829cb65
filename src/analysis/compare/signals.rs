//! Turns the per-name facts of `aggregate` into candidate rows, one statistical test per
//! (span, signal): Mann-Whitney U on self times, Fisher's exact test on error origins,
//! presence and attribute values.

use super::aggregate::{Aggregate, AttrCounts, NameFacts, Owner, SideFacts};
use super::{CompareRow, Signal};
use crate::analysis::stats::{fisher_exact, mann_whitney_u, mean, percentile_of};

/// A row plus what the ranking needs beyond the row itself.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub row: CompareRow,
    /// An error row whose span is where the error started.
    pub origin: bool,
    /// Depth below the test span (0 for the test span itself).
    pub depth: u32,
}

pub(super) fn candidates(test: &str, agg: &Aggregate) -> Vec<Candidate> {
    let mut out = Vec::new();
    out.extend(self_duration(test, agg));
    for (name, facts) in &agg.names {
        out.extend(duration(test, agg, name, facts));
        out.extend(error(test, agg, name, facts));
        out.extend(presence(test, agg, name, facts));
    }
    for ((owner, key, value), counts) in &agg.attrs {
        let (span, facts, depth) = match owner {
            Owner::Test => (agg.test_name.as_str(), &agg.test, 0),
            Owner::Below(name) => match agg.names.get(name) {
                Some(f) => (name.as_str(), f, f.depth),
                None => continue,
            },
        };
        out.extend(attribute(
            test, agg, span, facts, depth, key, value, *counts,
        ));
    }
    out
}

/// A row with the descriptive fields of `facts` filled in.
fn base_row(test: &str, span: &str, agg: &Aggregate, facts: &NameFacts) -> CompareRow {
    let p50 = |s: &SideFacts| (!s.total_ms.is_empty()).then(|| percentile_of(&s.total_ms, 50.0));
    let avg = |s: &SideFacts| (!s.total_ms.is_empty()).then(|| mean(&s.total_ms));
    let (pass_p50_ms, fail_p50_ms) = (p50(&facts.pass), p50(&facts.fail));
    CompareRow {
        test: test.to_string(),
        span: span.to_string(),
        pass_count: facts.pass.present,
        fail_count: facts.fail.present,
        pass_p50_ms,
        fail_p50_ms,
        pass_mean_ms: avg(&facts.pass),
        fail_mean_ms: avg(&facts.fail),
        delta_ms: fail_p50_ms.zip(pass_p50_ms).map(|(f, p)| f - p),
        pass_error_rate: rate(facts.pass.errored, agg.n_pass),
        fail_error_rate: rate(facts.fail.errored, agg.n_fail),
        signal: Signal::Duration,
        detail: String::new(),
        p_value: 1.0,
        effect: 0.0,
    }
}

fn rate(count: u64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { count as f64 / n as f64 }
}

/// Mann-Whitney U on self times; the effect is the rank-biserial correlation's
/// magnitude (0: the sides interleave, 1: every failing value beats every passing one).
fn mwu(facts: &NameFacts) -> Option<(f64, f64)> {
    let (fail, pass) = (&facts.fail.self_ms, &facts.pass.self_ms);
    if fail.is_empty() || pass.is_empty() {
        return None;
    }
    let (u, p) = mann_whitney_u(fail, pass);
    let effect = (2.0 * u / (fail.len() as f64 * pass.len() as f64) - 1.0).abs();
    Some((p, effect))
}

fn duration_words(row: &CompareRow) -> String {
    let (Some(f), Some(p)) = (row.fail_p50_ms, row.pass_p50_ms) else {
        return String::new();
    };
    let ratio = if p > 0.0 {
        format!(" ({:.1}x)", f / p)
    } else {
        String::new()
    };
    format!(
        "{} ms when failing vs {} ms when passing{ratio}",
        fmt_ms(f),
        fmt_ms(p)
    )
}

fn fmt_ms(ms: f64) -> String {
    if ms.abs() >= 100.0 {
        format!("{ms:.0}")
    } else if ms.abs() >= 1.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.3}")
    }
}

fn self_duration(test: &str, agg: &Aggregate) -> Option<Candidate> {
    let (p_value, effect) = mwu(&agg.test)?;
    let mut row = base_row(test, &agg.test_name, agg, &agg.test);
    // The test's own time, not its total: a slow child shows up as its own row.
    let own = |s: &SideFacts| (!s.self_ms.is_empty()).then(|| percentile_of(&s.self_ms, 50.0));
    let words = duration_words(&CompareRow {
        fail_p50_ms: own(&agg.test.fail),
        pass_p50_ms: own(&agg.test.pass),
        ..row.clone()
    });
    row.detail = format!("{} own time p50 {words}", agg.test_name);
    row.signal = Signal::SelfDuration;
    row.p_value = p_value;
    row.effect = effect;
    Some(Candidate {
        row,
        origin: false,
        depth: 0,
    })
}

fn duration(test: &str, agg: &Aggregate, name: &str, facts: &NameFacts) -> Option<Candidate> {
    let (p_value, effect) = mwu(facts)?;
    let mut row = base_row(test, name, agg, facts);
    row.detail = format!("{name} p50 {}", duration_words(&row));
    row.p_value = p_value;
    row.effect = effect;
    Some(Candidate {
        row,
        origin: false,
        depth: facts.depth,
    })
}

/// Fisher's exact test on "errored here" counts. A name that is ever the origin of an
/// error on the failing side is tested on origin counts; an ancestor that only errors
/// because something below it did is tested on errored counts and marked as not an
/// origin, so with equal evidence it ranks below the origin.
fn error(test: &str, agg: &Aggregate, name: &str, facts: &NameFacts) -> Option<Candidate> {
    let origin = facts.fail.origin > 0;
    let (fail, pass) = if origin {
        (facts.fail.origin, facts.pass.origin)
    } else {
        (facts.fail.errored, facts.pass.errored)
    };
    let (fail_rate, pass_rate) = (rate(fail, agg.n_fail), rate(pass, agg.n_pass));
    if fail == 0 || fail_rate <= pass_rate {
        return None;
    }
    let mut row = base_row(test, name, agg, facts);
    row.signal = Signal::Error;
    row.p_value = fisher_exact(
        fail,
        agg.n_fail.saturating_sub(fail),
        pass,
        agg.n_pass.saturating_sub(pass),
    );
    row.effect = fail_rate - pass_rate;
    let where_ = if origin {
        "the error starts here"
    } else {
        "the error comes from a span below"
    };
    row.detail = format!(
        "{name} errors in {fail}/{} failing runs, {pass}/{} passing ({where_})",
        agg.n_fail, agg.n_pass
    );
    Some(Candidate {
        row,
        origin,
        depth: facts.depth,
    })
}

/// Fisher's exact test on presence: `missing` when the span occurs more often in
/// passing runs, `extra` when more often in failing ones.
fn presence(test: &str, agg: &Aggregate, name: &str, facts: &NameFacts) -> Option<Candidate> {
    let (fail, pass) = (facts.fail.present, facts.pass.present);
    let (fail_rate, pass_rate) = (rate(fail, agg.n_fail), rate(pass, agg.n_pass));
    if fail_rate == pass_rate || agg.n_fail == 0 || agg.n_pass == 0 {
        return None;
    }
    let mut row = base_row(test, name, agg, facts);
    row.p_value = fisher_exact(
        fail,
        agg.n_fail.saturating_sub(fail),
        pass,
        agg.n_pass.saturating_sub(pass),
    );
    row.effect = (fail_rate - pass_rate).abs();
    if pass_rate > fail_rate {
        row.signal = Signal::Missing;
        row.detail = format!(
            "{name} present in {pass}/{} passing runs, {fail}/{} failing",
            agg.n_pass, agg.n_fail
        );
    } else {
        row.signal = Signal::Extra;
        row.detail = format!(
            "{name} present in {fail}/{} failing runs, {pass}/{} passing",
            agg.n_fail, agg.n_pass
        );
    }
    Some(Candidate {
        row,
        origin: false,
        depth: facts.depth,
    })
}

/// Fisher's exact test on executions carrying `key=value`, kept only when the value is
/// enriched on the failing side (a value typical of passing runs explains nothing).
#[allow(clippy::too_many_arguments)]
fn attribute(
    test: &str,
    agg: &Aggregate,
    span: &str,
    facts: &NameFacts,
    depth: u32,
    key: &str,
    value: &str,
    counts: AttrCounts,
) -> Option<Candidate> {
    let (fail_rate, pass_rate) = (rate(counts.fail, agg.n_fail), rate(counts.pass, agg.n_pass));
    if fail_rate <= pass_rate {
        return None;
    }
    let mut row = base_row(test, span, agg, facts);
    row.signal = Signal::Attribute;
    row.p_value = fisher_exact(
        counts.fail,
        agg.n_fail.saturating_sub(counts.fail),
        counts.pass,
        agg.n_pass.saturating_sub(counts.pass),
    );
    row.effect = fail_rate - pass_rate;
    row.detail = format!(
        "{key}={value} in {}/{} failing runs, {}/{} passing",
        counts.fail, agg.n_fail, counts.pass, agg.n_pass
    );
    Some(Candidate {
        row,
        origin: false,
        depth,
    })
}
