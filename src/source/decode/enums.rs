//! Span kind and status spellings across formats.
//!
//! OTLP/JSON carries enums as ints (`2`) or names (`SPAN_KIND_SERVER`), Jaeger and
//! Zipkin use lowercase or uppercase words (`server`, `SERVER`), the Python SDK writes
//! `SpanKind.SERVER`. Every spelling is mapped here to the stored kind string and
//! [`Status`].

use crate::model::Status;

/// Stored kind for an OTLP `SpanKind` number; unknown numbers are `unspecified`.
pub fn kind_from_int(n: i64) -> &'static str {
    match n {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

/// Stored kind for a kind name in any of the spellings above, or `None`.
pub fn kind_from_name(s: &str) -> Option<&'static str> {
    let s = s.trim();
    let word = s
        .strip_prefix("SPAN_KIND_")
        .or_else(|| s.strip_prefix("SpanKind."))
        .unwrap_or(s);
    if let Ok(n) = word.parse::<i64>() {
        return Some(kind_from_int(n));
    }
    const KINDS: [&str; 6] = [
        "internal",
        "server",
        "client",
        "producer",
        "consumer",
        "unspecified",
    ];
    KINDS.into_iter().find(|k| k.eq_ignore_ascii_case(word))
}

/// Status for an OTLP `StatusCode` number.
pub fn status_from_int(n: i64) -> Status {
    match n {
        1 => Status::Ok,
        2 => Status::Error,
        _ => Status::Unset,
    }
}

/// Status for a status name (`STATUS_CODE_ERROR`, `ERROR`, `StatusCode.OK`, `ok`, `2`).
pub fn status_from_name(s: &str) -> Option<Status> {
    let s = s.trim();
    let word = s
        .strip_prefix("STATUS_CODE_")
        .or_else(|| s.strip_prefix("StatusCode."))
        .unwrap_or(s);
    if let Ok(n) = word.parse::<i64>() {
        return Some(status_from_int(n));
    }
    if word.eq_ignore_ascii_case("ok") {
        Some(Status::Ok)
    } else if word.eq_ignore_ascii_case("error") {
        Some(Status::Error)
    } else if word.eq_ignore_ascii_case("unset") {
        Some(Status::Unset)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind_from_int(2), "server");
        assert_eq!(kind_from_int(0), "unspecified");
        assert_eq!(kind_from_int(99), "unspecified");
        assert_eq!(kind_from_name("SPAN_KIND_CLIENT"), Some("client"));
        assert_eq!(kind_from_name("SpanKind.SERVER"), Some("server"));
        assert_eq!(kind_from_name("PRODUCER"), Some("producer"));
        assert_eq!(kind_from_name("4"), Some("producer"));
        assert_eq!(kind_from_name("weird"), None);
    }

    #[test]
    fn statuses() {
        assert_eq!(status_from_int(2), Status::Error);
        assert_eq!(status_from_name("STATUS_CODE_ERROR"), Some(Status::Error));
        assert_eq!(status_from_name("STATUS_CODE_OK"), Some(Status::Ok));
        assert_eq!(status_from_name("StatusCode.UNSET"), Some(Status::Unset));
        assert_eq!(status_from_name("error"), Some(Status::Error));
        assert_eq!(status_from_name("1"), Some(Status::Ok));
        assert_eq!(status_from_name("bad"), None);
    }
}
