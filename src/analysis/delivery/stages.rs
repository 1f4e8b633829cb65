//! One change's path as a waterfall: each stage it went through and each wait between
//! them, with start, end and duration, in the order they happened.

use serde::{Deserialize, Serialize};

use super::changes::ChangePath;

/// A stage of the waterfall: `run` when something ran (checks, a pipeline, a
/// deployment), `wait` when the change waited for the next thing to start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub stage: String,
    pub kind: String,
    pub start_ns: i64,
    pub end_ns: i64,
}

impl Stage {
    pub fn duration_ns(&self) -> i64 {
        (self.end_ns - self.start_ns).max(0)
    }
}

/// The stages of `path`, from its first CI run on. Waits of zero length are left out;
/// a change that never merged ends with its checks.
pub fn stages(path: &ChangePath) -> Vec<Stage> {
    let mut stages = Vec::new();
    let mut at = path.first_ci_ns;
    let push =
        |stages: &mut Vec<Stage>, at: &mut i64, wait: &str, name: String, start: i64, end: i64| {
            if start > *at {
                stages.push(Stage {
                    stage: wait.to_string(),
                    kind: "wait".into(),
                    start_ns: *at,
                    end_ns: start,
                });
            }
            stages.push(Stage {
                stage: name,
                kind: "run".into(),
                start_ns: start,
                end_ns: end,
            });
            *at = (*at).max(end);
        };
    if let Some((start, end)) = path.pr_checks {
        let name = match &path.pr {
            Some(pr) => format!("pull request #{pr} checks"),
            None => "pull request checks".to_string(),
        };
        push(&mut stages, &mut at, "waiting for checks", name, start, end);
    }
    if let Some(merge) = &path.merge {
        let name = match &merge.pipeline {
            Some(p) => format!("merged: {p} on the default branch"),
            None => "merged: default-branch pipeline".to_string(),
        };
        let wait = if path.pr_checks.is_some() {
            "review and merge"
        } else {
            "waiting for merge"
        };
        push(
            &mut stages,
            &mut at,
            wait,
            name,
            merge.start_ns,
            merge.end_ns,
        );
    }
    for r in &path.reached {
        let by = match (
            &r.deployed_commit,
            r.deployed_commit.as_deref() == Some(path.commit.as_str()),
        ) {
            (Some(c), false) => format!(" (with {})", short(c)),
            _ => String::new(),
        };
        push(
            &mut stages,
            &mut at,
            &format!("waiting for {}", r.environment),
            format!("deploy to {}{by}", r.environment),
            r.start_ns,
            r.end_ns,
        );
    }
    stages
}

/// A commit as people read it: its first 8 characters.
pub fn short(commit: &str) -> &str {
    commit.get(..8).unwrap_or(commit)
}
