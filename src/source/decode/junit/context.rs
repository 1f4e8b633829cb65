//! The CI context of a JUnit report: which pipeline run, attempt, job, branch and
//! commit produced it. A report says none of this, so it comes from the command line
//! and, for whatever the command line leaves out, from the environment of the CI
//! system the report was written on (table in the module header of `junit`).

/// What a JUnit report cannot say about itself. Every field is optional; whatever is
/// absent after [`JunitContext::with_env`] stays absent (the run id then falls back to
/// one derived from the report's file name and time, see the `junit` module header).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JunitContext {
    /// Pipeline (workflow) name: `--pipeline`.
    pub pipeline: Option<String>,
    /// Id of the pipeline run: `--run-id`. Runs of one pipeline share nothing else, so
    /// this is what groups the reports of one run into one trace.
    pub run_id: Option<String>,
    /// 1-based attempt of the run (a re-run of the same run id): `--attempt`.
    pub attempt: Option<i32>,
    /// The job / task that ran the tests: `--task`.
    pub task: Option<String>,
    /// Branch under test: `--branch`.
    pub branch: Option<String>,
    /// Commit under test: `--commit`.
    pub commit: Option<String>,
    /// Repository (`owner/name` or a URL): `--repo`.
    pub repo: Option<String>,
    /// Fallback start time, ns since the Unix epoch, for suites whose report has no
    /// `timestamp`: `--time`, else the file's mtime (the caller decides). `None` and no
    /// timestamp in the report put the executions at the Unix epoch.
    pub time_ns: Option<i64>,
}

/// Looks an environment variable up (`std::env::var` in the binary, a map in tests).
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One CI system: the variable that says a job runs on it, and how to read the rest.
struct Provider {
    name: &'static str,
    /// Set (to anything non-empty) in every job of this system.
    marker: &'static str,
    read: fn(Lookup<'_>) -> JunitContext,
}

const PROVIDERS: [Provider; 5] = [
    Provider {
        name: "github",
        marker: "GITHUB_ACTIONS",
        read: github,
    },
    Provider {
        name: "gitlab",
        marker: "GITLAB_CI",
        read: gitlab,
    },
    Provider {
        name: "buildkite",
        marker: "BUILDKITE",
        read: buildkite,
    },
    Provider {
        name: "circleci",
        marker: "CIRCLECI",
        read: circleci,
    },
    // Last: other systems also set BUILD_NUMBER-like variables, Jenkins' marker is its URL.
    Provider {
        name: "jenkins",
        marker: "JENKINS_URL",
        read: jenkins,
    },
];

impl JunitContext {
    /// The context the environment of a CI job describes (empty outside CI).
    /// `lookup` reads one variable (`|k| std::env::var(k).ok()` in the CLI; a map in
    /// tests). The first system whose marker variable is set is read, and only it, so
    /// that a stray variable of another system (a `GIT_COMMIT` exported by a script)
    /// does not leak in.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> JunitContext {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        match PROVIDERS.iter().find(|p| get(p.marker).is_some()) {
            Some(p) => (p.read)(&get),
            None => JunitContext::default(),
        }
    }

    /// This context, with every absent field filled from [`JunitContext::from_env`]:
    /// what the command line says wins, the CI environment fills the rest.
    pub fn with_env(self, lookup: impl Fn(&str) -> Option<String>) -> JunitContext {
        let env = JunitContext::from_env(lookup);
        JunitContext {
            pipeline: self.pipeline.or(env.pipeline),
            run_id: self.run_id.or(env.run_id),
            attempt: self.attempt.or(env.attempt),
            task: self.task.or(env.task),
            branch: self.branch.or(env.branch),
            commit: self.commit.or(env.commit),
            repo: self.repo.or(env.repo),
            time_ns: self.time_ns.or(env.time_ns),
        }
    }

    /// The name of the CI system whose environment [`JunitContext::from_env`] would
    /// read (`github`, `gitlab`, `buildkite`, `circleci`, `jenkins`), if any.
    pub fn detect_ci(lookup: impl Fn(&str) -> Option<String>) -> Option<&'static str> {
        PROVIDERS
            .iter()
            .find(|p| lookup(p.marker).is_some_and(|v| !v.trim().is_empty()))
            .map(|p| p.name)
    }
}

/// The first of `keys` that is set.
fn first(get: &dyn Fn(&str) -> Option<String>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| get(k))
}

fn attempt(v: Option<String>) -> Option<i32> {
    v.and_then(|v| v.parse::<i32>().ok()).filter(|n| *n >= 1)
}

fn github(get: &dyn Fn(&str) -> Option<String>) -> JunitContext {
    JunitContext {
        pipeline: get("GITHUB_WORKFLOW"),
        run_id: get("GITHUB_RUN_ID"),
        attempt: attempt(get("GITHUB_RUN_ATTEMPT")),
        task: get("GITHUB_JOB"),
        // On pull_request events GITHUB_REF_NAME is `<n>/merge`; the head branch is
        // the branch the author pushed.
        branch: first(get, &["GITHUB_HEAD_REF", "GITHUB_REF_NAME"]),
        commit: get("GITHUB_SHA"),
        repo: get("GITHUB_REPOSITORY"),
        time_ns: None,
    }
}

fn gitlab(get: &dyn Fn(&str) -> Option<String>) -> JunitContext {
    JunitContext {
        pipeline: first(get, &["CI_PIPELINE_NAME", "CI_PROJECT_NAME"]),
        run_id: get("CI_PIPELINE_ID"),
        // GitLab retries jobs, not pipelines: a retried job is a new job id in the same
        // pipeline, so there is no pipeline attempt to read.
        attempt: None,
        task: get("CI_JOB_NAME"),
        branch: first(
            get,
            &[
                "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
                "CI_COMMIT_BRANCH",
                "CI_COMMIT_REF_NAME",
            ],
        ),
        commit: get("CI_COMMIT_SHA"),
        repo: get("CI_PROJECT_PATH"),
        time_ns: None,
    }
}

fn buildkite(get: &dyn Fn(&str) -> Option<String>) -> JunitContext {
    JunitContext {
        pipeline: get("BUILDKITE_PIPELINE_SLUG"),
        run_id: get("BUILDKITE_BUILD_ID"),
        // BUILDKITE_RETRY_COUNT is 0 on the first attempt of a job.
        attempt: get("BUILDKITE_RETRY_COUNT")
            .and_then(|n| n.parse::<i32>().ok())
            .and_then(|n| n.checked_add(1))
            .filter(|n| *n >= 1),
        task: first(get, &["BUILDKITE_LABEL", "BUILDKITE_STEP_KEY"]),
        branch: get("BUILDKITE_BRANCH"),
        commit: get("BUILDKITE_COMMIT"),
        repo: get("BUILDKITE_REPO"),
        time_ns: None,
    }
}

fn circleci(get: &dyn Fn(&str) -> Option<String>) -> JunitContext {
    let repo = match (
        get("CIRCLE_PROJECT_USERNAME"),
        get("CIRCLE_PROJECT_REPONAME"),
    ) {
        (Some(owner), Some(name)) => Some(format!("{owner}/{name}")),
        (None, name) => name,
        (owner, None) => get("CIRCLE_REPOSITORY_URL").or(owner),
    };
    JunitContext {
        pipeline: get("CIRCLE_PROJECT_REPONAME"),
        // A workflow is the run; CIRCLE_BUILD_NUM numbers single jobs (older setups
        // without workflows).
        run_id: first(get, &["CIRCLE_WORKFLOW_ID", "CIRCLE_BUILD_NUM"]),
        attempt: None,
        task: get("CIRCLE_JOB"),
        branch: get("CIRCLE_BRANCH"),
        commit: get("CIRCLE_SHA1"),
        repo,
        time_ns: None,
    }
}

fn jenkins(get: &dyn Fn(&str) -> Option<String>) -> JunitContext {
    let job = get("JOB_NAME");
    // Build numbers count per job: scope them as `<job>#<number>`, the same shape the
    // normaliser gives Jenkins traces.
    let run_id = first(get, &["BUILD_NUMBER", "BUILD_ID"]).map(|n| match &job {
        Some(job) => format!("{job}#{n}"),
        None => n,
    });
    JunitContext {
        pipeline: job,
        run_id,
        attempt: None,
        task: get("STAGE_NAME"),
        // BRANCH_NAME (multibranch) is the branch; CHANGE_BRANCH the source of a PR
        // build; GIT_BRANCH (git plugin) is `origin/<branch>`.
        branch: first(get, &["CHANGE_BRANCH", "BRANCH_NAME"]).or_else(|| {
            get("GIT_BRANCH").map(|b| b.strip_prefix("origin/").unwrap_or(&b).to_owned())
        }),
        commit: get("GIT_COMMIT"),
        repo: get("GIT_URL"),
        time_ns: None,
    }
}
