//! Every renderer: results for people (terminal table, Markdown, self-contained HTML
//! with SVG charts), for spreadsheets (CSV), for machines (JSON, a versioned contract:
//! see [`json`]) and for CI (GitHub annotations). Renderers take rows and reports the
//! analyses computed; they know nothing of DataFusion, and each output language has
//! one escaper (`markdown::escape`, `html::escape`, `github`'s).

pub mod cells;
pub mod gate;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod report;
pub mod svg;
pub mod table;

use std::io::{self, Write};

pub use crate::query::Rows;

/// `--format` of every analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned table for a terminal.
    Table,
    /// `{"schema_version":1,"query":…,"params":{…},"rows":[…]}`.
    Json,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// GitHub-flavoured Markdown table.
    Markdown,
}

/// Writes one result in the chosen format.
pub fn render(
    format: OutputFormat,
    query: &str,
    params: &serde_json::Value,
    rows: &Rows,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => writeln!(out, "{}", table::render(rows)),
        OutputFormat::Json => json::write(query, params, rows, out),
        OutputFormat::Csv => write_csv(rows, out),
        OutputFormat::Markdown => out.write_all(markdown::render(rows).as_bytes()),
    }
}

fn write_csv(rows: &Rows, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&rows.columns)?;
    for row in &rows.rows {
        writer.write_record(row.iter().map(cells::text))?;
    }
    writer.flush()
}
