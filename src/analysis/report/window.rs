//! The report's two periods, resolved from `--since`, `--until` and `--baseline`.
//!
//! The current period is `[since, until)`; the baseline is `[baseline, since)`. Each
//! bound is a date, an RFC 3339 time or a duration (`7d`); durations count back from
//! `--until` (default now), so `--since 2d --until 2026-10-22` is 20–21 October. Left
//! out, the baseline is the same span of time just before the current period, so an
//! absolute `--since 2026-10-01` on 23 October compares 1–22 October with the 22 days
//! before. Only an explicit `--baseline` that does not reach back before `--since` is an
//! error. `words` says the result in plain English.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::analysis::time::parse_time;

/// The resolved periods (ns since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start of the baseline.
    pub baseline_ns: i64,
    /// End of the baseline and start of the current period.
    pub since_ns: i64,
    /// End of the current period (exclusive).
    pub until_ns: i64,
    /// `--since` was a duration and there was no `--until`: the period ends now, so it
    /// reads "the last 2 days".
    pub ends_now_by_duration: bool,
}

/// Why the periods cannot be resolved; each names the flag and what it was given.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WindowError {
    #[error("--{flag}: {message}")]
    Unparsable { flag: &'static str, message: String },
    #[error("--since {since} must be before --until {until}: the current period would be empty")]
    EmptyPeriod { since: String, until: String },
    #[error(
        "--baseline {baseline} must reach further back than --since {since}: the baseline runs from --baseline up to --since (leave --baseline out to compare with the same span of time just before --since)"
    )]
    BaselineTooShort { baseline: String, since: String },
}

/// The flags as given (`until` and `baseline` may be left out).
#[derive(Debug, Clone, Copy)]
pub struct WindowArgs<'a> {
    pub since: &'a str,
    pub until: Option<&'a str>,
    pub baseline: Option<&'a str>,
}

impl Window {
    /// Resolves the flags against `now_ns` (only `--until`, or its default, uses it).
    pub fn resolve(args: WindowArgs<'_>, now_ns: i64) -> Result<Window, WindowError> {
        let parse = |flag: &'static str, text: &str, reference: i64| {
            parse_time(text, reference).map_err(|message| WindowError::Unparsable { flag, message })
        };
        let until_ns = match args.until {
            Some(text) => parse("until", text, now_ns)?,
            None => now_ns,
        };
        let since_ns = parse("since", args.since, until_ns)?;
        if since_ns >= until_ns {
            return Err(WindowError::EmptyPeriod {
                since: args.since.to_string(),
                until: args.until.unwrap_or("now").to_string(),
            });
        }
        let baseline_ns = match args.baseline {
            Some(text) => {
                let ns = parse("baseline", text, until_ns)?;
                if ns >= since_ns {
                    return Err(WindowError::BaselineTooShort {
                        baseline: text.to_string(),
                        since: args.since.to_string(),
                    });
                }
                ns
            }
            None => since_ns.saturating_sub(until_ns - since_ns),
        };
        Ok(Window {
            baseline_ns,
            since_ns,
            until_ns,
            ends_now_by_duration: is_duration(args.since) && args.until.is_none(),
        })
    }

    /// Length of the current period.
    pub fn current_ns(&self) -> i64 {
        self.until_ns - self.since_ns
    }

    /// Length of the baseline.
    pub fn baseline_len_ns(&self) -> i64 {
        self.since_ns - self.baseline_ns
    }

    /// The bounds as RFC 3339 times, for the JSON report.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            baseline_from: rfc3339(self.baseline_ns),
            current_from: rfc3339(self.since_ns),
            current_to: rfc3339(self.until_ns),
        }
    }
}

/// The window's bounds in the JSON report: the baseline is `[baseline_from,
/// current_from)`, the current period `[current_from, current_to)`.
#[derive(Debug, Clone, Serialize)]
pub struct Bounds {
    pub baseline_from: String,
    pub current_from: String,
    pub current_to: String,
}

fn rfc3339(ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// True when `text` is a duration rather than a date or a time.
fn is_duration(text: &str) -> bool {
    humantime::parse_duration(text.trim()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400 * 1_000_000_000;
    /// 2026-10-23T00:00:00Z.
    const NOW: i64 = 1_792_713_600 * 1_000_000_000;
    /// 2026-10-01T00:00:00Z.
    const OCT_1: i64 = NOW - 22 * DAY;

    fn args<'a>(
        since: &'a str,
        until: Option<&'a str>,
        baseline: Option<&'a str>,
    ) -> WindowArgs<'a> {
        WindowArgs {
            since,
            until,
            baseline,
        }
    }

    #[test]
    fn an_absolute_since_is_compared_with_the_same_span_before_it() {
        let w = Window::resolve(args("2026-10-01", None, None), NOW).unwrap();
        assert_eq!(w.since_ns, OCT_1);
        assert_eq!(w.until_ns, NOW);
        assert_eq!(w.baseline_ns, OCT_1 - 22 * DAY);
        assert!(!w.ends_now_by_duration);
        assert_eq!(w.bounds().baseline_from, "2026-09-09T00:00:00Z");
    }

    #[test]
    fn durations_count_back_from_until() {
        let w = Window::resolve(args("2d", Some("2026-10-22"), Some("9d")), NOW).unwrap();
        assert_eq!(w.until_ns, NOW - DAY);
        assert_eq!(w.since_ns, NOW - 3 * DAY);
        assert_eq!(w.baseline_ns, NOW - 10 * DAY);
        assert!(
            !w.ends_now_by_duration,
            "2 days before 22 October is not 'the last 2 days'"
        );
        let w = Window::resolve(args("1d", None, None), NOW).unwrap();
        assert!(w.ends_now_by_duration);
        assert_eq!((w.baseline_ns, w.since_ns), (NOW - 2 * DAY, NOW - DAY));
    }

    #[test]
    fn only_an_explicit_baseline_that_stops_short_is_refused() {
        let err = Window::resolve(args("2026-10-01", None, Some("7d")), NOW).unwrap_err();
        assert_eq!(
            err,
            WindowError::BaselineTooShort {
                baseline: "7d".into(),
                since: "2026-10-01".into()
            }
        );
        assert!(err.to_string().contains("leave --baseline out"), "{err}");
        assert!(Window::resolve(args("2026-10-01", None, Some("30d")), NOW).is_ok());
        assert!(Window::resolve(args("2026-10-01", None, Some("2026-10-01")), NOW).is_err());
    }

    #[test]
    fn an_empty_or_unparsable_period_is_an_error_naming_the_flag() {
        let err = Window::resolve(args("2026-10-23", None, None), NOW).unwrap_err();
        assert!(matches!(err, WindowError::EmptyPeriod { .. }), "{err}");
        let err = Window::resolve(args("2d", Some("soon"), None), NOW).unwrap_err();
        assert!(err.to_string().starts_with("--until: "), "{err}");
        let err = Window::resolve(args("yesterday", None, None), NOW).unwrap_err();
        assert!(err.to_string().starts_with("--since: "), "{err}");
    }
}
