//! How one value of a result reads in a cell for people (tables, Markdown, CSV, HTML).

use serde_json::Value;

/// Text for people: strings as they are, floats to at most 4 decimals (tiny ones in
/// scientific notation), null empty.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => format_float(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn format_float(f: f64) -> String {
    // p-values and other small magnitudes would all read "0" at 4 decimals.
    if f != 0.0 && f.abs() < 1e-4 {
        return format!("{f:.1e}");
    }
    let s = format!("{f:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::text;
    use serde_json::json;

    #[test]
    fn numbers_read_well() {
        assert_eq!(text(&json!(0.123456)), "0.1235");
        assert_eq!(text(&json!(2.0)), "2");
        assert_eq!(text(&json!(1.5e-12)), "1.5e-12");
        assert_eq!(text(&json!(0.0)), "0");
        assert_eq!(text(&json!(null)), "");
        assert_eq!(text(&json!(42)), "42");
    }
}
