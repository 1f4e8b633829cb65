//! The HTTP client shared by the backend APIs `pull` reads (Jaeger, Tempo, Zipkin):
//! its documented configuration ([`HttpConfig`], which `pipescope pull` fills from
//! its flags), authentication, credential redaction, and retries.
//!
//! Which failures are retried, and how long to wait, is the policy of
//! [`retry`](super::retry); the `backon` crate runs the loop. A body the caller's
//! parser rejects (cut off, HTML error page, not JSON: a [`BodyError`]) is retried
//! too, because proxies and overloaded backends produce such bodies transiently.
//! Credentials never appear in errors: URLs are redacted with [`redact`], header
//! values are marked sensitive and [`Secret`]s are not printed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::Retryable;
use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::retry::{Attempt, Verdict, backoff, classify, honour_server, parse_retry_after};
use crate::source::{Problem, SourceError};

/// How to talk to one backend: the configuration of a pull source. The command line
/// fills it from its flags; [`HttpClient::new`] turns it into a client.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Whole-request timeout (connect, headers and body).
    pub timeout: Duration,
    /// Accept invalid TLS certificates. Only ever set by explicit user choice.
    pub insecure: bool,
    /// Authentication, sent as the `Authorization` header.
    pub auth: Auth,
    /// Extra headers sent with every request, after the authorization (so a header of
    /// the same name replaces it).
    pub headers: Vec<(String, String)>,
    /// Attempts per request, the first included (at least 1).
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
            auth: Auth::default(),
            headers: Vec::new(),
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// A credential, given as it is or named by an environment variable that is read
/// when the client is built (command lines are visible to other users, environments
/// are not). Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// The credential itself.
    Value(String),
    /// The name of the environment variable holding it.
    Env(String),
}

impl Secret {
    /// The credential; an unset variable is an error naming it.
    pub fn resolve(&self) -> Result<String, HttpError> {
        match self {
            Secret::Value(value) => Ok(value.clone()),
            Secret::Env(var) => std::env::var(var).map_err(|source| HttpError::MissingEnv {
                var: var.clone(),
                source,
            }),
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Value(_) => f.write_str("Value(***)"),
            Secret::Env(var) => f.debug_tuple("Env").field(var).finish(),
        }
    }
}

/// Authentication, turned into headers by [`auth_headers`].
#[derive(Debug, Clone, Default)]
pub struct Auth {
    /// A bearer token (wins over `basic`).
    pub bearer: Option<Secret>,
    /// `user:password`.
    pub basic: Option<Secret>,
}

/// The `Authorization` header for `auth`, if any, reading secrets from the environment.
pub fn auth_headers(auth: &Auth) -> Result<Vec<(String, String)>, HttpError> {
    let bearer = auth.bearer.as_ref().map(Secret::resolve).transpose()?;
    let basic = auth.basic.as_ref().map(Secret::resolve).transpose()?;
    let mut headers = Vec::new();
    if let Some(token) = bearer {
        headers.push(("Authorization".to_string(), format!("Bearer {token}")));
    } else if let Some(basic) = basic {
        let encoded = base64::engine::general_purpose::STANDARD.encode(basic);
        headers.push(("Authorization".to_string(), format!("Basic {encoded}")));
    }
    Ok(headers)
}

/// Errors of one logical request (after its retries), or of building the client.
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
    #[error("{url}: malformed response body (gave up after {attempts} attempts): {reason}")]
    Malformed {
        url: String,
        reason: BodyError,
        attempts: u32,
    },
    /// A credential's environment variable is not set.
    #[error("environment variable {var} is not set")]
    MissingEnv {
        var: String,
        #[source]
        source: std::env::VarError,
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
            || matches!(self, HttpError::Client(_) | HttpError::MissingEnv { .. })
    }
}

/// Why a complete 2xx body was rejected by the caller's parser. It is retried like a
/// transport failure, then reported as [`HttpError::Malformed`].
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// An HTML page, an empty body or another content type where JSON was expected.
    #[error("{0}")]
    NotJson(String),
    /// JSON that does not parse.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Protobuf that does not parse.
    #[error(transparent)]
    Protobuf(#[from] prost::DecodeError),
    /// Well-formed, but not the shape the API answers with.
    #[error("{0}")]
    Shape(String),
    /// The decoder skipped an item: a body decoded strictly must have none (a cut-off
    /// or corrupted body must be retried, not half stored).
    #[error("{}", .0.message)]
    Skipped(Problem),
    /// The decoder stopped.
    #[error(transparent)]
    Decode(#[from] SourceError),
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
    /// Builds the client: reads the credentials, checks the headers.
    pub fn new(config: HttpConfig) -> Result<HttpClient, HttpError> {
        let mut all = auth_headers(&config.auth)?;
        all.extend(config.headers.iter().cloned());
        let mut headers = HeaderMap::new();
        for (name, value) in &all {
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

    /// Requests and retries so far, over every clone of this client.
    pub fn stats(&self) -> &HttpStats {
        &self.stats
    }

    /// GETs `url` with `query`, retrying per [`classify`] after waits of [`backoff`]
    /// (lengthened to a server's `Retry-After`), and hands a 2xx body to `parse`; a
    /// parse error is treated as a malformed body (retried, then
    /// [`HttpError::Malformed`]).
    pub async fn get<T>(
        &self,
        url: &str,
        query: &[(&str, String)],
        accept: &str,
        parse: impl Fn(&Response) -> Result<T, BodyError>,
    ) -> Result<T, HttpError> {
        let shown = redact(url);
        let mut retries = 0u32;
        let result = (|| self.attempt(url, query, accept, &parse))
            .retry(backoff(&self.config))
            .when(|failed: &Failed| classify(failed.attempt()) != Verdict::Fail)
            .adjust(|failed, planned| {
                let asked = match classify(failed.attempt()) {
                    Verdict::Retry { after } => after,
                    Verdict::Fail => None,
                };
                planned.map(|planned| honour_server(&self.config, planned, asked))
            })
            .notify(|failed, delay| {
                retries += 1;
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("retrying {shown} in {delay:?} after {failed:?}");
            })
            .await;
        result.map_err(|failed| failed.into_error(shown, retries + 1))
    }

    /// One attempt, counted in the stats.
    async fn attempt<T>(
        &self,
        url: &str,
        query: &[(&str, String)],
        accept: &str,
        parse: &impl Fn(&Response) -> Result<T, BodyError>,
    ) -> Result<T, Failed> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let response = self.once(url, query, accept).await?;
        parse(&response).map_err(Failed::Malformed)
    }

    /// Sends one request and reads the whole body; non-2xx statuses come back as
    /// `Failed::Status`.
    async fn once(
        &self,
        url: &str,
        query: &[(&str, String)],
        accept: &str,
    ) -> Result<Response, Failed> {
        let response = self
            .client
            .get(url)
            .query(query)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| Failed::Transport(describe(&e)))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            return Err(Failed::Status {
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
            .map_err(|e| Failed::Transport(format!("body cut off: {}", describe(&e))))?;
        Ok(Response {
            status,
            content_type,
            body: body.to_vec(),
        })
    }
}

/// One failed attempt with what the final error needs.
#[derive(Debug)]
enum Failed {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    Transport(String),
    Malformed(BodyError),
}

impl Failed {
    fn attempt(&self) -> Attempt {
        match self {
            Failed::Status {
                status,
                retry_after,
            } => Attempt::Status {
                status: *status,
                retry_after: *retry_after,
            },
            Failed::Transport(_) => Attempt::Transport,
            Failed::Malformed(_) => Attempt::Malformed,
        }
    }

    /// The error of the request whose last attempt this was.
    fn into_error(self, url: String, attempts: u32) -> HttpError {
        match self {
            Failed::Status { status, .. } => HttpError::Status {
                url,
                status,
                hint: status_hint(status, attempts),
            },
            Failed::Transport(message) => HttpError::Transport {
                url,
                message,
                attempts,
            },
            Failed::Malformed(reason) => HttpError::Malformed {
                url,
                reason,
                attempts,
            },
        }
    }
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
pub fn expect_json(response: &Response) -> Result<(), BodyError> {
    let first = response
        .body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    let not_json = |message: String| Err(BodyError::NotJson(message));
    match first {
        Some(b'{') | Some(b'[') => Ok(()),
        Some(b'<') => not_json("an HTML page where JSON was expected".to_string()),
        None => not_json("an empty body where JSON was expected".to_string()),
        Some(_) => not_json(format!(
            "not JSON (content type '{}')",
            response.content_type
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_the_environment_and_are_not_shown() {
        let auth = Auth {
            bearer: Some(Secret::Value("s3cret".into())),
            basic: None,
        };
        assert_eq!(
            auth_headers(&auth).unwrap(),
            vec![("Authorization".to_string(), "Bearer s3cret".to_string())]
        );
        assert!(!format!("{auth:?}").contains("s3cret"));
        let missing = Secret::Env("PIPESCOPE_TEST_SURELY_UNSET_VARIABLE".into());
        let err = missing.resolve().unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable PIPESCOPE_TEST_SURELY_UNSET_VARIABLE is not set"
        );
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
