//! The report's periods in plain English, for its opening sentence:
//! "This report covers 1–22 October 2026, compared with the 22 days before
//! (9–30 September 2026)." Dates are UTC; a period that starts and ends at midnight is
//! a range of whole days (its last day is the one before its exclusive end), any other
//! shows its times.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::window::Window;

const MINUTE_NS: i64 = 60 * 1_000_000_000;
const HOUR_NS: i64 = 60 * MINUTE_NS;
const DAY_NS: i64 = 24 * HOUR_NS;

/// The sentence that opens the report.
pub fn summary(w: &Window) -> String {
    format!("This report covers {}.", periods(w))
}

/// The two periods: "the last 2 days (1–2 June 2025), compared with the 2 days before
/// (30–31 May 2025)".
pub fn periods(w: &Window) -> String {
    let current = range(w.since_ns, w.until_ns);
    let current = if w.ends_now_by_duration {
        format!("the last {} ({current})", counted(w.current_ns()))
    } else {
        current
    };
    format!(
        "{current}, compared with the {} before ({})",
        counted(w.baseline_len_ns()),
        range(w.baseline_ns, w.since_ns)
    )
}

/// [`span`] after "the": "the last day", "the 13 days before".
fn counted(ns: i64) -> String {
    let text = span(ns);
    match text.strip_prefix("1 ") {
        Some(unit) => unit.to_string(),
        None => text,
    }
}

/// A length of time in the largest unit that says it well enough: whole days, else
/// days rounded from two days on (the dates beside it are exact), else whole hours,
/// else hours rounded from two hours on, else minutes (rounded). "778544 minutes"
/// says nothing a reader can use; "541 days" does.
pub fn span(ns: i64) -> String {
    let rounded = |unit_ns: i64| (ns + unit_ns / 2) / unit_ns;
    let (n, unit) = if ns >= DAY_NS && ns % DAY_NS == 0 {
        (ns / DAY_NS, "day")
    } else if ns >= 2 * DAY_NS {
        (rounded(DAY_NS), "day")
    } else if ns >= HOUR_NS && ns % HOUR_NS == 0 {
        (ns / HOUR_NS, "hour")
    } else if ns >= 2 * HOUR_NS {
        (rounded(HOUR_NS), "hour")
    } else {
        (rounded(MINUTE_NS), "minute")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// `[from, to)` as dates ("1–22 October 2026", "28 September – 3 October 2026") or,
/// when a bound is not midnight, as times ("15 June 2025, 08:00–14:30 UTC").
pub fn range(from_ns: i64, to_ns: i64) -> String {
    let from = DateTime::<Utc>::from_timestamp_nanos(from_ns);
    let to = DateTime::<Utc>::from_timestamp_nanos(to_ns);
    let midnight = |t: &DateTime<Utc>| t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0;
    if midnight(&from) && midnight(&to) && to_ns > from_ns {
        let last = DateTime::<Utc>::from_timestamp_nanos(to_ns - DAY_NS);
        return date_range(&from, &last);
    }
    let same_day = from.date_naive() == to.date_naive();
    if same_day {
        format!("{}, {}–{} UTC", date(&from), clock(&from), clock(&to))
    } else {
        format!(
            "{} {} – {} {} UTC",
            date(&from),
            clock(&from),
            date(&to),
            clock(&to)
        )
    }
}

fn date_range(first: &DateTime<Utc>, last: &DateTime<Utc>) -> String {
    if first.date_naive() == last.date_naive() {
        date(first)
    } else if (first.year(), first.month()) == (last.year(), last.month()) {
        format!("{}–{}", first.day(), date(last))
    } else if first.year() == last.year() {
        format!("{} {} – {}", first.day(), month(first), date(last))
    } else {
        format!("{} – {}", date(first), date(last))
    }
}

fn date(t: &DateTime<Utc>) -> String {
    format!("{} {} {}", t.day(), month(t), t.year())
}

fn month(t: &DateTime<Utc>) -> &'static str {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    MONTHS[t.month0() as usize % 12]
}

fn clock(t: &DateTime<Utc>) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::report::window::WindowArgs;

    /// 2026-10-23T00:00:00Z.
    const NOW: i64 = 1_792_713_600 * 1_000_000_000;

    fn said(since: &str, until: Option<&str>, baseline: Option<&str>, now: i64) -> String {
        let args = WindowArgs {
            since,
            until,
            baseline,
        };
        summary(&Window::resolve(args, now).unwrap())
    }

    #[test]
    fn an_absolute_since_reads_as_dates() {
        assert_eq!(
            said("2026-10-01", None, None, NOW),
            "This report covers 1–22 October 2026, compared with the 22 days before (9–30 September 2026)."
        );
    }

    #[test]
    fn a_relative_since_says_the_last_and_the_dates() {
        assert_eq!(
            said("2d", None, Some("15d"), NOW),
            "This report covers the last 2 days (21–22 October 2026), compared with the 13 days before (8–20 October 2026)."
        );
        assert_eq!(
            said("1d", None, None, NOW),
            "This report covers the last day (22 October 2026), compared with the day before (21 October 2026)."
        );
    }

    #[test]
    fn a_duration_before_an_explicit_until_is_just_dates() {
        assert_eq!(
            said("2d", Some("2026-10-20"), None, NOW),
            "This report covers 18–19 October 2026, compared with the 2 days before (16–17 October 2026)."
        );
    }

    #[test]
    fn periods_across_months_and_years_name_both_ends() {
        let jan_3 = 1_767_398_400 * 1_000_000_000; // 2026-01-03T00:00:00Z
        assert_eq!(
            said("2025-12-28", None, None, jan_3),
            "This report covers 28 December 2025 – 2 January 2026, compared with the 6 days before (22–27 December 2025)."
        );
        assert_eq!(
            said("2026-09-28", Some("2026-10-04"), None, NOW),
            "This report covers 28 September – 3 October 2026, compared with the 6 days before (22–27 September 2026)."
        );
    }

    #[test]
    fn times_that_are_not_midnight_are_shown() {
        let now = NOW + 14 * HOUR_NS + 30 * MINUTE_NS; // 14:30
        assert_eq!(
            said("6h", None, None, now),
            "This report covers the last 6 hours (23 October 2026, 08:30–14:30 UTC), compared with the 6 hours before (23 October 2026, 02:30–08:30 UTC)."
        );
        assert_eq!(span(90 * MINUTE_NS), "90 minutes");
        assert_eq!(span(36 * HOUR_NS), "36 hours");
        // Long uneven spans (an absolute --since up to now) in rounded days or hours.
        assert_eq!(span(778_544 * MINUTE_NS), "541 days");
        assert_eq!(span(3 * DAY_NS + 11 * HOUR_NS), "3 days");
        assert_eq!(span(5 * HOUR_NS + 40 * MINUTE_NS), "6 hours");
    }
}
