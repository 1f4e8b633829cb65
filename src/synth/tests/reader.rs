//! A deliberately small decoder of the generator's own output (OTLP, Jaeger, Zipkin via
//! `serde_json::Value`), independent of the real decoders, so the Truth is checked
//! against what a reader of the bytes finds.

use std::collections::{BTreeSet, HashMap};

use base64::Engine;
use serde_json::Value;

use crate::synth::SynthOutput;

/// A decoded span: only what the checks need.
#[derive(Debug, Clone)]
pub(super) struct Rec {
    pub trace: String,
    pub span: String,
    pub parent: Option<String>,
    pub name: String,
    pub error: bool,
    pub start_us: i64,
    pub end_us: i64,
    pub attrs: HashMap<String, String>,
}

fn norm_id(s: &str) -> String {
    let is_hex = s.chars().all(|c| c.is_ascii_hexdigit());
    if is_hex && (s.len() == 16 || s.len() == 32) {
        s.to_lowercase()
    } else {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s)
            .unwrap_or_else(|e| panic!("id {s:?} is neither hex nor base64: {e}"));
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn as_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn as_i64(v: &Value) -> i64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.as_i64().unwrap(),
    }
}

fn any_value(v: &Value) -> String {
    let (_, inner) = v.as_object().unwrap().iter().next().unwrap();
    as_string(inner)
}

fn decode_otlp(doc: &Value, out: &mut Vec<Rec>) {
    let rss = doc
        .get("resourceSpans")
        .or_else(|| doc.get("batches"))
        .and_then(Value::as_array)
        .unwrap();
    for rs in rss {
        let mut res = HashMap::new();
        for kv in rs["resource"]["attributes"].as_array().unwrap() {
            res.insert(as_string(&kv["key"]), any_value(&kv["value"]));
        }
        let scopes = rs
            .get("scopeSpans")
            .or_else(|| rs.get("instrumentationLibrarySpans"))
            .and_then(Value::as_array)
            .unwrap();
        for ss in scopes {
            for s in ss["spans"].as_array().unwrap() {
                let mut attrs = res.clone();
                for kv in s["attributes"].as_array().unwrap() {
                    attrs.insert(as_string(&kv["key"]), any_value(&kv["value"]));
                }
                let parent = s["parentSpanId"].as_str().unwrap();
                let code = s["status"].get("code").map(as_string).unwrap_or_default();
                out.push(Rec {
                    trace: norm_id(s["traceId"].as_str().unwrap()),
                    span: norm_id(s["spanId"].as_str().unwrap()),
                    parent: (!parent.is_empty()).then(|| norm_id(parent)),
                    name: as_string(&s["name"]),
                    error: code == "2" || code == "STATUS_CODE_ERROR",
                    start_us: as_i64(&s["startTimeUnixNano"]) / 1000,
                    end_us: as_i64(&s["endTimeUnixNano"]) / 1000,
                    attrs,
                });
            }
        }
    }
}

fn decode_jaeger(doc: &Value, out: &mut Vec<Rec>) {
    for t in doc["data"].as_array().unwrap() {
        let procs = t["processes"].as_object().unwrap();
        for s in t["spans"].as_array().unwrap() {
            let mut attrs = HashMap::new();
            for tag in procs[s["processID"].as_str().unwrap()]["tags"]
                .as_array()
                .unwrap()
            {
                attrs.insert(as_string(&tag["key"]), as_string(&tag["value"]));
            }
            for tag in s["tags"].as_array().unwrap() {
                attrs.insert(as_string(&tag["key"]), as_string(&tag["value"]));
            }
            let parent = s["references"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["refType"] == "CHILD_OF")
                .map(|r| norm_id(r["spanID"].as_str().unwrap()));
            let start = s["startTime"].as_i64().unwrap();
            out.push(Rec {
                trace: norm_id(s["traceID"].as_str().unwrap()),
                span: norm_id(s["spanID"].as_str().unwrap()),
                parent,
                name: as_string(&s["operationName"]),
                error: attrs.get("otel.status_code").is_some_and(|c| c == "ERROR"),
                start_us: start,
                end_us: start + s["duration"].as_i64().unwrap(),
                attrs,
            });
        }
    }
}

fn decode_zipkin(doc: &Value, out: &mut Vec<Rec>) {
    let mut spans = Vec::new();
    for item in doc.as_array().unwrap() {
        match item {
            Value::Array(list) => spans.extend(list.iter()),
            span => spans.push(span),
        }
    }
    for s in spans {
        let attrs: HashMap<String, String> = s["tags"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let start = s["timestamp"].as_i64().unwrap();
        out.push(Rec {
            trace: norm_id(s["traceId"].as_str().unwrap()),
            span: norm_id(s["id"].as_str().unwrap()),
            parent: s.get("parentId").map(|p| norm_id(p.as_str().unwrap())),
            name: as_string(&s["name"]),
            error: attrs.get("otel.status_code").is_some_and(|c| c == "ERROR"),
            start_us: start,
            end_us: start + s["duration"].as_i64().unwrap(),
            attrs,
        });
    }
}

/// Decodes every file and deduplicates by (trace, span), as the store does.
pub(super) fn decode_all(out: &SynthOutput) -> Vec<Rec> {
    let mut recs = Vec::new();
    for (name, bytes) in &out.files {
        let docs: Vec<Value> = if name.ends_with(".jsonl") {
            bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice(l).unwrap())
                .collect()
        } else {
            vec![serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{name}: {e}"))]
        };
        for doc in &docs {
            if name.starts_with("otlp") || name.starts_with("tempo") {
                decode_otlp(doc, &mut recs);
            } else if name.contains("jaeger") {
                decode_jaeger(doc, &mut recs);
            } else if name.contains("zipkin") {
                decode_zipkin(doc, &mut recs);
            } else {
                panic!("unexpected file {name}");
            }
        }
    }
    let mut seen = BTreeSet::new();
    recs.retain(|r| seen.insert((r.trace.clone(), r.span.clone())));
    recs
}

pub(super) const ROOTS: [&str; 7] = [
    "build-and-test",
    "release",
    "BUILD backend-ci",
    "deploy-check",
    // The delivery history's pipelines (GitHub workflows, the GitLab pipeline).
    "CI",
    "Deploy",
    "payments",
];
pub(super) const BRANCH_KEYS: [&str; 4] = [
    "vcs.ref.head.name",
    "github.head_branch",
    "git.branch",
    "vcs.ref.head",
];
pub(super) const COMMIT_KEYS: [&str; 4] = [
    "vcs.ref.head.revision",
    "github.head_sha",
    "ci.commit.sha",
    "service.version",
];

pub(super) fn trace_fact(recs: &[&Rec], keys: &[&str]) -> String {
    recs.iter()
        .find_map(|r| keys.iter().find_map(|k| r.attrs.get(*k)))
        .cloned()
        .unwrap_or_else(|| panic!("trace without {keys:?}"))
}

/// (test name as the truth gives it, its test_id for JUnit-to-OTLP spans; passed) for a
/// test execution span, in any of the three conventions.
pub(super) fn test_exec(r: &Rec) -> Option<(String, bool)> {
    let a = &r.attrs;
    if let Some(n) = a.get("test.case.name") {
        return Some((n.clone(), a["test.case.result.status"] == "pass"));
    }
    if let Some(n) = a.get("tests.name") {
        return Some((n.clone(), a["tests.status"] == "passed"));
    }
    if a.get("test.scope").is_some_and(|s| s == "Case") {
        // JUnit-to-OTLP spans carry the class: the truth names the test by its test_id.
        let names = crate::model::test_id::TestNames {
            name: &a["test.name"],
            class: a.get("test.classname").map(String::as_str),
            file: None,
        };
        let id = crate::model::Conventions::builtin()
            .test_id_rules()
            .canonical(names);
        return Some((id, a["error"] == "false"));
    }
    None
}
