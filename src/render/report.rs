//! The report as self-contained HTML (inline CSS and SVG, no scripts, no network;
//! escaped and tabulated by `render::html`), Markdown (snapshot-tested) and JSON
//! (`schema_version` 1, query `report`).

use std::fmt::Write;

use serde_json::{Value, json};

use super::delivery;
use super::html::{self, escape};
use super::svg::{line_chart, small_multiples, waterfall};
use crate::analysis::report::{Headline, ReportData, Series};
use crate::render::gate::{rule_rows, triage_rows, violation_rows};
use crate::render::{Rows, cells, json::SCHEMA_VERSION, markdown};

fn change(now: f64, before: f64) -> String {
    if before == 0.0 {
        if now == 0.0 {
            "±0".into()
        } else {
            "new".into()
        }
    } else {
        format!("{:+.0}%", (now / before - 1.0) * 100.0)
    }
}

fn headline_rows(d: &ReportData) -> Rows {
    let (c, p): (&Headline, &Headline) = (&d.current, &d.previous);
    let row = |name: &str, now: f64, before: f64| {
        vec![
            json!(name),
            json!(now),
            json!(before),
            json!(change(now, before)),
        ]
    };
    Rows {
        columns: ["measure", "current", "baseline", "change"]
            .map(String::from)
            .to_vec(),
        rows: vec![
            row("pipeline runs", c.runs as f64, p.runs as f64),
            row("failed runs", c.failed_runs as f64, p.failed_runs as f64),
            row("failure rate", c.failure_rate, p.failure_rate),
            row(
                "p50 pipeline duration (s)",
                c.p50_pipeline_s,
                p.p50_pipeline_s,
            ),
            row("flaky tests", c.flaky_tests as f64, p.flaky_tests as f64),
        ],
    }
}

fn flaky_rows(d: &ReportData) -> Rows {
    Rows {
        columns: [
            "test",
            "runs",
            "failures",
            "score",
            "baseline rate",
            "current rate",
            "trend",
            "likely cause",
        ]
        .map(String::from)
        .to_vec(),
        rows: d
            .flaky
            .iter()
            .map(|f| {
                let trend = match (f.baseline_failure_rate, f.current_failure_rate) {
                    (Some(b), Some(c)) if c > b => "worse",
                    (Some(b), Some(c)) if c < b => "better",
                    (Some(_), Some(_)) => "same",
                    _ => "-",
                };
                vec![
                    json!(f.test),
                    json!(f.runs),
                    json!(f.failures),
                    json!(f.score),
                    json!(f.baseline_failure_rate),
                    json!(f.current_failure_rate),
                    json!(trend),
                    json!(f.likely_cause),
                ]
            })
            .collect(),
    }
}

fn series_rows(series: &[Series], name: &str) -> Rows {
    let mut rows = Vec::new();
    for s in series {
        for (x, y) in &s.points {
            rows.push(vec![json!(s.name), json!(x), json!(y)]);
        }
    }
    Rows {
        columns: vec![name.to_string(), "day".into(), "value".into()],
        rows,
    }
}

fn branch_rows(d: &ReportData) -> Rows {
    let mut rows = Vec::new();
    for b in &d.failure_rate_by_branch {
        for p in &b.points {
            rows.push(vec![
                json!(b.branch),
                json!(p.bucket),
                json!(p.runs),
                json!(p.failed),
                json!(p.failure_rate),
            ]);
        }
    }
    Rows {
        columns: vec![
            "branch".into(),
            d.failure_rate_bucket.clone(),
            "runs".into(),
            "failed".into(),
            "failure rate".into(),
        ],
        rows,
    }
}

fn bar_rows(d: &ReportData) -> Rows {
    Rows {
        columns: ["span", "role", "start_s", "end_s"]
            .map(String::from)
            .to_vec(),
        rows: d
            .critical_path
            .iter()
            .map(|b| {
                vec![
                    json!(format!("{}{}", "  ".repeat(b.depth as usize), b.name)),
                    json!(b.role),
                    json!(b.start_s),
                    json!(b.end_s),
                ]
            })
            .collect(),
    }
}

/// Markdown report.
pub fn markdown(d: &ReportData) -> String {
    let mut out = format!(
        "# pipescope reliability report\n\n{}\n\n## Headline\n\n",
        markdown::escape(&d.summary)
    );
    out.push_str(&markdown::render(&headline_rows(d)));
    out.push_str("\n## Flaky tests\n\n");
    out.push_str(&markdown::render(&flaky_rows(d)));
    let _ = write!(
        out,
        "\n## Pipeline failure rate per branch per {}\n\n",
        d.failure_rate_bucket
    );
    out.push_str(&markdown::render(&branch_rows(d)));
    out.push_str(&platform_markdown(d));
    out.push_str(&delivery::path_markdown(&d.path_to_production));
    out.push_str("\n## Duration of the slowest tasks (s)\n\n");
    out.push_str(&markdown::render(&series_rows(&d.task_durations, "task")));
    out.push_str("\n## Critical path of a recent run\n\n");
    out.push_str(&markdown::render(&bar_rows(d)));
    out.push_str(&format!(
        "\n## Gate: {}\n\n",
        if d.gate.passed() { "PASS" } else { "FAIL" }
    ));
    out.push_str(&markdown::render(&rule_rows(&d.gate)));
    if !d.gate.violations.is_empty() {
        out.push('\n');
        out.push_str(&markdown::render(&violation_rows(&d.gate)));
    }
    out
}

/// What the "Platform or change?" part says first.
const PLATFORM_INTRO: &str = "Failed runs of the current period that the CI platform failed (runner, checkout, infrastructure, an error, cancel or timeout result, or nothing below the run failed) rather than the code or its tests, by count and by the time they took.";

/// The "Platform or change?" part: one sentence per pipeline.
fn platform_markdown(d: &ReportData) -> String {
    let mut out = format!(
        "\n## Platform or change?\n\n{}\n\n",
        markdown::escape(PLATFORM_INTRO)
    );
    if d.platform_or_change.is_empty() {
        out.push_str("No run failed.\n");
    }
    for line in &d.platform_or_change {
        let _ = writeln!(out, "- {}", markdown::escape(&line.words));
    }
    out
}

/// [`platform_markdown`] in HTML.
fn platform_html(d: &ReportData) -> String {
    let mut out = format!(
        "<h2>Platform or change?</h2><p>{}</p>",
        escape(PLATFORM_INTRO)
    );
    if d.platform_or_change.is_empty() {
        out.push_str("<p>No run failed.</p>");
        return out;
    }
    out.push_str("<ul class=\"platform\">");
    for line in &d.platform_or_change {
        let _ = write!(out, "<li>{}</li>", escape(&line.words));
    }
    out.push_str("</ul>");
    out
}

/// JSON report.
pub fn json(d: &ReportData) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "query": "report",
        "report": d,
        "gate_passed": d.gate.passed(),
    })
}

/// Nothing may be wider than the page: text cells wrap anywhere (long test names,
/// causes, branch names) while headers and numbers stay whole (each column is at least
/// as wide as its header), the likely cause gets the room that is left, charts shrink.
const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;padding:0 1em;max-width:1000px;color:#222}\
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}p{overflow-wrap:anywhere}\
table{border-collapse:collapse;font-size:.9em;margin:.5em 0;max-width:100%}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}td{overflow-wrap:anywhere}td:first-child{min-width:8em}th,td.num{white-space:nowrap}\
.flaky table{width:100%}.flaky td:first-child{min-width:15em}.flaky td:last-child{width:40%;font-size:.9em}\
svg.chart{max-width:100%;height:auto}.multiples{display:flex;flex-wrap:wrap;gap:8px}\
td.num{text-align:right}th{background:#f4f4f4}.cards{display:flex;gap:1em;flex-wrap:wrap}\
.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:140px}.card b{font-size:1.4em;display:block}\
.pass{color:#2a7d2a}.fail{color:#c0392b}svg.chart{background:#fff;border:1px solid #eee}\
td.band{font-weight:600}.band.elite{color:#1a7f37}.band.high{color:#4d9a2a}.band.medium{color:#b26a00}.band.low{color:#c0392b}";

/// Self-contained HTML report.
pub fn html(d: &ReportData) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pipescope reliability report</title><style>{CSS}</style></head><body><h1>pipescope reliability report</h1><p id=\"summary\">{}</p><div class=\"cards\">",
        escape(&d.summary)
    );
    for row in &headline_rows(d).rows {
        let _ = write!(
            out,
            "<div class=\"card\">{}<b>{}</b>baseline {} ({})</div>",
            escape(&cells::text(&row[0])),
            escape(&cells::text(&row[1])),
            escape(&cells::text(&row[2])),
            escape(&cells::text(&row[3]))
        );
    }
    let verdict = if d.gate.passed() {
        "pass\">PASS"
    } else {
        "fail\">FAIL"
    };
    let _ = write!(
        out,
        "</div><h2>Flaky tests</h2><div class=\"flaky\">{}</div>",
        html::table(&flaky_rows(d))
    );
    let _ = write!(
        out,
        "<h2>Pipeline failure rate per branch</h2><p>Failed of all runs per {}, one chart per branch, all on one scale.</p>{}",
        if d.failure_rate_bucket == "week" {
            "week (weeks start on Monday; the first and the last may be partial)"
        } else {
            "day"
        },
        small_multiples(
            "failure-rate-by-branch",
            &d.failure_rate_bucket,
            &d.failure_rate_by_branch
        )
    );
    out.push_str(&platform_html(d));
    out.push_str(&delivery::path_html(&d.path_to_production));
    let _ = write!(
        out,
        "<h2>Duration of the slowest tasks</h2>{}",
        line_chart(
            "task-durations",
            "p50 (solid) and p95 (dashed) duration per day",
            "seconds",
            &d.task_durations
        )
    );
    let run = d.critical_path_run.as_deref().unwrap_or("-");
    let _ = write!(
        out,
        "<h2>Critical path of a recent run</h2><p>Trace {}: the chain of spans that decided when it ended; spans that ran beside it are folded into grey rows.</p>{}",
        escape(run),
        waterfall("critical-path", "Critical path", &d.critical_path)
    );
    let _ = write!(
        out,
        "<h2>Gate: <span class=\"{verdict}</span></h2>{}",
        html::table(&rule_rows(&d.gate))
    );
    if !d.gate.violations.is_empty() {
        out.push_str(&html::table(&violation_rows(&d.gate)));
    }
    if !d.gate.triage.is_empty() {
        let _ = write!(out, "<h3>Triage</h3>{}", html::table(&triage_rows(&d.gate)));
    }
    out.push_str("</body></html>\n");
    out
}
