//! The terminal waterfall of one change's path: a bar per stage, placed on one time
//! axis from the change's first CI run to its last stage's end; `█` where something
//! ran, `░` where the change waited.

use serde_json::Value;

use super::Rows;

/// Width of the whole time axis, in characters.
const WIDTH: usize = 40;

/// One bar per row of stage rows (columns `kind`, `offset_s`, `duration_s`).
pub fn bars(rows: &Rows) -> Vec<String> {
    let col = |name: &str| rows.columns.iter().position(|c| c == name);
    let (Some(kind), Some(offset), Some(duration)) =
        (col("kind"), col("offset_s"), col("duration_s"))
    else {
        return vec![String::new(); rows.rows.len()];
    };
    let num = |v: &Value| v.as_f64().unwrap_or(0.0).max(0.0);
    let total = rows
        .rows
        .iter()
        .map(|r| num(&r[offset]) + num(&r[duration]))
        .fold(0.0, f64::max);
    rows.rows
        .iter()
        .map(|r| {
            let scale = |s: f64| {
                if total > 0.0 {
                    s / total * WIDTH as f64
                } else {
                    0.0
                }
            };
            let from = scale(num(&r[offset])).floor() as usize;
            let to = (scale(num(&r[offset]) + num(&r[duration])).ceil() as usize)
                .clamp(from + 1, WIDTH.max(from + 1));
            let fill = if r[kind].as_str() == Some("wait") {
                '░'
            } else {
                '█'
            };
            let mut bar = " ".repeat(from.min(WIDTH));
            bar.extend(std::iter::repeat_n(fill, to - from));
            bar
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bars_share_one_time_axis() {
        let rows = Rows {
            columns: vec!["kind".into(), "offset_s".into(), "duration_s".into()],
            rows: vec![
                vec![json!("run"), json!(0.0), json!(10.0)],
                vec![json!("wait"), json!(10.0), json!(20.0)],
                vec![json!("run"), json!(30.0), json!(10.0)],
            ],
        };
        let b = bars(&rows);
        assert_eq!(b[0], "█".repeat(10));
        assert_eq!(b[1], format!("{}{}", " ".repeat(10), "░".repeat(20)));
        assert_eq!(b[2], format!("{}{}", " ".repeat(30), "█".repeat(10)));
    }

    #[test]
    fn a_zero_length_stage_still_shows() {
        let rows = Rows {
            columns: vec!["kind".into(), "offset_s".into(), "duration_s".into()],
            rows: vec![vec![json!("run"), json!(0.0), json!(0.0)]],
        };
        assert_eq!(bars(&rows), vec!["█".to_string()]);
    }
}
