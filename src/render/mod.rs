//! Every renderer: results for people (terminal table, Markdown, self-contained HTML
//! with SVG charts), for spreadsheets (CSV), for machines (JSON, a versioned contract:
//! see [`json`]) and for CI (GitHub annotations). Renderers take rows and reports the
//! analyses computed; they know nothing of DataFusion, and each output language has
//! one escaper (`markdown::escape`, `html::escape`, `github`'s).
//!
//! An analysis's typed rows reach every format the same way: [`Rows::from_records`],
//! then [`render`] (or [`print`]) in the `--format` asked for.

pub mod cells;
pub mod csv;
pub mod delivery;
pub mod gate;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod quarantine;
pub mod report;
pub mod svg;
pub mod table;

use std::io::{self, Write};

use serde_json::{Map, Value};

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

/// Writes one result in the chosen format; `query` and `params` (what produced the
/// rows) appear only in JSON.
pub fn render(
    format: OutputFormat,
    query: &str,
    params: &Map<String, Value>,
    rows: &Rows,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => writeln!(out, "{}", table::render(rows)),
        OutputFormat::Json => json::write(query, params, rows, out),
        OutputFormat::Csv => csv::write(rows, out),
        OutputFormat::Markdown => out.write_all(markdown::render(rows).as_bytes()),
    }
}

/// [`render`] to stdout, flushed.
pub fn print(
    format: OutputFormat,
    query: &str,
    params: &Map<String, Value>,
    rows: &Rows,
) -> io::Result<()> {
    let mut out = io::stdout().lock();
    render(format, query, params, rows, &mut out)?;
    out.flush()
}

/// `--format` of an output made of several titled tables (`demo`): only formats for
/// people, since JSON and CSV carry one result per document (run the analysis itself
/// for those).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SectionFormat {
    /// A title line over an aligned table, for a terminal.
    Table,
    /// A `##` heading over a GitHub-flavoured Markdown table.
    Markdown,
}

/// Writes one titled table of a several-table output.
pub fn section(
    format: SectionFormat,
    title: &str,
    rows: &Rows,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        SectionFormat::Table => write!(out, "\n{title}\n{}\n", table::render(rows)),
        SectionFormat::Markdown => write!(
            out,
            "\n## {}\n\n{}",
            markdown::escape(title),
            markdown::render(rows)
        ),
    }
}
