//! Tests of the conventions table: the built-in file, value mapping, user files.

use super::*;

#[test]
fn builtin_file_parses_and_has_every_row() {
    let raw = parse(BUILTIN, "builtin");
    assert!(raw.is_ok(), "built-in conventions.toml must parse: {raw:?}");
    let c = Conventions::builtin();
    for g in Group::ALL {
        assert!(!c.keys(g).is_empty(), "row {g:?} is empty");
    }
    assert_eq!(c.keys(Group::Branch)[0].key, "vcs.ref.head.name");
    assert_eq!(
        c.keys(Group::Pipeline)[3],
        KeySpec {
            key: "pipeline.name".into(),
            scope: Scope::Resource
        }
    );
    assert_eq!(c.suite_names(), ["Test Suite".to_string()]);
}

#[test]
fn group_all_matches_discriminants() {
    for (i, g) in Group::ALL.iter().enumerate() {
        assert_eq!(*g as usize, i);
    }
}

#[test]
fn result_values_map_case_insensitively() {
    let c = Conventions::builtin();
    let table = [
        ("success", Outcome::Pass),
        ("passed", Outcome::Pass),
        ("pass", Outcome::Pass),
        ("ok", Outcome::Pass),
        ("SUCCESS", Outcome::Pass),
        ("neutral", Outcome::Pass),
        ("failure", Outcome::Fail),
        ("failed", Outcome::Fail),
        ("fail", Outcome::Fail),
        ("FAILURE", Outcome::Fail),
        ("UNSTABLE", Outcome::Fail),
        ("action_required", Outcome::Fail),
        ("error", Outcome::Error),
        ("internal_error", Outcome::Error),
        ("startup_failure", Outcome::Error),
        ("skip", Outcome::Skip),
        ("skipped", Outcome::Skip),
        ("NOT_BUILT", Outcome::Skip),
        ("NOT_EXECUTED", Outcome::Skip),
        ("xfail", Outcome::Skip),
        ("cancellation", Outcome::Cancel),
        ("canceled", Outcome::Cancel),
        ("cancelled", Outcome::Cancel),
        ("ABORTED", Outcome::Cancel),
        ("timed_out", Outcome::Timeout),
        ("Timed_Out", Outcome::Timeout),
    ];
    for (value, expected) in table {
        assert_eq!(c.outcome_of("any.key", value), Some(expected), "{value}");
    }
    assert_eq!(c.outcome_of("any.key", "in_progress"), None);
}

#[test]
fn boolean_results_depend_on_the_key() {
    let c = Conventions::builtin();
    assert_eq!(c.outcome_of("error", "true"), Some(Outcome::Fail));
    assert_eq!(c.outcome_of("error", "false"), Some(Outcome::Pass));
    assert_eq!(
        c.outcome_of("buildkite.job.passed", "true"),
        Some(Outcome::Pass)
    );
    assert_eq!(
        c.outcome_of("buildkite.job.passed", "FALSE"),
        Some(Outcome::Fail)
    );
    // "true" is not a result value for keys without a boolean rule.
    assert_eq!(c.outcome_of("tests.status", "true"), None);
}

#[test]
fn user_table_adds_keys_in_front_and_values() {
    let c = Conventions::from_toml_str(
        "[keys]\nbranch = [\"my.branch\", \"git.branch\"]\n[results]\nfail = [\"kaputt\"]\npass = [\"failure\"]\n",
    )
    .unwrap();
    let branch: Vec<&str> = c
        .keys(Group::Branch)
        .iter()
        .map(|k| k.key.as_str())
        .collect();
    assert_eq!(branch[0], "my.branch");
    assert_eq!(branch[1], "git.branch");
    assert_eq!(branch.iter().filter(|k| **k == "git.branch").count(), 1);
    assert!(branch.contains(&"vcs.ref.head.name"));
    assert_eq!(c.outcome_of("k", "KAPUTT"), Some(Outcome::Fail));
    // A user value overrides the built-in meaning.
    assert_eq!(c.outcome_of("k", "failure"), Some(Outcome::Pass));
    // Untouched built-in values survive.
    assert_eq!(c.outcome_of("k", "skipped"), Some(Outcome::Skip));
}

#[test]
fn bad_toml_names_the_position() {
    let err = Conventions::from_toml_str("[keys]\nbranch = [\"a\",\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("line 2") || msg.contains("line 3"), "{msg}");
}

#[test]
fn unknown_row_or_outcome_is_an_error() {
    let err = Conventions::from_toml_str("[keys]\nbrnach = [\"a\"]\n").unwrap_err();
    assert!(err.to_string().contains("brnach"), "{err}");
    let err = Conventions::from_toml_str("[results]\nmaybe = [\"x\"]\n").unwrap_err();
    assert!(err.to_string().contains("maybe"), "{err}");
    let err =
        Conventions::from_toml_str("[boolean_results]\nk = { true = \"yes\", false = \"pass\" }\n")
            .unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn user_file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conv.toml");
    std::fs::write(&path, "[keys]\nbranch = 3\n").unwrap();
    let err = Conventions::builtin().with_user_file(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("conv.toml"), "{msg}");
    assert!(msg.contains("line 2"), "{msg}");

    let missing = dir.path().join("absent.toml");
    let err = Conventions::builtin().with_user_file(&missing).unwrap_err();
    assert!(err.to_string().contains("absent.toml"));

    std::fs::write(&path, "[keys]\ncommit = [\"my.sha\"]\n").unwrap();
    let c = Conventions::builtin().with_user_file(&path).unwrap();
    assert_eq!(c.keys(Group::Commit)[0].key, "my.sha");
}
