//! GitHub-flavoured Markdown tables, safe for any cell content.

use super::{Rows, cells};

pub fn render(rows: &Rows) -> String {
    let mut out = String::new();
    out.push_str(&line(rows.columns.iter().map(|c| escape(c))));
    out.push_str(&line(rows.columns.iter().map(|_| "---".to_string())));
    for row in &rows.rows {
        out.push_str(&line(row.iter().map(|v| escape(&cells::text(v)))));
    }
    out
}

fn line(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells.collect();
    format!("| {} |\n", cells.join(" | "))
}

/// Escapes what would break a table row or inject markup: pipes, newlines, HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            // Inside a word (`failure_rate`) an underscore is not emphasis in GFM.
            '_' if word(i.checked_sub(1)) && word(Some(i + 1)) => out.push(c),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' | '*' | '_' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_pipes_newlines_and_html() {
        let rows = Rows {
            columns: vec!["branch".into(), "runs".into()],
            rows: vec![
                vec![json!("a|b\n<script>"), json!(3)],
                vec![json!("_em_ snake_case"), json!(1)],
            ],
        };
        assert_eq!(
            render(&rows),
            "| branch | runs |\n| --- | --- |\n| a\\|b &lt;script&gt; | 3 |\n| \\_em\\_ snake_case | 1 |\n"
        );
    }
}
