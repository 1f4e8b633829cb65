//! The gate's outputs: a table for a terminal, Markdown, JSON (a versioned contract)
//! and GitHub Actions annotations plus a step summary.
//!
//! JSON (`schema_version` 1, see `report::json` for the versioning rule):
//! ```json
//! {"schema_version": 1, "query": "gate", "passed": false,
//!  "current": "branch=feature/x,since=2d", "baseline": "branch=main,since=14d",
//!  "current_runs": 12, "baseline_runs": 140, …, "config": {…},
//!  "rules": [{"rule", "enabled", "checked", "too_few_runs", "observed", "threshold", "violations"}],
//!  "violations": [{"rule", "subject": {"kind", "pipeline", "name"}, "baseline", "current",
//!                  "threshold", "statistics": {…}}],
//!  "triage": [{"run", "attempt", "pipeline", "kind", "subject", "category", "reason"}]}
//! ```

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::analysis::gate::{Category, GateReport};
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
                v.statistics.get("p_value").cloned().unwrap_or(Value::Null),
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
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
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
        "violations": report.violations,
        "triage": report.triage,
    })
}

/// Markdown: headline, rules, violations, triage (for PR comments and step summaries).
pub fn markdown(report: &GateReport) -> String {
    let mut out = format!("## pipescope gate: {}\n\n", escape_md(&headline(report)));
    out.push_str(&markdown::render(&rule_rows(report)));
    if !report.violations.is_empty() {
        out.push_str("\n### Violations\n\n");
        out.push_str(&markdown::render(&violation_rows(report)));
    }
    if !report.triage.is_empty() {
        out.push_str("\n### Triage of failed runs\n\n");
        out.push_str(&markdown::render(&triage_rows(report)));
    }
    out
}

/// Escapes trace-derived text (branch names) for a Markdown heading.
fn escape_md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' | '*' | '_' | '[' | ']' | '\\' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Writes the report in `format`.
pub fn write(report: &GateReport, format: GateFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        GateFormat::Table => {
            writeln!(out, "{}\n", headline(report))?;
            writeln!(out, "{}", table::render(&rule_rows(report)))?;
            if !report.violations.is_empty() {
                writeln!(out, "\nViolations")?;
                writeln!(out, "{}", table::render(&violation_rows(report)))?;
            }
            if !report.triage.is_empty() {
                writeln!(out, "\nTriage of failed runs")?;
                writeln!(out, "{}", table::render(&triage_rows(report)))?;
            }
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

fn write_github(report: &GateReport, out: &mut dyn Write) -> io::Result<()> {
    for v in &report.violations {
        let p = v
            .statistics
            .get("p_value")
            .and_then(Value::as_f64)
            .map(|p| format!(", p={p:.2e}"))
            .unwrap_or_default();
        let message = format!(
            "{}: {} — baseline {} → current {} (threshold {}{p})",
            v.rule,
            v.subject.label(),
            plain(&v.baseline),
            plain(&v.current),
            plain(&v.threshold),
        );
        writeln!(
            out,
            "::error title={}::{}",
            property(&format!("pipescope gate: {}", v.rule)),
            data(&message)
        )?;
    }
    for t in &report.triage {
        let level = match t.category {
            Category::New => "warning",
            _ => "notice",
        };
        let message = format!(
            "{} {} in run {}: {} — {}",
            t.kind,
            t.subject,
            t.run,
            t.category.as_str(),
            t.reason
        );
        writeln!(
            out,
            "::{level} title={}::{}",
            property(&format!("pipescope triage: {}", t.category.as_str())),
            data(&message)
        )?;
    }
    let summary = markdown(report);
    match std::env::var_os("GITHUB_STEP_SUMMARY") {
        Some(path) if !path.is_empty() => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            file.write_all(summary.as_bytes())
        }
        _ => out.write_all(summary.as_bytes()),
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Escapes a workflow-command message (GitHub's `escapeData`).
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property (GitHub's `escapeProperty`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_cannot_be_injected() {
        assert_eq!(data("a\n::error::x%"), "a%0A::error::x%25");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
