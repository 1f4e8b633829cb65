//! Tables for a terminal (comfy-table). Numbers are right-aligned; long cells wrap.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::{Rows, cells};

/// Cells longer than this are cut in a table (JSON and CSV keep them whole).
const MAX_CELL_CHARS: usize = 120;

/// The rows as an aligned table (`(no rows)` under the header when empty), without a
/// final newline.
pub fn render(rows: &Rows) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(&rows.columns);
    for row in &rows.rows {
        table.add_row(row.iter().map(|v| {
            let cell = comfy_table::Cell::new(shorten(&cells::text(v)));
            if v.is_number() {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    if rows.rows.is_empty() {
        format!("{table}\n(no rows)")
    } else {
        table.to_string()
    }
}

fn shorten(text: &str) -> String {
    // Control characters from trace data must not drive the terminal.
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > MAX_CELL_CHARS {
        let cut: String = clean.chars().take(MAX_CELL_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        clean
    }
}
