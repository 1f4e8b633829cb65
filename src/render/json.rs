//! The JSON output: a wire format other tools read.
//!
//! ```json
//! {"schema_version": 1, "query": "flaky", "params": {"since": "7d"}, "rows": [{…}, …]}
//! ```
//! - `schema_version` changes only when a field is renamed, removed or changes type;
//!   adding a field is not a version change.
//! - `rows` are objects keyed by column name (the names each subcommand documents);
//!   numbers are JSON numbers, timestamps RFC 3339 strings in UTC, absent values `null`.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use super::Rows;

/// Version of the JSON contract.
pub const SCHEMA_VERSION: u32 = 1;

/// The document for one result: `params` are the options that produced it, as given.
pub fn document(query: &str, params: &Map<String, Value>, rows: &Rows) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "query": query,
        "params": params,
        "rows": rows.objects(),
    })
}

/// Writes the [`document`], pretty-printed, and a final newline.
pub fn write(
    query: &str,
    params: &Map<String, Value>,
    rows: &Rows,
    out: &mut dyn Write,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(query, params, rows))?;
    writeln!(out)
}
