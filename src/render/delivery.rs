//! A change's path to production drawn: the terminal waterfall of `pipescope delivery
//! --commit` (a bar per stage on one time axis from the change's first CI run to its
//! last stage's end; `█` where something ran, `░` where the change waited), its SVG
//! twin, and the report's "Path to production" part (the DORA keys with their bands,
//! then the waterfall of the change most recently deployed to production) in Markdown
//! and HTML.

use std::fmt::Write;

use serde_json::{Value, json};

use super::html::{self, escape};
use super::{Rows, markdown};
use crate::analysis::delivery::{DoraRow, StageRow, elapsed};
use crate::analysis::report::delivery::PathToProduction;

/// Width of the whole time axis, in characters.
const WIDTH: usize = 40;

/// One bar per row of stage rows (columns `kind`, `offset_s`, `duration_s`).
pub fn bars(rows: &Rows) -> Vec<String> {
    let col = |name: &str| rows.columns.iter().position(|c| c == name);
    let (Some(kind), Some(offset), Some(duration)) =
        (col("kind"), col("offset_s"), col("duration_s"))
    else {
        return vec![String::new(); rows.rows.len()];
    };
    let num = |v: &Value| v.as_f64().unwrap_or(0.0).max(0.0);
    let total = rows
        .rows
        .iter()
        .map(|r| num(&r[offset]) + num(&r[duration]))
        .fold(0.0, f64::max);
    rows.rows
        .iter()
        .map(|r| {
            let scale = |s: f64| {
                if total > 0.0 {
                    s / total * WIDTH as f64
                } else {
                    0.0
                }
            };
            let from = scale(num(&r[offset])).floor() as usize;
            let to = (scale(num(&r[offset]) + num(&r[duration])).ceil() as usize)
                .clamp(from + 1, WIDTH.max(from + 1));
            let fill = if r[kind].as_str() == Some("wait") {
                '░'
            } else {
                '█'
            };
            let mut bar = " ".repeat(from.min(WIDTH));
            bar.extend(std::iter::repeat_n(fill, to - from));
            bar
        })
        .collect()
}

/// The DORA keys as people read them.
fn key_label(key: &str) -> &str {
    match key {
        "deployment_frequency" => "Deployment frequency",
        "deployment_days" => "Deployment days",
        "lead_time_median" => "Lead time for changes (median)",
        "lead_time_p90" => "Lead time for changes (p90)",
        "change_failure_rate" => "Change failure rate",
        "time_to_restore_median" => "Time to restore (median)",
        other => other,
    }
}

/// The DORA rows as the report and the demo show them.
pub fn dora_table(rows: &[DoraRow]) -> Rows {
    Rows {
        columns: ["repository", "key", "value", "band", "vs. before"]
            .map(String::from)
            .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    json!(r.group),
                    json!(key_label(&r.key)),
                    json!(r.shown),
                    json!(r.band.as_deref().unwrap_or("")),
                    json!(r.trend.as_deref().unwrap_or("")),
                ]
            })
            .collect(),
    }
}

/// A change's stages with their terminal bars: `delivery --commit`'s table.
pub fn stage_table(stages: &[StageRow]) -> Rows {
    let mut rows = Rows::from_records(stages).select(&["stage", "duration", "start"]);
    let bars = bars(&Rows::from_records(stages));
    rows.columns.push("waterfall".into());
    for (row, bar) in rows.rows.iter_mut().zip(bars) {
        row.push(Value::String(bar));
    }
    rows
}

/// What the part says when nothing reached production.
fn no_production(p: &PathToProduction) -> String {
    format!(
        "No production deployment (production: {}).",
        p.production.join(", ")
    )
}

/// The report's part in Markdown.
pub fn path_markdown(p: &PathToProduction) -> String {
    let mut out = format!(
        "\n## Path to production\n\n{}\n\n",
        markdown::escape(&p.summary)
    );
    if p.dora.is_empty() {
        let _ = writeln!(out, "{}", markdown::escape(&no_production(p)));
    } else {
        out.push_str(&markdown::render(&dora_table(&p.dora)));
    }
    if let Some(latest) = &p.latest {
        let _ = write!(
            out,
            "\nThe latest change in production: {}.\n\n",
            markdown::escape(&latest.headline)
        );
        // Markdown tables trim a cell's leading spaces, which would shift every bar
        // to the left edge: the offset says where each stage starts instead.
        let rows = Rows {
            columns: ["stage", "after first CI run", "duration"]
                .map(String::from)
                .to_vec(),
            rows: latest
                .stages
                .iter()
                .map(|s| {
                    vec![
                        json!(s.stage),
                        json!(format!("+{}", elapsed((s.offset_s * 1e9) as i64))),
                        json!(s.duration),
                    ]
                })
                .collect(),
        };
        out.push_str(&markdown::render(&rows));
    }
    out
}

/// The report's part in HTML: the keys with coloured bands, the change's waterfall
/// as SVG.
pub fn path_html(p: &PathToProduction) -> String {
    let mut out = format!("<h2>Path to production</h2><p>{}</p>", escape(&p.summary));
    if p.dora.is_empty() {
        let _ = write!(out, "<p>{}</p>", escape(&no_production(p)));
    } else {
        out.push_str("<table class=\"dora\"><thead><tr>");
        let table = dora_table(&p.dora);
        for c in &table.columns {
            let _ = write!(out, "<th>{}</th>", escape(c));
        }
        out.push_str("</tr></thead><tbody>");
        for (row, dora) in table.rows.iter().zip(&p.dora) {
            out.push_str("<tr>");
            for (i, v) in row.iter().enumerate() {
                let band = dora.band.as_deref().filter(|_| i == 3);
                let class = band
                    .map(|b| format!(" class=\"band {b}\""))
                    .unwrap_or_default();
                let _ = write!(out, "<td{class}>{}</td>", escape(&super::cells::text(v)));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
    if let Some(latest) = &p.latest {
        let _ = write!(
            out,
            "<p>The latest change in production: {}.</p>{}{}",
            escape(&latest.headline),
            svg(&latest.stages),
            html::table(
                &Rows::from_records(&latest.stages).select(&["stage", "duration", "start", "end"])
            )
        );
    }
    out
}

/// The SVG waterfall of a change's stages: blue bars where something ran, grey where
/// the change waited, on one axis from its first CI run.
pub fn svg(stages: &[StageRow]) -> String {
    const W: f64 = 720.0;
    const LABEL_W: f64 = 260.0;
    const ROW_H: f64 = 18.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 24.0;
    let h = TOP + ROW_H * stages.len() as f64 + BOTTOM;
    let total = stages
        .iter()
        .map(|s| s.offset_s + s.duration_s)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let scale = (W - LABEL_W - 20.0) / total;
    let mut out = format!(
        r#"<svg id="change-waterfall" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img"><title>Path to production</title><g class="series" data-series="stages">"#
    );
    for (i, s) in stages.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        let (class, colour) = if s.kind == "wait" {
            ("wait", "#ccc")
        } else {
            ("run", "#1f77b4")
        };
        let _ = write!(
            out,
            r#"<text x="4" y="{}" font-size="11">{}</text><rect class="{class}" x="{:.1}" y="{}" width="{:.1}" height="{}" fill="{colour}"><title>{}: {}</title></rect>"#,
            y + 12.0,
            escape(&s.stage),
            LABEL_W + s.offset_s.max(0.0) * scale,
            y + 2.0,
            (s.duration_s.max(0.0) * scale).max(1.0),
            ROW_H - 4.0,
            escape(&s.stage),
            escape(&s.duration)
        );
    }
    let _ = write!(
        out,
        r##"</g><text x="{LABEL_W}" y="{}" font-size="10" fill="#555">first CI run</text><text x="{}" y="{}" font-size="10" fill="#555" text-anchor="end">+{}</text></svg>"##,
        h - 8.0,
        W - 20.0,
        h - 8.0,
        elapsed((total * 1e9) as i64)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bars_share_one_time_axis() {
        let rows = Rows {
            columns: vec!["kind".into(), "offset_s".into(), "duration_s".into()],
            rows: vec![
                vec![json!("run"), json!(0.0), json!(10.0)],
                vec![json!("wait"), json!(10.0), json!(20.0)],
                vec![json!("run"), json!(30.0), json!(10.0)],
            ],
        };
        let b = bars(&rows);
        assert_eq!(b[0], "█".repeat(10));
        assert_eq!(b[1], format!("{}{}", " ".repeat(10), "░".repeat(20)));
        assert_eq!(b[2], format!("{}{}", " ".repeat(30), "█".repeat(10)));
    }

    #[test]
    fn a_zero_length_stage_still_shows() {
        let rows = Rows {
            columns: vec!["kind".into(), "offset_s".into(), "duration_s".into()],
            rows: vec![vec![json!("run"), json!(0.0), json!(0.0)]],
        };
        assert_eq!(bars(&rows), vec!["█".to_string()]);
    }
}
