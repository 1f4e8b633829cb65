//! HTML (and inline SVG) output: the one escaper for element content and quoted
//! attributes, and tables of [`Rows`]. Used by the report (`render::report`) and its
//! charts (`render::svg`).

use std::fmt::Write;

use super::{Rows, cells};

/// Escapes text for HTML and SVG (element content and quoted attributes); control
/// characters become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A `<table>` with a header row; numbers are right-aligned (`class="num"`), and an
/// empty result reads `(none)`.
pub fn table(rows: &Rows) -> String {
    let mut out = String::from("<table><thead><tr>");
    for c in &rows.columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &rows.rows {
        out.push_str("<tr>");
        for v in row {
            let class = if v.is_number() { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(&cells::text(v)));
        }
        out.push_str("</tr>");
    }
    if rows.rows.is_empty() {
        let _ = write!(
            out,
            "<tr><td colspan=\"{}\">(none)</td></tr>",
            rows.columns.len()
        );
    }
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_escaped_and_numbers_aligned() {
        assert_eq!(
            escape("<a href='x'>&\"\n"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot; "
        );
        let rows = Rows {
            columns: vec!["test".into(), "runs".into()],
            rows: vec![vec![json!("<b>"), json!(3)]],
        };
        assert_eq!(
            table(&rows),
            "<table><thead><tr><th>test</th><th>runs</th></tr></thead><tbody><tr><td>&lt;b&gt;</td><td class=\"num\">3</td></tr></tbody></table>"
        );
        let empty = Rows {
            columns: vec!["test".into()],
            rows: vec![],
        };
        assert!(table(&empty).contains("<td colspan=\"1\">(none)</td>"));
    }
}
