//! The delivery history of the synthetic month: changes of two more repositories on
//! their way to production, for `delivery`, `dora` and `failures --by cause`.
//!
//! `acme/storefront` is emitted in the GitHub Actions exporters' shapes (`github.rs`),
//! `acme/payments` in the Collector GitLab receiver's (`gitlab.rs`). Both follow the
//! same story (`plan.rs`): PR checks (some re-run, one cancelled, one PR never merged),
//! review, merge, integration and staging deployments per merge, batched production
//! releases (so most changes reach production through a later commit's deployment), a
//! direct push without a PR, a failed production deployment and its restore, a
//! rollback within a day, and platform and code failures. `truth.rs` computes what
//! the analyses must find from the plan. Clean OTLP/JSON lines, one file per emitter,
//! from an rng of their own, so that the rest of the month stays byte-identical and
//! no flaky or compare fact moves; the runs are tallied into the [`Truth`] like all
//! others.
//!
//! [`Truth`]: super::Truth

mod github;
mod gitlab;
mod plan;
mod truth;

#[cfg(test)]
mod tests;

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::SynthConfig;
use super::encode_otlp::{OtlpStyle, resource_spans};
use super::run::Run;
use plan::{DAY_US, Emitter, REPOS};
pub use truth::{ChangeTruth, DeliveryTruth, DoraTruth, PlantedDelivery, PlatformTruth};

/// The delivery runs, their files and their truth.
pub(crate) struct DeliveryOut {
    pub runs: Vec<Run>,
    pub files: Vec<(String, Vec<u8>)>,
    pub truth: DeliveryTruth,
}

/// Plans, emits and judges the delivery month of `cfg` (its seed and start).
pub(crate) fn generate(cfg: &SynthConfig) -> DeliveryOut {
    let start_us = cfg.start / 1_000;
    let mut plans = Vec::new();
    for (i, repo) in REPOS.iter().enumerate() {
        let mut rng = SmallRng::seed_from_u64(cfg.seed ^ 0xde11_7e4e_0000_0000 ^ i as u64);
        plans.push(plan::plan_repo(repo, &mut rng, start_us));
    }
    let truth = truth::compute(&plans, cfg.start, cfg.start + 30 * DAY_US * 1_000);
    let mut rng = SmallRng::seed_from_u64(cfg.seed ^ 0xde11_7e4e_5eed_0001);
    let mut runs = Vec::new();
    let mut files = Vec::new();
    for p in &plans {
        let mut buf = Vec::new();
        for r in &p.runs {
            let trace = match p.repo.emitter {
                Emitter::GitHub => github::trace(&mut rng, r),
                Emitter::GitLab => gitlab::trace(&mut rng, r),
            };
            let line = serde_json::json!({
                "resourceSpans": resource_spans(&trace, &OtlpStyle::STANDARD)
            });
            buf.extend_from_slice(line.to_string().as_bytes());
            buf.push(b'\n');
            runs.push(Run {
                trace,
                branch: r.branch.clone(),
                pipeline: r.pipeline,
                failed: r.failed(),
                attempt: r.attempt,
            });
        }
        let name = match p.repo.emitter {
            Emitter::GitHub => "otlp-lines-delivery-github.jsonl",
            Emitter::GitLab => "otlp-lines-delivery-gitlab.jsonl",
        };
        files.push((name.to_string(), buf));
    }
    DeliveryOut { runs, files, truth }
}
