//! Deterministic ids: a report ingested twice must yield the same trace and span ids
//! (the store dedupes by them), so ids are digests of what identifies the run, the
//! suite and the test. The digest is written out here (FNV-1a over length-prefixed
//! parts, then a SplitMix64 finaliser) rather than taken from `std`, whose hasher
//! may change between Rust releases and would change every id with it.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A 64-bit digest of a sequence of strings, which can seed digests below it
/// (a suite path's digest seeds its tests').
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(u64);

impl Digest {
    /// The digest of `parts`.
    pub fn of(parts: &[&str]) -> Digest {
        Digest(hash(0, parts))
    }

    /// The digest of `parts` below this one.
    pub fn child(self, parts: &[&str]) -> Digest {
        Digest(hash(self.0, parts))
    }

    pub fn value(self) -> u64 {
        self.0
    }

    /// 16 lowercase hex digits.
    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }

    /// A span id (16 hex digits, never all zeros) for `parts` below this digest.
    pub fn span_id(self, parts: &[&str]) -> String {
        Digest(hash(self.0, parts).max(1)).hex()
    }
}

/// A trace id (32 hex digits, never all zeros) for `parts`.
pub fn trace_id(parts: &[&str]) -> String {
    let hi = hash(0x7472_6163_6500_0001, parts);
    let lo = hash(0x7472_6163_6500_0002, parts).max(1);
    format!("{hi:016x}{lo:016x}")
}

fn hash(seed: u64, parts: &[&str]) -> u64 {
    let mut h = FNV_OFFSET ^ mix(seed);
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    };
    for part in parts {
        // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
        eat(&(part.len() as u64).to_le_bytes());
        eat(part.as_bytes());
    }
    mix(h)
}

/// SplitMix64's finaliser: spreads FNV's weak low bits over the whole word.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Without a run id, a report is its own run, named by its file name and time: the
/// same file ingested again is the same run.
pub fn fallback_run_id(origin: &str, time_ns: Option<i64>) -> String {
    let name = file_name(origin);
    let time = time_ns.map(|t| t.to_string()).unwrap_or_default();
    format!("junit-{}", Digest::of(&["junit-file", name, &time]).hex())
}

/// The last path component, without `.gz` (the same report compressed or not is the
/// same report).
fn file_name(origin: &str) -> &str {
    let name = origin.rsplit(['/', '\\']).next().unwrap_or(origin);
    name.strip_suffix(".gz").unwrap_or(name)
}

pub fn file_stem(origin: &str) -> String {
    let name = file_name(origin);
    name.strip_suffix(".xml").unwrap_or(name).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_well_formed() {
        // Fixed values: a change here changes every stored JUnit id.
        assert_eq!(trace_id(&["ci", "42", ""]), trace_id(&["ci", "42", ""]));
        assert_eq!(trace_id(&["ci", "42", ""]).len(), 32);
        let d = Digest::of(&["a"]);
        assert_eq!(d.span_id(&["x"]).len(), 16);
        assert_eq!(d.hex(), Digest::of(&["a"]).hex());
        assert_eq!(Digest::of(&["a"]).hex(), "e952feea8d5a93fc");
    }

    #[test]
    fn parts_are_delimited() {
        assert_ne!(Digest::of(&["ab", "c"]), Digest::of(&["a", "bc"]));
        assert_ne!(Digest::of(&["", "x"]), Digest::of(&["x", ""]));
        assert_ne!(
            Digest::of(&["a"]).child(&["b"]),
            Digest::of(&["b"]).child(&["a"])
        );
        assert_ne!(trace_id(&["p", "1", "1"]), trace_id(&["p", "1", "2"]));
    }
}
