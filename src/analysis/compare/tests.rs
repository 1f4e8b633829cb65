//! Planted-cause tests: noisy synthetic executions (seeded), one cause per scenario;
//! the top row must name it.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::model::tree::TreeSpan;

const MS: i64 = 1_000_000;

#[derive(Clone, Copy, PartialEq)]
enum Plant {
    SlowChild,
    ErrorChild,
    Attribute,
    SlowTest,
}

fn span(id: String, parent: &str, name: &str, start: i64, end: i64) -> TreeSpan {
    TreeSpan {
        span_id: id,
        parent_span_id: Some(parent.to_string()),
        name: name.to_string(),
        start_ns: start,
        end_ns: end,
        ..TreeSpan::default()
    }
}

fn ms(rng: &mut SmallRng, lo: f64, hi: f64) -> i64 {
    (rng.random_range(lo..hi) * MS as f64) as i64
}

/// One execution of `test_checkout`:
/// test → setup, api.call → (db.connect, http.get), teardown; plus noise attributes.
fn execution(rng: &mut SmallRng, n: usize, fail: bool, plant: Plant) -> Execution {
    let id = |s: &str| format!("{s}-{n}");
    let planted = |p: Plant| fail && plant == p;
    let mut below = Vec::new();

    let mut t = ms(rng, 1.0, 5.0);
    let setup_end = t + ms(rng, 20.0, 40.0);
    let mut setup = span(id("setup"), &id("test"), "setup", t, setup_end);
    setup.attributes = vec![
        ("request.id".into(), format!("req-{}", rng.random::<u32>())),
        ("worker".into(), format!("w{}", rng.random_range(1..5))),
    ];
    below.push(setup);
    t = setup_end + ms(rng, 0.5, 2.0);

    let api_start = t;
    t += ms(rng, 0.5, 2.0);
    let db_len = if planted(Plant::SlowChild) {
        ms(rng, 1800.0, 2400.0)
    } else {
        ms(rng, 150.0, 260.0)
    };
    let mut db = span(id("db"), &id("api"), "db.connect", t, t + db_len);
    db.error = planted(Plant::ErrorChild);
    db.attributes = vec![("db.system".into(), "postgresql".into())];
    t += db_len + ms(rng, 0.5, 2.0);
    let http_len = ms(rng, 40.0, 90.0);
    let mut http = span(id("http"), &id("api"), "http.get", t, t + http_len);
    let status = if planted(Plant::Attribute) {
        "503"
    } else {
        "200"
    };
    http.attributes = vec![
        ("http.response.status_code".into(), status.into()),
        (
            "http.request.header.x-trace".into(),
            format!("{:032x}", rng.random::<u128>()),
        ),
        (
            "net.peer.port".into(),
            rng.random_range(30000..60000).to_string(),
        ),
    ];
    t += http_len + ms(rng, 0.5, 2.0);
    let mut api = span(id("api"), &id("test"), "api.call", api_start, t);
    api.error = planted(Plant::ErrorChild);
    below.extend([db, http, api]);

    t += ms(rng, 0.5, 2.0);
    let teardown_end = t + ms(rng, 10.0, 20.0);
    below.push(span(
        id("teardown"),
        &id("test"),
        "teardown",
        t,
        teardown_end,
    ));
    // Extra, irrelevant work in some executions only.
    if rng.random_bool(0.3) {
        below.push(span(
            id("cache"),
            &id("test"),
            "cache.warm",
            0,
            ms(rng, 1.0, 3.0),
        ));
    }

    let own = if planted(Plant::SlowTest) {
        ms(rng, 400.0, 600.0)
    } else {
        ms(rng, 30.0, 60.0)
    };
    let mut test = span(id("test"), "", "test_checkout", 0, teardown_end + own);
    test.parent_span_id = None;
    test.error = fail;
    test.attributes = vec![(
        "test.run.uuid".into(),
        format!("{:x}", rng.random::<u128>()),
    )];
    let verdict = if fail { Verdict::Fail } else { Verdict::Pass };
    Execution::from_spans(verdict, test, below)
}

/// 80 passes and 10 failures, interleaved.
fn scenario(plant: Plant, seed: u64) -> Vec<Execution> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..90)
        .map(|n| execution(&mut rng, n, n % 9 == 4, plant))
        .collect()
}

fn position(rows: &[CompareRow], span: &str, signal: Signal) -> Option<usize> {
    rows.iter()
        .position(|r| r.span == span && r.signal == signal)
}

fn no_noise_rows(rows: &[CompareRow]) {
    for r in rows {
        for noise in ["request.id", "x-trace", "net.peer.port", "uuid"] {
            assert!(!r.detail.contains(noise), "noise row: {r:?}");
        }
    }
}

#[test]
fn slow_child_outranks_its_slower_parent() {
    for seed in [1, 2, 3] {
        let rows = compare_with(
            "test_checkout",
            &scenario(Plant::SlowChild, seed),
            &CompareOptions {
                all: true,
                ..CompareOptions::default()
            },
        );
        let top = &rows[0];
        assert_eq!(
            (top.span.as_str(), top.signal),
            ("db.connect", Signal::Duration),
            "{rows:#?}"
        );
        assert_eq!((top.pass_count, top.fail_count), (80, 10));
        assert!(top.p_value < 1e-6, "{top:?}");
        assert!((top.effect - 1.0).abs() < 1e-12);
        let ratio = top.fail_p50_ms.unwrap_or(0.0) / top.pass_p50_ms.unwrap_or(1.0);
        assert!((7.0..14.0).contains(&ratio), "{top:?}");
        assert!(top.detail.starts_with("db.connect p50 "), "{}", top.detail);
        assert!(top.detail.contains("ms when failing vs"), "{}", top.detail);
        // The parent is slower in total too, but its own time is not: it ranks below.
        let parent = position(&rows, "api.call", Signal::Duration).expect("api.call row");
        assert!(parent > 0);
        assert!(
            rows[parent].delta_ms.unwrap_or(0.0) > 1000.0,
            "{:?}",
            rows[parent]
        );
        no_noise_rows(&rows);
    }
}

#[test]
fn error_origin_outranks_its_errored_parent() {
    let rows = compare("test_checkout", &scenario(Plant::ErrorChild, 7));
    let top = &rows[0];
    assert_eq!(
        (top.span.as_str(), top.signal),
        ("db.connect", Signal::Error),
        "{rows:#?}"
    );
    assert_eq!(
        top.detail,
        "db.connect errors in 10/10 failing runs, 0/80 passing (the error starts here)"
    );
    assert!((top.fail_error_rate, top.pass_error_rate) == (1.0, 0.0));
    // 1 / C(90, 10)
    assert!((top.p_value - 1.748e-13).abs() < 1e-15, "{}", top.p_value);
    let parent = position(&rows, "api.call", Signal::Error).expect("api.call error row");
    assert_eq!(parent, 1);
    assert_eq!(rows[parent].p_value, top.p_value);
    assert!(
        rows[parent]
            .detail
            .ends_with("(the error comes from a span below)")
    );
    no_noise_rows(&rows);
}

#[test]
fn attribute_only_on_failing_runs_is_named() {
    let rows = compare("test_checkout", &scenario(Plant::Attribute, 11));
    let top = &rows[0];
    assert_eq!(
        (top.span.as_str(), top.signal),
        ("http.get", Signal::Attribute),
        "{rows:#?}"
    );
    assert_eq!(
        top.detail,
        "http.response.status_code=503 in 10/10 failing runs, 0/80 passing"
    );
    // The passing-side value explains nothing and gets no row.
    assert!(rows.iter().all(|r| !r.detail.contains("status_code=200")));
    no_noise_rows(&rows);
}

#[test]
fn slower_test_itself_is_self_duration() {
    let rows = compare("test_checkout", &scenario(Plant::SlowTest, 5));
    let top = &rows[0];
    assert_eq!(
        (top.span.as_str(), top.signal),
        ("test_checkout", Signal::SelfDuration),
        "{rows:#?}"
    );
    assert!(top.p_value < 1e-6);
    assert!(
        top.detail.starts_with("test_checkout own time p50 "),
        "{}",
        top.detail
    );
    // No child differs: nothing else is anywhere near as significant.
    assert!(rows.iter().skip(1).all(|r| r.p_value > 1e-3), "{rows:#?}");
}

#[test]
fn thin_data_gives_no_evidence() {
    let mut rng = SmallRng::seed_from_u64(3);
    let execs = vec![
        execution(&mut rng, 0, false, Plant::SlowChild),
        execution(&mut rng, 1, true, Plant::SlowChild),
    ];
    assert!(compare("test_checkout", &execs).is_empty());
    let all = compare_with(
        "test_checkout",
        &execs,
        &CompareOptions {
            all: true,
            ..CompareOptions::default()
        },
    );
    assert!(!all.is_empty());
    assert!(all.iter().all(|r| r.p_value >= 0.99), "{all:#?}");
}

#[test]
fn degenerate_inputs_give_no_rows() {
    assert!(compare("t", &[]).is_empty());
    let mut rng = SmallRng::seed_from_u64(4);
    let passes: Vec<Execution> = (0..5)
        .map(|n| execution(&mut rng, n, false, Plant::SlowChild))
        .collect();
    assert!(compare("test_checkout", &passes).is_empty());
}

#[test]
fn rows_serialise_with_the_contract_field_names_in_order() {
    let rows = compare("test_checkout", &scenario(Plant::ErrorChild, 7));
    let json = serde_json::to_value(&rows[0]).expect("rows serialise");
    let keys: Vec<&str> = json
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    // The serialised fields are the contract (no column list beside the row type), in
    // this order.
    let expected = [
        "test",
        "span",
        "pass_count",
        "fail_count",
        "pass_p50_ms",
        "fail_p50_ms",
        "pass_mean_ms",
        "fail_mean_ms",
        "delta_ms",
        "pass_error_rate",
        "fail_error_rate",
        "signal",
        "detail",
        "p_value",
        "effect",
    ];
    assert_eq!(keys, expected);
    assert_eq!(json["signal"], "error");
    assert_eq!(
        serde_json::to_value(Signal::SelfDuration).ok(),
        Some("self_duration".into())
    );
}

/// Random executions: random shapes (including parents outside the execution, cycles,
/// negative durations), names from a small set, random errors and attributes.
fn arb_executions() -> impl proptest::strategy::Strategy<Value = Vec<Execution>> {
    use proptest::prelude::*;
    let node = (
        0usize..12,
        0usize..5,
        -20i64..200,
        -20i64..200,
        any::<bool>(),
        0u8..4,
    );
    let exec = (any::<bool>(), prop::collection::vec(node, 0..12));
    prop::collection::vec(exec, 0..25).prop_map(|execs| {
        execs
            .into_iter()
            .map(|(fail, nodes)| {
                let below = nodes
                    .iter()
                    .enumerate()
                    .map(|(i, &(p, name, s, e, error, attr))| {
                        let parent = if p >= i {
                            "t".to_string()
                        } else {
                            format!("n{p}")
                        };
                        let mut sp = span(format!("n{i}"), &parent, &format!("s{name}"), s, e);
                        sp.error = error;
                        sp.attributes = vec![("k".into(), attr.to_string())];
                        sp
                    })
                    .collect();
                let test = span("t".into(), "n3", "test", 0, 150);
                let verdict = if fail { Verdict::Fail } else { Verdict::Pass };
                Execution::from_spans(verdict, test, below)
            })
            .collect()
    })
}

proptest::proptest! {
    #[test]
    fn compare_never_panics_and_stays_in_range(execs in arb_executions()) {
        let rows = compare_with("test", &execs, &CompareOptions { all: true, ..CompareOptions::default() });
        for pair in rows.windows(2) {
            proptest::prop_assert!(pair[0].p_value <= pair[1].p_value * (1.0 + 1e-5));
        }
        for r in &rows {
            proptest::prop_assert!((0.0..=1.0).contains(&r.p_value), "{:?}", r);
            proptest::prop_assert!((0.0..=1.0 + 1e-12).contains(&r.effect), "{:?}", r);
        }
    }
}
