//! The conventions table: which attribute keys mean "branch", "task name", "test result"
//! and so on, and which result values mean pass/fail/skip/….
//!
//! The built-in table is `conventions.toml` (next to this file) compiled in, so adding a
//! convention is a data change; a user file in the same format adds keys and values on
//! top. The normaliser (`model::normalize`) turns a [`Conventions`] into a key index once
//! and then only does hash lookups per attribute.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::deployment::{DeploymentRules, RawDeployments, RawEnvironments, RawTriggers};
use super::span::Outcome;
use super::test_id::{RawTestIdRules, TestIdRules};

const BUILTIN: &str = include_str!("conventions.toml");

/// A row of the `[keys]` table: one canonical field or role signal.
///
/// The discriminant is the row's index in [`Conventions`]'s key lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Pipeline,
    RunId,
    RunNumber,
    RunScope,
    Attempt,
    PreviousAttemptUrl,
    Branch,
    Commit,
    Repo,
    PipelineMarker,
    PipelineRootMarker,
    Stage,
    Task,
    TaskMarker,
    Step,
    Command,
    Test,
    TestMarker,
    TestScope,
    Suite,
    TestClass,
    TestFile,
    PipelineResult,
    TaskResult,
    TestResult,
    AllowFailure,
    Environment,
    TaskEnvironment,
    TaskType,
    Trigger,
    ChangeId,
    ChangeTitle,
    BaseBranch,
}

impl Group {
    /// Every group, in discriminant order.
    pub const ALL: [Group; 33] = [
        Group::Pipeline,
        Group::RunId,
        Group::RunNumber,
        Group::RunScope,
        Group::Attempt,
        Group::PreviousAttemptUrl,
        Group::Branch,
        Group::Commit,
        Group::Repo,
        Group::PipelineMarker,
        Group::PipelineRootMarker,
        Group::Stage,
        Group::Task,
        Group::TaskMarker,
        Group::Step,
        Group::Command,
        Group::Test,
        Group::TestMarker,
        Group::TestScope,
        Group::Suite,
        Group::TestClass,
        Group::TestFile,
        Group::PipelineResult,
        Group::TaskResult,
        Group::TestResult,
        Group::AllowFailure,
        Group::Environment,
        Group::TaskEnvironment,
        Group::TaskType,
        Group::Trigger,
        Group::ChangeId,
        Group::ChangeTitle,
        Group::BaseBranch,
    ];

    /// Number of groups (length of per-group arrays).
    pub const COUNT: usize = Group::ALL.len();

    /// Whether values of this group are results to be mapped to an [`Outcome`].
    pub fn is_result(self) -> bool {
        matches!(
            self,
            Group::PipelineResult | Group::TaskResult | Group::TestResult
        )
    }
}

/// Where a key is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Span attributes first, then resource attributes.
    Any,
    /// Resource attributes only (written `resource:NAME` in the table).
    Resource,
}

/// One key of a row, e.g. `resource:pipeline.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub key: String,
    pub scope: Scope,
}

impl KeySpec {
    fn parse(raw: &str) -> KeySpec {
        match raw.strip_prefix("resource:") {
            Some(key) => KeySpec {
                key: key.to_string(),
                scope: Scope::Resource,
            },
            None => KeySpec {
                key: raw.to_string(),
                scope: Scope::Any,
            },
        }
    }
}

/// Outcomes of a boolean result key for `true` and `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BooleanResult {
    pub on_true: Outcome,
    pub on_false: Outcome,
}

/// The conventions table: for each canonical field the keys in priority order, plus the
/// result-value → outcome mapping and span-name signals. See `conventions.toml` for the
/// file format.
#[derive(Debug, Clone, PartialEq)]
pub struct Conventions {
    keys: Vec<Vec<KeySpec>>,
    /// Rows that only count for one emitter, by resource `service.name`.
    emitter_keys: Vec<(String, Vec<Vec<KeySpec>>)>,
    /// Lowercase result value → outcome.
    results: HashMap<String, Outcome>,
    boolean_results: HashMap<String, BooleanResult>,
    stage_prefixes: Vec<String>,
    task_prefixes: Vec<String>,
    suite_names: Vec<String>,
    test_id: TestIdRules,
    deployments: DeploymentRules,
}

/// A conventions file that could not be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum ConventionsError {
    #[error("cannot read conventions file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Bad TOML or an unknown table/row/outcome; `message` carries line and column.
    #[error("invalid conventions file {origin}: {message}")]
    Parse { origin: String, message: String },
}

impl Conventions {
    /// The built-in table (`conventions.toml` compiled in).
    pub fn builtin() -> Conventions {
        match parse(BUILTIN, "<built-in conventions.toml>") {
            Ok(raw) => Conventions::empty().merged(raw),
            // A unit test proves the built-in file parses; this arm is unreachable in a
            // tested build, and an empty table degrades to "no CI columns" rather than
            // a crash.
            Err(_) => Conventions::empty(),
        }
    }

    /// The built-in table plus a user table given as TOML text. User keys go in front of
    /// built-in keys of the same row; user result values override built-in ones.
    pub fn from_toml_str(s: &str) -> Result<Conventions, ConventionsError> {
        let raw = parse(s, "<string>")?;
        Ok(Conventions::builtin().merged(raw))
    }

    /// `self` plus the user table in `path` (same merge rules as [`from_toml_str`]).
    /// Errors name the file and, for bad TOML, the line and column.
    ///
    /// [`from_toml_str`]: Conventions::from_toml_str
    pub fn with_user_file(self, path: &Path) -> Result<Conventions, ConventionsError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConventionsError::Io {
            path: origin.clone(),
            source,
        })?;
        let raw = parse(&text, &origin)?;
        Ok(self.merged(raw))
    }

    /// The keys of one row in priority order.
    pub fn keys(&self, group: Group) -> &[KeySpec] {
        &self.keys[group as usize]
    }

    /// Emitter-specific rows: (service.name, keys per group).
    pub fn emitter_keys(&self) -> &[(String, Vec<Vec<KeySpec>>)] {
        &self.emitter_keys
    }

    /// The outcome a result value means for `key`, if any (case-insensitive).
    pub fn outcome_of(&self, key: &str, value: &str) -> Option<Outcome> {
        if let Some(b) = self.boolean_results.get(key) {
            if value.eq_ignore_ascii_case("true") {
                return Some(b.on_true);
            }
            if value.eq_ignore_ascii_case("false") {
                return Some(b.on_false);
            }
        }
        self.results.get(&value.to_ascii_lowercase()).copied()
    }

    /// Prefixes of span names that mark a (Jenkins) stage.
    pub fn stage_prefixes(&self) -> &[String] {
        &self.stage_prefixes
    }

    /// Prefixes of span names that mark a task (Jenkins parallel branches).
    pub fn task_prefixes(&self) -> &[String] {
        &self.task_prefixes
    }

    /// Exact span names that mark a test suite (pytest-otel's session span).
    pub fn suite_names(&self) -> &[String] {
        &self.suite_names
    }

    /// How test names from different emitters become one canonical `test_id`.
    pub fn test_id_rules(&self) -> &TestIdRules {
        &self.test_id
    }

    /// Environment aliases, deploy words and trigger classes.
    pub fn deployment_rules(&self) -> &DeploymentRules {
        &self.deployments
    }

    fn empty() -> Conventions {
        Conventions {
            keys: vec![Vec::new(); Group::COUNT],
            emitter_keys: Vec::new(),
            results: HashMap::new(),
            boolean_results: HashMap::new(),
            stage_prefixes: Vec::new(),
            task_prefixes: Vec::new(),
            suite_names: Vec::new(),
            test_id: TestIdRules::empty(),
            deployments: DeploymentRules::default(),
        }
    }

    /// Adds a parsed file on top of `self`: its keys first, its values overriding.
    fn merged(mut self, raw: RawFile) -> Conventions {
        let rows = raw.keys.unwrap_or_default().rows();
        for (group, added) in rows {
            prepend(&mut self.keys[group as usize], added);
        }
        for (service, table) in raw.emitter_keys.unwrap_or_default() {
            let pos = match self.emitter_keys.iter().position(|(s, _)| *s == service) {
                Some(pos) => pos,
                None => {
                    self.emitter_keys
                        .push((service, vec![Vec::new(); Group::COUNT]));
                    self.emitter_keys.len() - 1
                }
            };
            for (group, added) in table.rows() {
                prepend(&mut self.emitter_keys[pos].1[group as usize], added);
            }
        }
        if let Some(results) = raw.results {
            for (outcome, values) in results.rows() {
                for v in values {
                    self.results.insert(v.trim().to_ascii_lowercase(), outcome);
                }
            }
        }
        for (key, b) in raw.boolean_results.unwrap_or_default() {
            self.boolean_results.insert(
                key,
                BooleanResult {
                    on_true: b.on_true.into(),
                    on_false: b.on_false.into(),
                },
            );
        }
        if let Some(names) = raw.span_names {
            prepend_names(&mut self.stage_prefixes, names.stage_prefixes);
            prepend_names(&mut self.task_prefixes, names.task_prefixes);
            prepend_names(&mut self.suite_names, names.suite_names);
        }
        if let Some(rules) = raw.test_id {
            self.test_id = self.test_id.merged(rules);
        }
        self.deployments = self
            .deployments
            .merged(raw.environments, raw.deployments, raw.triggers);
        self
    }
}

/// Puts `added` in front of `row`, dropping older duplicates so each key appears once.
fn prepend(row: &mut Vec<KeySpec>, added: Vec<String>) {
    let added: Vec<KeySpec> = added.iter().map(|k| KeySpec::parse(k)).collect();
    row.retain(|k| !added.contains(k));
    let mut merged = added;
    merged.append(row);
    *row = merged;
}

fn prepend_names(row: &mut Vec<String>, added: Option<Vec<String>>) {
    if let Some(added) = added {
        row.retain(|n| !added.contains(n));
        let mut merged = added;
        merged.append(row);
        *row = merged;
    }
}

fn parse(text: &str, origin: &str) -> Result<RawFile, ConventionsError> {
    toml::from_str::<RawFile>(text).map_err(|e| ConventionsError::Parse {
        origin: origin.to_string(),
        message: e.to_string().trim_end().to_string(),
    })
}

/// The file as written; every part optional so a user file can add just one key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    keys: Option<RawKeys>,
    emitter_keys: Option<HashMap<String, RawKeys>>,
    results: Option<RawResults>,
    boolean_results: Option<HashMap<String, RawBoolean>>,
    span_names: Option<RawSpanNames>,
    test_id: Option<RawTestIdRules>,
    environments: Option<RawEnvironments>,
    deployments: Option<RawDeployments>,
    triggers: Option<RawTriggers>,
}

/// Declares the `[keys]` rows once: the struct (with TOML names) and the mapping to
/// [`Group`], so a row cannot be added to one and forgotten in the other.
macro_rules! key_rows {
    ($($field:ident => $group:ident),* $(,)?) => {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawKeys {
            $($field: Option<Vec<String>>,)*
        }

        impl RawKeys {
            fn rows(self) -> Vec<(Group, Vec<String>)> {
                let mut rows = Vec::new();
                $(if let Some(v) = self.$field { rows.push((Group::$group, v)); })*
                rows
            }
        }
    };
}

key_rows! {
    pipeline => Pipeline,
    run_id => RunId,
    run_number => RunNumber,
    run_scope => RunScope,
    attempt => Attempt,
    previous_attempt_url => PreviousAttemptUrl,
    branch => Branch,
    commit => Commit,
    repo => Repo,
    pipeline_marker => PipelineMarker,
    pipeline_root_marker => PipelineRootMarker,
    stage => Stage,
    task => Task,
    task_marker => TaskMarker,
    step => Step,
    command => Command,
    test => Test,
    test_marker => TestMarker,
    test_scope => TestScope,
    suite => Suite,
    test_class => TestClass,
    test_file => TestFile,
    pipeline_result => PipelineResult,
    task_result => TaskResult,
    test_result => TestResult,
    allow_failure => AllowFailure,
    environment => Environment,
    task_environment => TaskEnvironment,
    task_type => TaskType,
    trigger => Trigger,
    change_id => ChangeId,
    change_title => ChangeTitle,
    base_branch => BaseBranch,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResults {
    pass: Option<Vec<String>>,
    fail: Option<Vec<String>>,
    error: Option<Vec<String>>,
    skip: Option<Vec<String>>,
    cancel: Option<Vec<String>>,
    timeout: Option<Vec<String>>,
}

impl RawResults {
    fn rows(self) -> Vec<(Outcome, Vec<String>)> {
        [
            (Outcome::Pass, self.pass),
            (Outcome::Fail, self.fail),
            (Outcome::Error, self.error),
            (Outcome::Skip, self.skip),
            (Outcome::Cancel, self.cancel),
            (Outcome::Timeout, self.timeout),
        ]
        .into_iter()
        .filter_map(|(o, v)| v.map(|v| (o, v)))
        .collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoolean {
    #[serde(rename = "true")]
    on_true: OutcomeName,
    #[serde(rename = "false")]
    on_false: OutcomeName,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum OutcomeName {
    Pass,
    Fail,
    Error,
    Skip,
    Cancel,
    Timeout,
}

impl From<OutcomeName> for Outcome {
    fn from(o: OutcomeName) -> Outcome {
        match o {
            OutcomeName::Pass => Outcome::Pass,
            OutcomeName::Fail => Outcome::Fail,
            OutcomeName::Error => Outcome::Error,
            OutcomeName::Skip => Outcome::Skip,
            OutcomeName::Cancel => Outcome::Cancel,
            OutcomeName::Timeout => Outcome::Timeout,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpanNames {
    stage_prefixes: Option<Vec<String>>,
    task_prefixes: Option<Vec<String>>,
    suite_names: Option<Vec<String>>,
}

#[cfg(test)]
mod tests;
