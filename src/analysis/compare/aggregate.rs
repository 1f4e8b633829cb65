//! Folds executions into per-span-name facts for each side (pass / fail): presence,
//! durations, self times, errors and attribute values, ready to be tested in `signals`.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::execution::{Execution, Verdict};

/// Distinct span names kept; later new names are ignored (a test with more distinct
/// span names than this is generating names from data, which compares badly anyway).
const MAX_NAMES: usize = 5_000;
/// Attributes read per span occurrence.
const MAX_ATTRS_PER_SPAN: usize = 64;
/// Distinct (span, key, value) triples kept.
const MAX_ATTR_VALUES: usize = 50_000;
/// Longer values are payloads (SQL, stack traces, JSON), not categories.
const MAX_VALUE_LEN: usize = 200;

/// Facts about one span name on one side.
#[derive(Debug, Default)]
pub(super) struct SideFacts {
    /// Executions in which the name occurs.
    pub present: u64,
    /// Per execution where present: summed duration of all occurrences, in ms.
    pub total_ms: Vec<f64>,
    /// Per execution where present: summed self time, in ms.
    pub self_ms: Vec<f64>,
    /// Executions in which an occurrence errored.
    pub errored: u64,
    /// Executions in which an occurrence was an error origin.
    pub origin: u64,
}

/// Facts about one span name below the test span, per side.
#[derive(Debug, Default)]
pub(super) struct NameFacts {
    pub pass: SideFacts,
    pub fail: SideFacts,
    /// Smallest depth below the test span at which the name occurs.
    pub depth: u32,
}

/// Executions carrying one attribute value, per side.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct AttrCounts {
    pub pass: u64,
    pub fail: u64,
}

/// Where an attribute was seen: on the test span itself or on a named span below it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Owner {
    Test,
    Below(String),
}

/// Everything `signals` needs, for one test.
#[derive(Debug, Default)]
pub(super) struct Aggregate {
    pub n_pass: u64,
    pub n_fail: u64,
    /// The name the test span is reported under (its most common name).
    pub test_name: String,
    /// The test span's own facts (present in every execution).
    pub test: NameFacts,
    pub names: BTreeMap<String, NameFacts>,
    /// (owner, key, value) → executions carrying it.
    pub attrs: BTreeMap<(Owner, String, String), AttrCounts>,
}

impl NameFacts {
    pub fn side(&mut self, verdict: Verdict) -> &mut SideFacts {
        match verdict {
            Verdict::Pass => &mut self.pass,
            Verdict::Fail => &mut self.fail,
        }
    }
}

/// Per-execution accumulation for one name.
#[derive(Default)]
struct Occurrences {
    total_ns: i64,
    self_ns: i64,
    errored: bool,
    origin: bool,
    depth: u32,
}

pub(super) fn aggregate(executions: &[Execution]) -> Aggregate {
    let mut agg = Aggregate::default();
    let mut test_names: HashMap<&str, usize> = HashMap::new();
    for exec in executions {
        let v = exec.verdict;
        match v {
            Verdict::Pass => agg.n_pass += 1,
            Verdict::Fail => agg.n_fail += 1,
        }
        *test_names.entry(exec.span.name.as_str()).or_default() += 1;
        let side = agg.test.side(v);
        side.present += 1;
        side.total_ms.push(ms(exec.span.duration_ns()));
        side.self_ms.push(ms(exec.self_ns));
        side.errored += u64::from(exec.span.error);

        let mut per_name: HashMap<&str, Occurrences> = HashMap::new();
        let mut seen_attrs: HashSet<(Owner, &str, &str)> = HashSet::new();
        for (k, val) in useful_attrs(&exec.span.attributes).filter(|(k, _)| !symptom_key(k)) {
            seen_attrs.insert((Owner::Test, k, val));
        }
        for d in &exec.descendants {
            let o = per_name
                .entry(d.span.name.as_str())
                .or_insert_with(|| Occurrences {
                    depth: d.depth,
                    ..Occurrences::default()
                });
            o.total_ns = o.total_ns.saturating_add(d.span.duration_ns());
            o.self_ns = o.self_ns.saturating_add(d.self_ns);
            o.errored |= d.span.error;
            o.origin |= d.error_origin;
            o.depth = o.depth.min(d.depth);
            for (k, val) in useful_attrs(&d.span.attributes) {
                seen_attrs.insert((Owner::Below(d.span.name.clone()), k, val));
            }
        }
        for (name, o) in per_name {
            if !agg.names.contains_key(name) && agg.names.len() >= MAX_NAMES {
                continue;
            }
            let facts = agg
                .names
                .entry(name.to_string())
                .or_insert_with(|| NameFacts {
                    depth: o.depth,
                    ..NameFacts::default()
                });
            facts.depth = facts.depth.min(o.depth);
            let side = facts.side(v);
            side.present += 1;
            side.total_ms.push(ms(o.total_ns));
            side.self_ms.push(ms(o.self_ns));
            side.errored += u64::from(o.errored);
            side.origin += u64::from(o.origin);
        }
        for (owner, k, val) in seen_attrs {
            let key = (owner, k.to_string(), val.to_string());
            if !agg.attrs.contains_key(&key) && agg.attrs.len() >= MAX_ATTR_VALUES {
                continue;
            }
            let counts = agg.attrs.entry(key).or_default();
            match v {
                Verdict::Pass => counts.pass += 1,
                Verdict::Fail => counts.fail += 1,
            }
        }
    }
    agg.test_name = test_names
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(n, _)| n.to_string())
        .unwrap_or_default();
    drop_high_cardinality(&mut agg);
    agg
}

fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

/// Attribute pairs worth comparing: a capped number per span, without identifiers,
/// timestamps and payloads (which are unique per execution and only add noise).
fn useful_attrs(attrs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    attrs
        .iter()
        .take(MAX_ATTRS_PER_SPAN)
        .filter(|(k, v)| !status_key(k) && !noise_key(k) && !noise_value(v))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Tags that Jaeger and Zipkin use to carry the span status: already the `error`
/// signal, so as attributes they would only repeat it.
fn status_key(key: &str) -> bool {
    matches!(
        key,
        "otel.status_code" | "otel.status_description" | "error"
    )
}

/// Attributes with which a test span reports its own failure (its result, the
/// exception it raised, the assertion message). They appear exactly on failing runs,
/// so they would top every comparison, yet they restate the failure instead of
/// explaining it: the cause is looked for elsewhere.
fn symptom_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("exception.")
        || k.starts_with("error")
        || [
            "failure",
            "message",
            "stacktrace",
            "status",
            "result",
            "outcome",
            "conclusion",
            "error",
        ]
        .iter()
        .any(|word| k.contains(word))
}

fn noise_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let last = k.rsplit(['.', '_', '-']).next().unwrap_or(&k);
    matches!(
        last,
        "id" | "uuid" | "guid" | "time" | "timestamp" | "date" | "at"
    ) || (k.ends_with("id") && key.ends_with("Id"))
        || k.contains("timestamp")
}

fn noise_value(value: &str) -> bool {
    let hexish = value.len() >= 16 && value.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    value.is_empty() || value.len() > MAX_VALUE_LEN || hexish
}

/// Removes attribute keys (per owner) with so many distinct values that each value is
/// nearly unique to an execution: request ids, ports, counters. Their one-off values
/// would otherwise each produce a weakly "significant" row.
fn drop_high_cardinality(agg: &mut Aggregate) {
    let n = agg.n_pass + agg.n_fail;
    let limit = (n / 3).max(8) as usize;
    let mut distinct: HashMap<(&Owner, &str), usize> = HashMap::new();
    for (owner, k, _) in agg.attrs.keys() {
        *distinct.entry((owner, k.as_str())).or_default() += 1;
    }
    let noisy: HashSet<(Owner, String)> = distinct
        .into_iter()
        .filter(|(_, count)| *count > limit)
        .map(|((o, k), _)| (o.clone(), k.to_string()))
        .collect();
    agg.attrs
        .retain(|(o, k, _), _| !noisy.contains(&(o.clone(), k.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_filters_catch_ids_timestamps_and_payloads() {
        for key in [
            "request.id",
            "requestId",
            "span_id",
            "uuid",
            "created_at",
            "event.timestamp",
        ] {
            assert!(noise_key(key), "{key} should be noise");
        }
        for key in [
            "http.response.status_code",
            "db.system",
            "paid",
            "ci.runner",
        ] {
            assert!(!noise_key(key), "{key} should be kept");
        }
        assert!(noise_value("9f86d081884c7d659a2feaa0c55ad015"));
        assert!(noise_value(&"x".repeat(201)));
        assert!(!noise_value("503"));
        assert!(!noise_value("ci-runner-7"));
    }

    #[test]
    fn a_test_reporting_its_own_failure_is_a_symptom_not_a_cause() {
        for key in [
            "exception.message",
            "error.type",
            "test.failure.0.message",
            "tests.status",
            "test.case.result.status",
            "github.job.conclusion",
        ] {
            assert!(symptom_key(key), "{key} restates the failure");
        }
        for key in [
            "runner.os",
            "db.system",
            "test.shard",
            "http.request.method",
        ] {
            assert!(!symptom_key(key), "{key} could explain a failure");
        }
    }

    #[test]
    fn status_tags_are_not_attributes() {
        let attrs = vec![
            ("otel.status_code".to_string(), "ERROR".to_string()),
            ("error".to_string(), "true".to_string()),
            ("db.system".to_string(), "redis".to_string()),
        ];
        let kept: Vec<_> = useful_attrs(&attrs).collect();
        assert_eq!(kept, vec![("db.system", "redis")]);
    }
}
