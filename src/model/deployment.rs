//! Which spans are deployments, to which environment, and what triggered a run: the
//! name rules behind the `environment` and `trigger` columns.
//!
//! Emitters say "this job deploys to production" in three ways: an attribute
//! (`deployment.environment.name`, the GitLab receiver's
//! `cicd.pipeline.task.run.environment.name`), a task type (`cicd.pipeline.task.type =
//! deploy`, which otel-cicd-action guesses from the job name), or only the job's name
//! (`deploy-staging`, `Deploy to Production`). Environment names vary as much
//! (`Production`, `prod`, `prd`), so values and name tokens go through one alias table
//! and the store holds one canonical name per environment.
//!
//! The tables are data: `[environments]`, `[deployments]` and `[triggers]` in the
//! conventions file (a user file adds aliases, words and values to the built-in ones).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

/// Environment aliases, deploy words and trigger classes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploymentRules {
    /// Lower-case alias → canonical environment name.
    aliases: HashMap<String, String>,
    /// Lower-case `cicd.pipeline.task.type` values that mean "deploys".
    task_types: Vec<String>,
    /// Lower-case words that make a named task a deployment (with an environment token).
    words: Vec<String>,
    /// Lower-case trigger value → class (`pull_request`, `push`, `schedule`, `manual`).
    triggers: HashMap<String, String>,
}

/// `[environments]`: canonical name = aliases.
pub(crate) type RawEnvironments = BTreeMap<String, Vec<String>>;

/// `[deployments]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDeployments {
    task_types: Option<Vec<String>>,
    words: Option<Vec<String>>,
}

/// `[triggers]`: class = raw values.
pub(crate) type RawTriggers = BTreeMap<String, Vec<String>>;

impl DeploymentRules {
    /// Adds a file's tables: its aliases and values win over earlier ones, its lists
    /// extend the earlier lists.
    pub(crate) fn merged(
        mut self,
        environments: Option<RawEnvironments>,
        deployments: Option<RawDeployments>,
        triggers: Option<RawTriggers>,
    ) -> DeploymentRules {
        for (canonical, aliases) in environments.unwrap_or_default() {
            let canonical = canonical.trim().to_string();
            self.aliases
                .insert(canonical.to_lowercase(), canonical.clone());
            for alias in aliases {
                self.aliases
                    .insert(alias.trim().to_lowercase(), canonical.clone());
            }
        }
        if let Some(d) = deployments {
            extend_lower(&mut self.task_types, d.task_types);
            extend_lower(&mut self.words, d.words);
        }
        for (class, values) in triggers.unwrap_or_default() {
            for v in values {
                self.triggers.insert(v.trim().to_lowercase(), class.clone());
            }
        }
        self
    }

    /// The canonical name of an environment as an attribute gave it: its alias's
    /// canonical name, else the value as it is (trimmed). Empty values are none.
    pub fn canonical_environment(&self, value: &str) -> Option<String> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let canonical = self.aliases.get(&value.to_lowercase());
        Some(canonical.map_or_else(|| value.to_string(), Clone::clone))
    }

    /// Whether a `cicd.pipeline.task.type` value means the task deploys.
    pub fn is_deploy_type(&self, task_type: &str) -> bool {
        let t = task_type.trim().to_lowercase();
        self.task_types.contains(&t)
    }

    /// Whether a task or pipeline name says it deploys (`deploy-staging`, `Release to
    /// prod`): one of its words is a deploy word.
    pub fn names_a_deployment(&self, name: &str) -> bool {
        tokens(name).any(|t| self.words.contains(&t))
    }

    /// The environment a name names: the canonical name of its first token that is an
    /// alias (`Deploy to Production` → production, `deploy:stg` → staging).
    pub fn environment_in_name(&self, name: &str) -> Option<String> {
        tokens(name).find_map(|t| self.aliases.get(&t).cloned())
    }

    /// The class of a trigger value (`pull_request_target` → `pull_request`,
    /// `merge_request_event` → `pull_request`, `workflow_dispatch` → `manual`); values
    /// the table does not know are kept, lower-cased.
    pub fn trigger_class(&self, value: &str) -> Option<String> {
        let v = value.trim().to_lowercase();
        if v.is_empty() {
            return None;
        }
        Some(self.triggers.get(&v).cloned().unwrap_or(v))
    }
}

fn extend_lower(list: &mut Vec<String>, added: Option<Vec<String>>) {
    for w in added.unwrap_or_default() {
        let w = w.trim().to_lowercase();
        if !w.is_empty() && !list.contains(&w) {
            list.push(w);
        }
    }
}

/// The lower-case alphanumeric words of a name.
fn tokens(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

#[cfg(test)]
mod tests {
    use crate::model::Conventions;

    fn rules() -> Conventions {
        Conventions::builtin()
    }

    #[test]
    fn aliases_give_one_name_per_environment() {
        let c = rules();
        let r = c.deployment_rules();
        assert_eq!(
            r.canonical_environment(" Prod ").as_deref(),
            Some("production")
        );
        assert_eq!(
            r.canonical_environment("PRODUCTION").as_deref(),
            Some("production")
        );
        assert_eq!(r.canonical_environment("stg").as_deref(), Some("staging"));
        assert_eq!(
            r.canonical_environment("eu-west-canary").as_deref(),
            Some("eu-west-canary")
        );
        assert_eq!(r.canonical_environment("  "), None);
    }

    #[test]
    fn names_say_deployment_and_environment() {
        let c = rules();
        let r = c.deployment_rules();
        for (name, env) in [
            ("deploy-staging", Some("staging")),
            ("Deploy to Production", Some("production")),
            ("deploy:integration", Some("integration")),
            ("rollout prd", Some("production")),
            ("build", None),
        ] {
            assert_eq!(r.environment_in_name(name).as_deref(), env, "{name}");
        }
        assert!(r.names_a_deployment("Deploy to Production"));
        assert!(
            !r.names_a_deployment("staging-smoke-tests"),
            "no deploy word"
        );
        assert!(
            !r.names_a_deployment("redeployment-check"),
            "words, not substrings"
        );
        assert!(r.is_deploy_type("Deploy"));
        assert!(!r.is_deploy_type("build"));
    }

    #[test]
    fn triggers_fall_into_classes() {
        let c = rules();
        let r = c.deployment_rules();
        assert_eq!(
            r.trigger_class("pull_request_target").as_deref(),
            Some("pull_request")
        );
        assert_eq!(
            r.trigger_class("merge_request_event").as_deref(),
            Some("pull_request")
        );
        assert_eq!(r.trigger_class("push").as_deref(), Some("push"));
        assert_eq!(
            r.trigger_class("workflow_dispatch").as_deref(),
            Some("manual")
        );
        assert_eq!(
            r.trigger_class("Parent_Pipeline").as_deref(),
            Some("parent_pipeline")
        );
    }

    #[test]
    fn a_user_file_adds_aliases_and_words() {
        let c = Conventions::from_toml_str(
            "[environments]\nproduction = [\"eu-live\"]\n[deployments]\nwords = [\"ship\"]\n",
        )
        .unwrap();
        let r = c.deployment_rules();
        assert_eq!(
            r.canonical_environment("EU-Live").as_deref(),
            Some("production")
        );
        assert_eq!(
            r.canonical_environment("prod").as_deref(),
            Some("production"),
            "built-in kept"
        );
        assert!(r.names_a_deployment("ship it"));
        assert!(r.names_a_deployment("deploy"));
    }
}
