//! The gate's outputs: a table for a terminal, Markdown, JSON (a versioned contract)
//! and GitHub Actions annotations plus a step summary (written with `render::github`).
//!
//! JSON (`schema_version` 1, see `render::json` for the versioning rule):
//! ```json
//! {"schema_version": 1, "query": "gate", "passed": false,
//!  "current": "branch=feature/x,since=2d", "baseline": "branch=main,since=14d",
//!  "current_runs": 12, "baseline_runs": 140, …, "config": {…},
//!  "rules": [{"rule", "enabled", "checked", "too_few_runs", "observed", "threshold", "violations"}],
//!  "family": {"method": "holm", "significance", "hypotheses", "tested", "untestable"},
//!  "violations": [{"rule", "subject": {"kind", "pipeline", "name"}, "baseline", "current",
//!                  "threshold", "statistics": {…, "p_value", "adjusted_p_value",
//!                  "correction", "family_size"}}],
//!  "triage": [{"run", "attempt", "pipeline", "kind", "subject", "category", "reason"}],
//!  "verdict": {"passed", "allow_known_flaky", "job_status",
//!              "failures": {"known_flaky", "broken_before", "new", "platform"}, "reason"}}
//! ```
//! `category` is `known_flaky`, `broken_before`, `new` or `platform`; `job_status` is
//! `success`, `failure` or null (unknown).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::analysis::gate::{Category, GateReport, Violation};
use crate::render::github::{self, Level};
use crate::render::{Rows, json::SCHEMA_VERSION, markdown, table};

/// The gate's `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GateFormat {
    Table,
    Json,
    Markdown,
    /// `::error` / `::warning` annotations on stdout; the Markdown summary is appended
    /// to `$GITHUB_STEP_SUMMARY` (or printed when that is unset).
    Github,
}

/// The rules as rows: rule, observed, threshold, result.
pub fn rule_rows(report: &GateReport) -> Rows {
    let rows = report
        .rules
        .iter()
        .map(|r| {
            let result = if !r.enabled {
                "OFF"
            } else if r.passed() {
                "PASS"
            } else {
                "FAIL"
            };
            vec![
                json!(r.rule),
                json!(r.observed),
                json!(r.threshold),
                json!(r.checked),
                json!(r.too_few_runs),
                json!(r.violations),
                json!(result),
            ]
        })
        .collect();
    Rows {
        columns: [
            "rule",
            "observed (worst)",
            "threshold",
            "checked",
            "too few runs",
            "violations",
            "result",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

/// One row per violation.
pub fn violation_rows(report: &GateReport) -> Rows {
    let rows = report
        .violations
        .iter()
        .map(|v| {
            vec![
                json!(v.rule),
                json!(v.subject.label()),
                v.baseline.clone(),
                v.current.clone(),
                v.threshold.clone(),
                statistic(v, "p_value"),
                statistic(v, "adjusted_p_value"),
            ]
        })
        .collect();
    Rows {
        columns: [
            "rule",
            "subject",
            "baseline",
            "current",
            "threshold",
            "p_value",
            "adjusted_p",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

fn statistic(v: &Violation, key: &str) -> Value {
    v.statistics.get(key).cloned().unwrap_or(Value::Null)
}

/// How the run's significance tests were corrected, in a sentence.
pub fn family_line(report: &GateReport) -> String {
    let f = &report.family;
    if f.hypotheses == 0 {
        return "Significance: no statistical test in this run".to_string();
    }
    if f.tested == 0 {
        return format!(
            "Significance: none of the {} tests can reach a family-wise error < {} with so few runs",
            f.hypotheses, f.significance
        );
    }
    let left_out = if f.untestable > 0 {
        format!(
            " ({} more left out: too few runs to ever reach it)",
            f.untestable
        )
    } else {
        String::new()
    };
    format!(
        "Significance: Holm-Bonferroni over {} tests, family-wise error < {}{left_out}",
        f.tested, f.significance
    )
}

/// One row per triaged failure.
pub fn triage_rows(report: &GateReport) -> Rows {
    let rows = report
        .triage
        .iter()
        .map(|t| {
            vec![
                json!(t.run),
                json!(t.attempt),
                json!(t.pipeline),
                json!(t.kind),
                json!(t.subject),
                json!(t.category.as_str()),
                json!(t.reason),
            ]
        })
        .collect();
    Rows {
        columns: [
            "run", "attempt", "pipeline", "kind", "subject", "verdict", "reason",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

/// The decision in a sentence: `Verdict: PASS — every failure is known flaky …`.
pub fn verdict_line(report: &GateReport) -> String {
    let v = &report.verdict;
    let mode = if v.allow_known_flaky {
        " (known flakes allowed)"
    } else {
        ""
    };
    format!(
        "Verdict{mode}: {} — {}",
        if v.passed { "PASS" } else { "FAIL" },
        v.reason
    )
}

fn headline(report: &GateReport) -> String {
    format!(
        "{}: current {} ({} runs, {} failed) vs baseline {} ({} runs, {} failed)",
        if report.passed() { "PASS" } else { "FAIL" },
        report.current,
        report.current_runs,
        report.current_failed_runs,
        report.baseline,
        report.baseline_runs,
        report.baseline_failed_runs,
    )
}

/// The JSON document.
pub fn document(report: &GateReport) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "query": "gate",
        "passed": report.passed(),
        "current": report.current,
        "baseline": report.baseline,
        "current_runs": report.current_runs,
        "current_failed_runs": report.current_failed_runs,
        "baseline_runs": report.baseline_runs,
        "baseline_failed_runs": report.baseline_failed_runs,
        "config": report.config,
        "rules": report.rules,
        "family": report.family,
        "violations": report.violations,
        "triage": report.triage,
        "verdict": report.verdict,
    })
}

/// Markdown: headline, rules, violations, triage (for PR comments and step summaries).
pub fn markdown(report: &GateReport) -> String {
    let mut out = format!(
        "## pipescope gate: {}\n\n",
        markdown::escape(&headline(report))
    );
    out.push_str(&markdown::render(&rule_rows(report)));
    out.push_str(&format!("\n{}\n", markdown::escape(&family_line(report))));
    if !report.violations.is_empty() {
        out.push_str("\n### Violations\n\n");
        out.push_str(&markdown::render(&violation_rows(report)));
    }
    if !report.triage.is_empty() {
        out.push_str("\n### Triage of failed runs\n\n");
        out.push_str(&markdown::render(&triage_rows(report)));
    }
    out.push_str(&format!("\n{}\n", markdown::escape(&verdict_line(report))));
    out
}

/// Writes the report in `format`.
pub fn write(report: &GateReport, format: GateFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        GateFormat::Table => {
            writeln!(out, "{}\n", headline(report))?;
            writeln!(out, "{}", table::render(&rule_rows(report)))?;
            writeln!(out, "{}", family_line(report))?;
            if !report.violations.is_empty() {
                writeln!(out, "\nViolations")?;
                writeln!(out, "{}", table::render(&violation_rows(report)))?;
            }
            if !report.triage.is_empty() {
                writeln!(out, "\nTriage of failed runs")?;
                writeln!(out, "{}", table::render(&triage_rows(report)))?;
            }
            writeln!(out, "\n{}", verdict_line(report))?;
            Ok(())
        }
        GateFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &document(report))?;
            writeln!(out)
        }
        GateFormat::Markdown => out.write_all(markdown(report).as_bytes()),
        GateFormat::Github => write_github(report, out),
    }
}

/// Annotations for violations (errors) and triaged failures (warnings for `new` and
/// `broken_before`, notices otherwise), a notice with the verdict when known flakes
/// are allowed, then the Markdown step summary.
fn write_github(report: &GateReport, out: &mut dyn Write) -> io::Result<()> {
    for v in &report.violations {
        let p = match (
            statistic(v, "p_value").as_f64(),
            statistic(v, "adjusted_p_value").as_f64(),
        ) {
            (Some(p), Some(adjusted)) => format!(", p={p:.2e}, adjusted {adjusted:.2e}"),
            (Some(p), None) => format!(", p={p:.2e}"),
            _ => String::new(),
        };
        let message = format!(
            "{}: {} — baseline {} → current {} (threshold {}{p})",
            v.rule,
            v.subject.label(),
            plain(&v.baseline),
            plain(&v.current),
            plain(&v.threshold),
        );
        let title = format!("pipescope gate: {}", v.rule);
        github::annotate(out, Level::Error, &title, &message)?;
    }
    for t in &report.triage {
        let level = match t.category {
            Category::New | Category::BrokenBefore => Level::Warning,
            Category::KnownFlaky | Category::Platform => Level::Notice,
        };
        let message = format!(
            "{} {} in run {}: {} — {}",
            t.kind,
            t.subject,
            t.run,
            t.category.as_str(),
            t.reason
        );
        let title = format!("pipescope triage: {}", t.category.as_str());
        github::annotate(out, level, &title, &message)?;
    }
    if report.verdict.allow_known_flaky {
        let level = if report.passed() {
            Level::Notice
        } else {
            Level::Error
        };
        github::annotate(out, level, "pipescope gate: verdict", &verdict_line(report))?;
    }
    github::step_summary(&markdown(report), github::step_summary_path(), out)
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
