//! The two kinds of time a JUnit report holds: `timestamp` (when a suite or test
//! started, ISO 8601 in many spellings) and `time` (how long it took, in seconds).

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};

/// Longest believable duration; longer `time` values are treated as missing.
const MAX_DURATION_NS: i64 = 366 * 24 * 3600 * 1_000_000_000;

/// Parses a `timestamp` to ns since the Unix epoch. Accepts what emitters write:
/// `2020-10-27T21:39:41` (no zone: UTC, the usual case), fractions of any length,
/// `Z`, `±HH:MM`, `±HHMM`, a trailing ` UTC`/` GMT`, and a space instead of `T`.
/// Timestamps at or before the epoch count as absent (jest-junit writes
/// `1970-01-01T00:00:00` for suites that failed to run).
pub fn timestamp_ns(raw: &str) -> Option<i64> {
    let s = raw.trim();
    let s = ["UTC", "GMT", "Z", "z"]
        .iter()
        .find_map(|z| s.strip_suffix(z))
        .map(str::trim_end)
        .unwrap_or(s);
    let (local, offset) = split_offset(s);
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(local, f).ok())?;
    let at: DateTime<FixedOffset> = offset.from_local_datetime(&naive).single()?;
    let ns = at.with_timezone(&Utc).timestamp_nanos_opt()?;
    (ns > 0).then_some(ns)
}

/// Splits a trailing `±HH:MM` / `±HHMM` / `±HH` zone offset off a date-time.
fn split_offset(s: &str) -> (&str, FixedOffset) {
    let utc = Utc.fix();
    // The offset's sign comes after the time part; the date's own dashes come before
    // the `T` (or space), so look only behind it.
    let Some(t) = s.find(['T', ' ']) else {
        return (s, utc);
    };
    let Some(sign_at) = s[t..].rfind(['+', '-']).map(|i| t + i) else {
        return (s, utc);
    };
    let digits: String = s[sign_at + 1..].chars().filter(|c| *c != ':').collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return (s, utc);
    }
    let hours: i32 = digits[..2].parse().unwrap_or(0);
    let minutes: i32 = digits.get(2..).and_then(|m| m.parse().ok()).unwrap_or(0);
    let mut secs = hours * 3600 + minutes * 60;
    if s[sign_at..].starts_with('-') {
        secs = -secs;
    }
    match FixedOffset::east_opt(secs) {
        Some(offset) => (s[..sign_at].trim_end(), offset),
        None => (s, utc),
    }
}

/// Parses a `time` (seconds, fractional) to ns. Missing, negative, non-finite and
/// absurd (over a year) values are `None`. Old Surefire versions format with the
/// JVM's locale: `1,234.5` (thousands) and `0,005` (decimal comma) both occur.
pub fn duration_ns(raw: &str) -> Option<i64> {
    let s = raw.trim();
    let cleaned;
    let s = if s.contains(',') {
        cleaned = if s.contains('.') {
            s.replace(',', "")
        } else {
            s.replace(',', ".")
        };
        cleaned.as_str()
    } else {
        s
    };
    let secs: f64 = s.parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let ns = (secs * 1e9).round();
    // `as` saturates, and the bound check rejects what saturated.
    let ns = ns as i64;
    (ns <= MAX_DURATION_NS).then_some(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_603_834_781_000_000_000; // 2020-10-27T21:39:41Z

    #[test]
    fn timestamps_in_every_spelling() {
        for s in [
            "2020-10-27T21:39:41",
            "2020-10-27T21:39:41Z",
            "2020-10-27T21:39:41 UTC",
            "2020-10-27 21:39:41",
            "2020-10-27T21:39:41.000",
            "2020-10-27T21:39:41+00:00",
            "2020-10-27T22:39:41+01:00",
            "2020-10-27T22:39:41+0100",
            "2020-10-27T13:39:41.000-08:00",
            " 2020-10-27T21:39:41 ",
        ] {
            assert_eq!(timestamp_ns(s), Some(T0), "{s}");
        }
        assert_eq!(
            timestamp_ns("2025-11-15T11:51:49.548396-05:00"),
            Some(1_763_225_509_548_396_000)
        );
    }

    #[test]
    fn unusable_timestamps_are_absent() {
        for s in [
            "",
            "yesterday",
            "1970-01-01T00:00:00",
            "1960-01-01T00:00:00",
            "2020-13-40T99:99:99",
            "2020-10-27T21:39:41+99:99",
            "2020-10-27T21:39:41+1",
            "9999999-01-01T00:00:00",
        ] {
            assert_eq!(timestamp_ns(s), None, "{s:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ns("0.036386333"), Some(36_386_333));
        assert_eq!(duration_ns("2"), Some(2_000_000_000));
        assert_eq!(duration_ns(" 0.5 "), Some(500_000_000));
        assert_eq!(duration_ns("1,234.5"), Some(1_234_500_000_000));
        assert_eq!(duration_ns("0,005"), Some(5_000_000));
        assert_eq!(duration_ns("1e-3"), Some(1_000_000));
        for s in ["", "-1", "NaN", "inf", "1e30", "fast", "400000000"] {
            assert_eq!(duration_ns(s), None, "{s:?}");
        }
    }
}
