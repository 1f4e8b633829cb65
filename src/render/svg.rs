//! Hand-written inline SVG charts (a line chart, small multiples of bar charts and a
//! waterfall): a plotting crate would cost more compile time than these few hundred
//! lines. Every trace-derived string goes through [`html::escape`](super::html::escape);
//! every series is a `<g class="series" data-series=…>` so
//! tests (and people with devtools) can find it.

use std::fmt::Write;

use super::html::escape;
use crate::analysis::report::{Bar, BranchRates, Series};

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 40.0;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// A line chart of series over shared x labels (sorted), y from 0 to the max.
pub fn line_chart(id: &str, title: &str, y_label: &str, series: &[Series]) -> String {
    let mut xs: Vec<&str> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0.as_str()))
        .collect();
    xs.sort();
    xs.dedup();
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x_of = |label: &str| {
        let i = xs.iter().position(|x| *x == label).unwrap_or(0) as f64;
        LEFT + if xs.len() > 1 {
            i / (xs.len() - 1) as f64 * plot_w
        } else {
            plot_w / 2.0
        }
    };
    let y_of = |v: f64| TOP + plot_h - v / y_max * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{0}" x2="{1}" y2="{0}" stroke="#999"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{0}" stroke="#999"/>"##,
        TOP + plot_h,
        LEFT + plot_w
    );
    for k in 0..=4 {
        let v = y_max * k as f64 / 4.0;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#555">{}</text>"##,
            LEFT - 4.0,
            y_of(v) + 3.0,
            short(v)
        );
    }
    let _ = write!(
        svg,
        r##"<text x="12" y="{}" font-size="11" fill="#333" transform="rotate(-90 12 {})" text-anchor="middle">{}</text>"##,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(y_label)
    );
    let step = (xs.len() / 6).max(1);
    for (i, x) in xs.iter().enumerate().step_by(step) {
        let _ = i;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#555">{}</text>"##,
            x_of(x),
            H - BOTTOM + 14.0,
            escape(x.get(5..).unwrap_or(x))
        );
    }
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let dash = if s.name.ends_with(" p95") {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let points: Vec<String> = s
            .points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", x_of(x), y_of(*y)))
            .collect();
        let _ = write!(
            svg,
            r#"<g class="series" data-series="{}"><polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{}"/>"#,
            escape(&s.name),
            points.join(" ")
        );
        for (x, y) in &s.points {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"><title>{} {}: {}</title></circle>"#,
                x_of(x),
                y_of(*y),
                escape(&s.name),
                escape(x),
                short(*y)
            );
        }
        let ly = TOP + 14.0 * k as f64;
        let _ = write!(
            svg,
            r#"<rect x="{}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{}" font-size="11">{}</text></g>"#,
            W - RIGHT + 10.0,
            ly,
            W - RIGHT + 24.0,
            ly + 9.0,
            escape(&truncate(&s.name, 24))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One small bar chart per branch, all on the same scale and the same buckets, each
/// bar labelled with its failed/runs counts: six branches stay readable where six
/// lines on one chart did not. A `<div id=…>` holding one `<svg>` per branch.
pub fn small_multiples(id: &str, bucket: &str, branches: &[BranchRates]) -> String {
    const SW: f64 = 480.0;
    const SH: f64 = 150.0;
    const S_LEFT: f64 = 36.0;
    const S_RIGHT: f64 = 8.0;
    const S_TOP: f64 = 34.0;
    const S_BOTTOM: f64 = 20.0;
    let mut buckets: Vec<&str> = branches
        .iter()
        .flat_map(|b| b.points.iter().map(|p| p.bucket.as_str()))
        .collect();
    buckets.sort();
    buckets.dedup();
    // The shared scale: up to the highest rate, at least 10 %.
    let y_max = branches
        .iter()
        .flat_map(|b| b.points.iter().map(|p| p.failure_rate))
        .fold(0.1f64, f64::max);
    let plot_w = SW - S_LEFT - S_RIGHT;
    let plot_h = SH - S_TOP - S_BOTTOM;
    let slot = plot_w / buckets.len().max(1) as f64;
    let labelled = slot >= 22.0;
    let mut out = format!(r#"<div id="{id}" class="multiples">"#);
    for b in branches {
        let _ = write!(
            out,
            r#"<svg class="chart small" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SW} {SH}" width="{SW}" height="{SH}" role="img"><title>{} per {bucket}</title><g class="series" data-series="{}">"#,
            escape(&b.branch),
            escape(&b.branch)
        );
        let _ = write!(
            out,
            r##"<text x="4" y="14" font-size="12" font-weight="bold">{}</text><text x="{}" y="14" font-size="11" text-anchor="end" fill="#555">{} of {} runs failed</text>"##,
            escape(&truncate(&b.branch, 44)),
            SW - S_RIGHT,
            b.failed,
            b.runs
        );
        let base = S_TOP + plot_h;
        let _ = write!(
            out,
            r##"<line x1="{S_LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="#999"/><text x="{}" y="{}" font-size="9" text-anchor="end" fill="#555">{}</text><text x="{}" y="{}" font-size="9" text-anchor="end" fill="#555">0</text>"##,
            SW - S_RIGHT,
            S_LEFT - 3.0,
            S_TOP + 3.0,
            percent(y_max),
            S_LEFT - 3.0,
            base + 3.0
        );
        for p in &b.points {
            let Some(k) = buckets.iter().position(|x| *x == p.bucket) else {
                continue;
            };
            let x = S_LEFT + slot * k as f64;
            let h = (p.failure_rate / y_max * plot_h).max(if p.failed > 0 { 2.0 } else { 0.5 });
            let colour = if p.failed > 0 { "#c0392b" } else { "#9ab" };
            let _ = write!(
                out,
                r#"<rect class="bucket" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{} ({bucket}): {} of {} runs failed</title></rect>"#,
                x + 1.0,
                base - h,
                (slot - 2.0).max(1.0),
                h,
                escape(&p.bucket),
                p.failed,
                p.runs
            );
            if labelled {
                let _ = write!(
                    out,
                    r##"<text class="count" x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle" fill="#333">{}/{}</text>"##,
                    x + slot / 2.0,
                    base - h - 3.0,
                    p.failed,
                    p.runs
                );
            }
        }
        let step = (buckets.len() / 6).max(1);
        for (k, label) in buckets.iter().enumerate().step_by(step) {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{}" font-size="9" text-anchor="middle" fill="#555">{}</text>"##,
                S_LEFT + slot * (k as f64 + 0.5),
                SH - 6.0,
                escape(label.get(5..).unwrap_or(label))
            );
        }
        out.push_str("</g></svg>");
    }
    if branches.is_empty() {
        out.push_str("<p>(no pipeline runs)</p>");
    }
    out.push_str("</div>");
    out
}

/// A waterfall of the critical path: one row per span on it, offset by start time,
/// and one grey row per parent for its children off the path.
pub fn waterfall(id: &str, title: &str, bars: &[Bar]) -> String {
    let row_h = 18.0;
    let label_w = 240.0;
    let h = TOP + row_h * bars.len() as f64 + BOTTOM;
    let t_max = bars
        .iter()
        .map(|b| b.end_s)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let scale = (W - label_w - 20.0) / t_max;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img"><title>{}</title><g class="series" data-series="critical path">"#,
        escape(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = TOP + row_h * i as f64;
        let (class, colour, style) = if b.off_path > 0 {
            ("folded", "#ccc", r##" font-style="italic" fill="#666""##)
        } else {
            let colour = match b.role.as_str() {
                "pipeline" => "#888",
                "task" => "#1f77b4",
                "test" => "#2ca02c",
                _ => "#ff7f0e",
            };
            ("bar", colour, "")
        };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="11"{style}>{}</text><rect class="{class}" x="{:.1}" y="{}" width="{:.1}" height="{}" fill="{colour}"><title>{}: {}s → {}s</title></rect>"#,
            4.0 + 8.0 * b.depth as f64,
            y + 12.0,
            escape(&truncate(&b.name, 34)),
            label_w + b.start_s * scale,
            y + 2.0,
            ((b.end_s - b.start_s) * scale).max(1.0),
            row_h - 4.0,
            escape(&b.name),
            short(b.start_s),
            short(b.end_s)
        );
    }
    let _ = write!(
        svg,
        r##"</g><text x="{label_w}" y="{}" font-size="10" fill="#555">0 s</text><text x="{}" y="{}" font-size="10" fill="#555" text-anchor="end">{} s</text></svg>"##,
        h - 10.0,
        W - 20.0,
        h - 10.0,
        short(t_max)
    );
    svg
}

fn percent(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

fn short(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped() {
        let series = vec![Series {
            name: "<script>alert(1)</script>' \"x".into(),
            points: vec![("2025-06-01".into(), 0.5)],
        }];
        let svg = line_chart("c", "t", "y", &series);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;&#39; &quot;x"));
        let branches = vec![BranchRates {
            branch: "<script>".into(),
            runs: 4,
            failed: 1,
            points: vec![crate::analysis::report::RatePoint {
                bucket: "<b>".into(),
                runs: 4,
                failed: 1,
                failure_rate: 0.25,
            }],
        }];
        let html = small_multiples("m", "day", &branches);
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
        assert!(html.contains(">1/4</text>"), "{html}");
    }

    #[test]
    fn small_multiples_share_buckets_and_scale() {
        let point = |bucket: &str, runs, failed| crate::analysis::report::RatePoint {
            bucket: bucket.into(),
            runs,
            failed,
            failure_rate: failed as f64 / runs as f64,
        };
        let branches = vec![
            BranchRates {
                branch: "main".into(),
                runs: 20,
                failed: 5,
                points: vec![point("2026-10-05", 10, 5), point("2026-10-12", 10, 0)],
            },
            BranchRates {
                branch: "dev".into(),
                runs: 4,
                failed: 1,
                points: vec![point("2026-10-12", 4, 1)],
            },
        ];
        let html = small_multiples("m", "week", &branches);
        assert_eq!(html.matches("<svg").count(), 2);
        // Both charts put the 50 % top of the shared scale at the same height, and
        // dev's only bucket in the second slot.
        assert_eq!(html.matches(">50%</text>").count(), 2);
        let dev = &html[html.find("data-series=\"dev\"").unwrap()..];
        let main = &html[..html.find("data-series=\"dev\"").unwrap()];
        let x_of = |svg: &str, bucket: &str| {
            let at = svg.find(&format!("<title>{bucket} (week)")).unwrap();
            let rect = &svg[svg[..at].rfind("<rect").unwrap()..at];
            rect.split("x=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(x_of(dev, "2026-10-12"), x_of(main, "2026-10-12"));
        assert!(html.contains(">5/10</text>") && html.contains(">1/4</text>"));
    }
}
