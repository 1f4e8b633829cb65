//! Parsing of `--since` / `--until`: a duration back from now (`7d`, `12h`, `2w`), a
//! date (`2026-11-01`, midnight UTC) or an RFC 3339 timestamp.

use chrono::{DateTime, NaiveDate, Utc};

/// Parses a point in time relative to `now_ns`; errors say what forms are accepted.
pub fn parse_time(text: &str, now_ns: i64) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        return midnight
            .and_then(|t| t.timestamp_nanos_opt())
            .ok_or_else(|| format!("date out of range: {text}"));
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return time
            .with_timezone(&Utc)
            .timestamp_nanos_opt()
            .ok_or_else(|| format!("time out of range: {text}"));
    }
    match humantime::parse_duration(text) {
        Ok(duration) => {
            let ns = i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX);
            Ok(now_ns.saturating_sub(ns))
        }
        Err(_) => Err(format!(
            "'{text}' is not a duration (7d, 12h, 2w), a date (2026-11-01) or an RFC 3339 time"
        )),
    }
}

/// Now, in ns since the epoch.
pub fn now_ns() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_763_712_000_000_000_000; // 2025-11-21T08:00:00Z

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(parse_time("7d", NOW), Ok(NOW - 7 * 86_400 * 1_000_000_000));
        assert_eq!(parse_time("12h", NOW), Ok(NOW - 12 * 3_600 * 1_000_000_000));
    }

    #[test]
    fn dates_are_midnight_utc_and_timestamps_keep_their_offset() {
        assert_eq!(
            parse_time("2025-11-21", NOW),
            Ok(NOW - 8 * 3_600 * 1_000_000_000)
        );
        assert_eq!(parse_time("2025-11-21T09:00:00+01:00", NOW), Ok(NOW));
    }

    #[test]
    fn nonsense_is_an_error_that_lists_the_accepted_forms() {
        let err = parse_time("yesterday-ish", NOW).unwrap_err();
        assert!(err.contains("7d") && err.contains("RFC 3339"), "{err}");
    }
}
