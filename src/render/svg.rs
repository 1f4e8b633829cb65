//! Hand-written inline SVG charts (a line chart and a waterfall): a plotting crate
//! would cost more compile time than these ~150 lines. Every trace-derived string
//! goes through [`html::escape`](super::html::escape); every series is a `<g class="series" data-series=…>` so
//! tests (and people with devtools) can find it.

use std::fmt::Write;

use super::html::escape;
use crate::analysis::report::{Bar, Series};

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

/// A waterfall of critical-path spans: one row per span, offset by start time.
pub fn waterfall(id: &str, title: &str, bars: &[Bar]) -> String {
    let row_h = 18.0;
    let label_w = 220.0;
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
        let colour = match b.role.as_str() {
            "pipeline" => "#888",
            "task" => "#1f77b4",
            "test" => "#2ca02c",
            _ => "#ff7f0e",
        };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="11">{}</text><rect class="bar" x="{:.1}" y="{}" width="{:.1}" height="{}" fill="{colour}"><title>{}: {}s → {}s</title></rect>"#,
            4.0 + 8.0 * b.depth as f64,
            y + 12.0,
            escape(&truncate(&b.name, 30)),
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
    }
}
