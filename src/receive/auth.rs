//! Who may send: the bearer token, compared in constant time (`subtle`). Both the
//! configured token and the one a request carries are padded to [`MAX_TOKEN_BYTES`]
//! and compared whole, lengths included, so that the time a comparison takes shows
//! neither a common prefix nor the token's length.

use subtle::ConstantTimeEq;

/// Longest bearer token: tokens are compared padded to this length, so that the time
/// a comparison takes depends on neither token's length nor their common prefix.
pub const MAX_TOKEN_BYTES: usize = 512;

/// The bearer token, padded for a constant-time comparison.
#[derive(Clone)]
pub struct Token {
    padded: [u8; MAX_TOKEN_BYTES],
    len: u64,
}

impl Token {
    /// None for a token longer than [`MAX_TOKEN_BYTES`].
    pub fn new(token: &str) -> Option<Token> {
        Some(Token {
            padded: pad(token.as_bytes())?,
            len: token.len() as u64,
        })
    }

    /// Whether `given` is the token, in a time that depends on neither.
    fn matches(&self, given: &[u8]) -> bool {
        // An over-long candidate is compared as zeros with a wrong length: same work.
        let (padded, len) = match pad(given) {
            Some(p) => (p, given.len() as u64),
            None => ([0; MAX_TOKEN_BYTES], u64::MAX),
        };
        (self.padded.ct_eq(&padded) & self.len.ct_eq(&len)).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

fn pad(bytes: &[u8]) -> Option<[u8; MAX_TOKEN_BYTES]> {
    let mut padded = [0; MAX_TOKEN_BYTES];
    padded.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(padded)
}

/// Whether an `Authorization` header satisfies the configured token.
pub(crate) fn bearer_ok(token: Option<&Token>, header: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    let Some((scheme, given)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    // Evaluate both so that a wrong scheme takes as long as a wrong token.
    let scheme_ok = scheme.eq_ignore_ascii_case("bearer");
    let token_ok = token.matches(given.trim().as_bytes());
    scheme_ok & token_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_match_exactly() {
        let token = Token::new("s3cret").unwrap();
        let ok = |h: &str| bearer_ok(Some(&token), Some(h));
        assert!(ok("Bearer s3cret"));
        assert!(
            ok("bearer  s3cret "),
            "scheme is case-insensitive, spaces trimmed"
        );
        assert!(!ok("Bearer s3cre"), "a prefix");
        assert!(!ok("Bearer s3cret\0"), "padding bytes do not make a match");
        assert!(!ok("Bearer s3cretX"));
        assert!(!ok("Basic s3cret"));
        assert!(!ok(&format!("Bearer {}", "s".repeat(MAX_TOKEN_BYTES + 1))));
        assert!(!bearer_ok(Some(&token), None));
        assert!(bearer_ok(None, None), "no token configured");
        assert!(Token::new(&"x".repeat(MAX_TOKEN_BYTES)).is_some());
        assert!(Token::new(&"x".repeat(MAX_TOKEN_BYTES + 1)).is_none());
        assert_eq!(format!("{token:?}"), "Token(…)", "Debug never shows it");
    }
}
