//! The retry policy of the backend client, in two separate decisions: *which*
//! failures are worth another attempt ([`classify`]: timeouts, connection errors,
//! 429 and 5xx, bodies the parser rejected; not other 4xx) and *how long to wait*
//! ([`backoff`]: exponential with jitter, bounded attempts; lengthened by
//! [`honour_server`] to what a 429's `Retry-After` asks). `http` hands both to
//! `backon`, which runs the loop.

use std::time::Duration;

use backon::ExponentialBuilder;

use super::http::HttpConfig;

/// What to do after one failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again; the server asked for at least this delay.
    Retry { after: Option<Duration> },
    /// Give up now.
    Fail,
}

/// One failed attempt, as [`classify`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// Timeout, connection refused or reset, a body cut off mid-transfer.
    Transport,
    /// A complete body the parser rejected.
    Malformed,
}

/// The retry policy: which failures are worth another attempt.
pub fn classify(attempt: Attempt) -> Verdict {
    match attempt {
        Attempt::Status {
            status: 429,
            retry_after,
        } => Verdict::Retry { after: retry_after },
        Attempt::Status { status, .. } if status >= 500 => Verdict::Retry { after: None },
        Attempt::Status { .. } => Verdict::Fail,
        Attempt::Transport | Attempt::Malformed => Verdict::Retry { after: None },
    }
}

/// The waits between attempts: exponential from `base_delay`, doubling up to
/// `max_delay`, each drawn at random from the upper half of its step (`[step/2,
/// step)`), and `max_attempts - 1` of them at most. backon's jitter adds up to one
/// step to the step, so its steps are half ours.
pub fn backoff(config: &HttpConfig) -> ExponentialBuilder {
    let retries = config.max_attempts.max(1) - 1;
    ExponentialBuilder::default()
        .with_min_delay(config.base_delay.min(config.max_delay) / 2)
        .with_max_delay(config.max_delay / 2)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(retries as usize)
}

/// The planned wait, lengthened to what the server asked for (`Retry-After`, capped
/// at 10× `max_delay` so that a hostile or broken server cannot stall a pull).
pub fn honour_server(config: &HttpConfig, planned: Duration, asked: Option<Duration>) -> Duration {
    match asked {
        Some(asked) => planned.max(asked.min(config.max_delay.saturating_mul(10))),
        None => planned,
    }
}

/// Parses `Retry-After`: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_retries_transient_failures_only() {
        let s = |status| Attempt::Status {
            status,
            retry_after: None,
        };
        assert_eq!(classify(s(503)), Verdict::Retry { after: None });
        assert_eq!(classify(s(500)), Verdict::Retry { after: None });
        assert_eq!(classify(s(404)), Verdict::Fail);
        assert_eq!(classify(s(401)), Verdict::Fail);
        assert_eq!(
            classify(Attempt::Status {
                status: 429,
                retry_after: Some(Duration::from_secs(2))
            }),
            Verdict::Retry {
                after: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(classify(Attempt::Malformed), Verdict::Retry { after: None });
        assert_eq!(classify(Attempt::Transport), Verdict::Retry { after: None });
    }

    fn delays(config: &HttpConfig) -> Vec<Duration> {
        use backon::BackoffBuilder as _;
        backoff(config).build().collect()
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_the_server() {
        let config = HttpConfig {
            max_attempts: 21,
            ..HttpConfig::default()
        };
        let waits = delays(&config);
        assert_eq!(waits.len(), 20);
        for d in &waits {
            assert!(*d <= config.max_delay, "{d:?}");
        }
        assert!(waits[0] <= Duration::from_millis(250));
        assert!(waits[0] >= Duration::from_millis(125));
        assert!(waits[3] >= Duration::from_millis(1000));
        let asked = Some(Duration::from_secs(3));
        assert!(honour_server(&config, waits[0], asked) >= Duration::from_secs(3));
        let greedy = Some(Duration::from_secs(3600));
        assert_eq!(
            honour_server(&config, waits[0], greedy),
            config.max_delay * 10
        );
    }

    #[test]
    fn attempts_are_bounded() {
        assert_eq!(delays(&HttpConfig::default()).len(), 4);
        let once = HttpConfig {
            max_attempts: 0,
            ..HttpConfig::default()
        };
        assert!(delays(&once).is_empty());
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
