//! CSV for spreadsheets: RFC 4180 with a header row, cells as people read them
//! ([`cells::text`]), so a number reads the same as in a table.

use std::io::{self, Write};

use super::{Rows, cells};

/// Writes the header row and one record per row.
pub fn write(rows: &Rows, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(&rows.columns)?;
    for row in &rows.rows {
        writer.write_record(row.iter().map(cells::text))?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quotes_what_needs_quoting() {
        let rows = Rows {
            columns: vec!["test".into(), "rate".into()],
            rows: vec![
                vec![json!("a,\"b\""), json!(0.25)],
                vec![json!(null), json!(1)],
            ],
        };
        let mut out = Vec::new();
        write(&rows, &mut out).expect("writes to memory");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "test,rate\n\"a,\"\"b\"\"\",0.25\n,1\n"
        );
    }
}
