//! The HTTP client shared by the backend APIs `pull` reads (Jaeger, Tempo, Zipkin):
//! authentication headers, credential redaction, and retries.
//!
//! Which failures are retried is decided by [`classify`], apart from how long to wait
//! ([`backoff`]): timeouts, connection errors, 429 and 5xx are retried, other 4xx are
//! not; a body the caller's parser rejects (cut off, HTML error page, not JSON) is
//! retried too, because proxies and overloaded backends produce such bodies
//! transiently. Attempts are bounded. Credentials never appear in errors: URLs are
//! redacted with [`redact`] and header values are marked sensitive.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// How to talk to a backend.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Whole-request timeout (connect, headers and body).
    pub timeout: Duration,
    /// Accept invalid TLS certificates. Only ever set by explicit user choice.
    pub insecure: bool,
    /// Extra headers sent with every request (authorization included).
    pub headers: Vec<(String, String)>,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt, with jitter.
    pub base_delay: Duration,
    /// Upper bound of one delay (a server's `Retry-After` is capped at 10× this).
    pub max_delay: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: Duration::from_secs(30),
            insecure: false,
            headers: Vec::new(),
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// Authentication, turned into headers by [`auth_headers`].
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub bearer: Option<String>,
    /// `user:password`.
    pub basic: Option<String>,
}

/// The `Authorization` header for `auth`, if any.
pub fn auth_headers(auth: &Auth) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if let Some(token) = &auth.bearer {
        headers.push(("Authorization".to_string(), format!("Bearer {token}")));
    } else if let Some(basic) = &auth.basic {
        let encoded = base64::engine::general_purpose::STANDARD.encode(basic);
        headers.push(("Authorization".to_string(), format!("Basic {encoded}")));
    }
    headers
}

/// Errors of one logical request (after its retries).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A status that is not retried (4xx other than 429), or retries exhausted on a
    /// retryable status.
    #[error("{url}: HTTP {status}{hint}")]
    Status {
        url: String,
        status: u16,
        hint: String,
    },
    /// Timeouts or connection errors until the attempts ran out.
    #[error("{url}: {message} (gave up after {attempts} attempts)")]
    Transport {
        url: String,
        message: String,
        attempts: u32,
    },
    /// The body never parsed (cut off, HTML, not the expected JSON).
    #[error("{url}: malformed response body (gave up after {attempts} attempts): {message}")]
    Malformed {
        url: String,
        message: String,
        attempts: u32,
    },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl HttpError {
    /// The HTTP status, if the error is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether this error means every further request will fail too (authentication,
    /// a bad query), so the whole pull should stop rather than skip one item.
    pub fn is_fatal(&self) -> bool {
        matches!(self, HttpError::Status { status, .. }
            if (400..500).contains(status) && *status != 404 && *status != 429)
            || matches!(self, HttpError::Client(_))
    }
}

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

/// The delay before attempt `attempt + 1` (0-based `attempt` just failed): exponential
/// with full jitter in its upper half, never below what the server asked for.
pub fn backoff(config: &HttpConfig, attempt: u32, server_asked: Option<Duration>) -> Duration {
    let exp = config
        .base_delay
        .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
        .min(config.max_delay);
    let jitter: f64 = rand::random::<f64>() * 0.5 + 0.5;
    let delay = exp.mul_f64(jitter);
    match server_asked {
        Some(asked) => delay.max(asked.min(config.max_delay.saturating_mul(10))),
        None => delay,
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

/// `url` with user info and credential-like query parameters replaced by `***`.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return "<unparseable URL>".to_string();
    };
    if !parsed.username().is_empty() {
        let _ = parsed.set_username("***");
    }
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            let secret = ["token", "key", "secret", "password", "auth", "signature"]
                .iter()
                .any(|s| lower.contains(s));
            let v = if secret {
                "***".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    if !pairs.is_empty() {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// Counters shared by every request of a client.
#[derive(Debug, Default)]
pub struct HttpStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
}

/// A successful response: status, content type and the whole body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A retrying HTTP GET client for one backend.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    config: HttpConfig,
    stats: Arc<HttpStats>,
}

impl HttpClient {
    pub fn new(config: HttpConfig) -> Result<HttpClient, HttpError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| HttpError::Client(format!("invalid header name '{name}'")))?;
            let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
                HttpError::Client(format!("invalid value for header '{name}' (not shown)"))
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .default_headers(headers)
            .danger_accept_invalid_certs(config.insecure)
            .user_agent(concat!("pipescope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Client(e.to_string()))?;
        Ok(HttpClient {
            client,
            config,
            stats: Arc::new(HttpStats::default()),
        })
    }

    pub fn stats(&self) -> &HttpStats {
        &self.stats
    }

    /// GETs `url` with `query`, retrying per [`classify`], and hands a 2xx body to
    /// `parse`; a parse error is treated as a malformed body (retried, then
    /// [`HttpError::Malformed`]).
    pub async fn get<T>(
        &self,
        url: &str,
        query: &[(&str, String)],
        accept: &str,
        parse: impl Fn(&Response) -> Result<T, String>,
    ) -> Result<T, HttpError> {
        let shown = redact(url);
        let mut attempt = 0u32;
        loop {
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let (failure, message) = match self.once(url, query, accept).await {
                Ok(response) if (200..300).contains(&response.status) => match parse(&response) {
                    Ok(value) => return Ok(value),
                    Err(message) => (Attempt::Malformed, message),
                },
                Ok(response) => (
                    Attempt::Status {
                        status: response.status,
                        retry_after: None,
                    },
                    String::new(),
                ),
                Err(Failure::Status {
                    status,
                    retry_after,
                }) => (
                    Attempt::Status {
                        status,
                        retry_after,
                    },
                    String::new(),
                ),
                Err(Failure::Transport(message)) => (Attempt::Transport, message),
            };
            attempt += 1;
            let verdict = classify(failure);
            let exhausted = attempt >= self.config.max_attempts.max(1);
            if let (Verdict::Retry { after }, false) = (verdict, exhausted) {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                let delay = backoff(&self.config, attempt - 1, after);
                tracing::debug!("retrying {shown} in {delay:?} after {failure:?} {message}");
                tokio::time::sleep(delay).await;
                continue;
            }
            return Err(match failure {
                Attempt::Status { status, .. } => HttpError::Status {
                    url: shown,
                    status,
                    hint: status_hint(status, attempt),
                },
                Attempt::Transport => HttpError::Transport {
                    url: shown,
                    message,
                    attempts: attempt,
                },
                Attempt::Malformed => HttpError::Malformed {
                    url: shown,
                    message,
                    attempts: attempt,
                },
            });
        }
    }

    /// One attempt: non-2xx statuses come back as `Failure::Status` except 2xx/404
    /// bodies, which callers may want to read.
    async fn once(
        &self,
        url: &str,
        query: &[(&str, String)],
        accept: &str,
    ) -> Result<Response, Failure> {
        let response = self
            .client
            .get(url)
            .query(query)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| Failure::Transport(describe(&e)))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            return Err(Failure::Status {
                status,
                retry_after,
            });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::Transport(format!("body cut off: {}", describe(&e))))?;
        Ok(Response {
            status,
            content_type,
            body: body.to_vec(),
        })
    }
}

enum Failure {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    Transport(String),
}

/// A reqwest error without its URL (which may hold credentials).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "bad body"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

fn status_hint(status: u16, attempts: u32) -> String {
    match status {
        401 | 403 => " (authentication required or refused: see --token, --token-env, --basic-auth-env, --header)".to_string(),
        429 => format!(" (rate limited; gave up after {attempts} attempts)"),
        s if s >= 500 => format!(" (server error; gave up after {attempts} attempts)"),
        _ => String::new(),
    }
}

/// Checks that a body looks like JSON (not an HTML error page behind a 200); the
/// decoders would otherwise report it as one skipped item and carry on.
pub fn expect_json(response: &Response) -> Result<(), String> {
    let first = response
        .body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    match first {
        Some(b'{') | Some(b'[') => Ok(()),
        Some(b'<') => Err("an HTML page where JSON was expected".to_string()),
        None => Err("an empty body where JSON was expected".to_string()),
        Some(_) => Err(format!(
            "not JSON (content type '{}')",
            response.content_type
        )),
    }
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

    #[test]
    fn backoff_grows_is_capped_and_honours_the_server() {
        let config = HttpConfig::default();
        for attempt in 0..20 {
            let d = backoff(&config, attempt, None);
            assert!(d <= config.max_delay, "{d:?}");
        }
        assert!(backoff(&config, 0, None) <= Duration::from_millis(250));
        assert!(backoff(&config, 3, None) >= Duration::from_millis(1000));
        assert!(backoff(&config, 0, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
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

    #[test]
    fn redaction_hides_user_info_and_token_parameters() {
        let shown = redact("https://alice:s3cret@tempo.example/api/search?q=x&api_key=abc");
        assert!(!shown.contains("s3cret") && !shown.contains("abc") && !shown.contains("alice"));
        assert!(shown.contains("q=x"), "{shown}");
        assert_eq!(redact("not a url"), "<unparseable URL>");
    }

    #[test]
    fn fatal_errors_are_auth_and_bad_requests() {
        let e = |status| HttpError::Status {
            url: String::new(),
            status,
            hint: String::new(),
        };
        assert!(e(401).is_fatal() && e(400).is_fatal());
        assert!(!e(404).is_fatal() && !e(503).is_fatal() && !e(429).is_fatal());
    }
}
