//! The generator's mutable state, shared by every builder of the synthetic month: the
//! one rng (so equal seeds give byte-identical output) and the counters of planted mess.

use std::collections::BTreeMap;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::trace::{Attrs, Val};

/// Size of a planted huge attribute value.
const HUGE_BYTES: usize = 100 * 1024;

/// Mutable generator state shared by all builders: the one rng and the mess counters.
pub(crate) struct Gen {
    pub rng: SmallRng,
    pub messy: bool,
    flake_acc: BTreeMap<&'static str, f64>,
    pub skewed: u64,
    pub huge: u64,
    huge_budget: u64,
}

impl Gen {
    pub(crate) fn new(seed: u64, messy: bool) -> Self {
        Gen {
            rng: SmallRng::seed_from_u64(seed),
            messy,
            flake_acc: BTreeMap::new(),
            skewed: 0,
            huge: 0,
            huge_budget: 4,
        }
    }

    /// Whether a flaky test fails this time. An accumulator with jittered steps keeps
    /// the realised rate close to `rate` even over few executions, while the failures
    /// still fall irregularly.
    pub(crate) fn flake(&mut self, test: &'static str, rate: f64) -> bool {
        let start = self.rng.random_range(0.0..1.0);
        let step = rate * self.rng.random_range(0.5..1.5);
        let acc = self.flake_acc.entry(test).or_insert(start);
        *acc += step;
        if *acc >= 1.0 {
            *acc -= 1.0;
            true
        } else {
            false
        }
    }

    /// On messy data, gives a few failed tasks a 100 KB log tail attribute.
    pub(crate) fn maybe_huge(&mut self, a: &mut Attrs) {
        if !self.messy || self.huge >= self.huge_budget || !self.rng.random_bool(0.5) {
            return;
        }
        let mut log = String::with_capacity(HUGE_BYTES + 128);
        let mut line = 0u32;
        while log.len() < HUGE_BYTES {
            line += 1;
            let ms = self.rng.random_range(1..900);
            log.push_str(&format!(
                "[{line:05}] compiling crate module_{:03} ... ok ({ms} ms)\n",
                line % 300
            ));
        }
        log.push_str("error: process didn't exit successfully (exit status: 101)\n");
        a.push(("log.tail".into(), Val::Str(log)));
        self.huge += 1;
    }
}
