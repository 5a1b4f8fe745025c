//! Wall-time budgets and early stopping for the pre-training loop, as small
//! pure pieces the loop calls: how fast this machine runs the first
//! updates ([`Probe`]), how many updates and evaluations a budget then fits
//! ([`fit`]), when the held-out loss has stopped improving ([`Patience`]),
//! and why a run stopped ([`StopReason`]).
//!
//! ```
//! use dnalm_train::budget::{fit, Patience};
//!
//! // 10 updates took 4.2 s and one evaluation 3 s; a 30-minute budget:
//! let plan = fit(1800.0, 10, 4.2 + 3.0, 0.42, 3.0).unwrap();
//! assert!((4000..4300).contains(&plan.max_steps));
//! assert!((10..=20).contains(&plan.evaluations));
//!
//! let mut p = Patience::new(2, None);
//! assert!(!p.observe(3.0)); // first: the reference
//! assert!(!p.observe(2.9995)); // not better by MIN_DELTA: 1 of 2
//! assert!(p.observe(3.1)); // 2 of 2: stop
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// Throughput is measured over the first this many updates ...
pub const PROBE_UPDATES: u64 = 10;
/// ... or over as many as run in this many seconds, whichever ends first.
pub const PROBE_SECONDS: f64 = 30.0;
/// Evaluations a fitted budget aims for (held-out curve points).
pub const TARGET_EVALUATIONS: u64 = 12;
/// Evaluations may take at most this share of the budget; fewer are
/// planned when one evaluation is slow.
const EVAL_SHARE: f64 = 0.25;
/// Share of the budget kept back for the last checkpoint, the copy of the
/// best model and jitter in the time per update.
const RESERVE: f64 = 0.03;
/// A held-out loss must fall by more than this (nats) to count as an
/// improvement for [`Patience`].
pub const MIN_DELTA: f64 = 1e-3;

/// Why a run stopped (`summary.json`'s `stop_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// All `max_steps` updates done.
    MaxSteps,
    /// The wall-time budget was reached.
    Budget,
    /// The held-out loss did not improve for `patience` evaluations.
    Patience,
    /// `stop_after` updates of this invocation done (resume to continue).
    StopAfter,
}

impl StopReason {
    /// A run stopped by budget, patience or at its last step is finished;
    /// one stopped by `stop_after` is meant to be resumed.
    pub fn finished(self) -> bool {
        self != StopReason::StopAfter
    }

    /// Words for logs.
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::MaxSteps => "all updates done",
            StopReason::Budget => "the time budget was reached",
            StopReason::Patience => "the held-out loss stopped improving (patience)",
            StopReason::StopAfter => "--stop-after updates done",
        }
    }
}

/// Times the first updates of an invocation. The first update is left out
/// of the rate when there are others (it allocates every buffer).
#[derive(Debug, Clone)]
pub struct Probe {
    updates: u64,
    first: f64,
    total: f64,
    seconds: f64,
    done: bool,
}

impl Default for Probe {
    fn default() -> Self {
        Self::with_seconds(PROBE_SECONDS)
    }
}

impl Probe {
    /// A probe of [`PROBE_UPDATES`] updates or `seconds`, whichever ends
    /// first (a short budget is probed for less than [`PROBE_SECONDS`]).
    pub fn with_seconds(seconds: f64) -> Self {
        Self {
            updates: 0,
            first: 0.0,
            total: 0.0,
            seconds,
            done: false,
        }
    }

    /// Add an update that took `seconds`; returns the seconds per update
    /// once, when the probe is complete.
    pub fn add(&mut self, seconds: f64) -> Option<f64> {
        if self.done {
            return None;
        }
        if self.updates == 0 {
            self.first = seconds;
        }
        self.updates += 1;
        self.total += seconds;
        if self.updates < PROBE_UPDATES && self.total < self.seconds {
            return None;
        }
        self.done = true;
        Some(if self.updates > 1 {
            (self.total - self.first) / (self.updates - 1) as f64
        } else {
            self.total
        })
    }

    /// Updates timed so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }
}

/// What a budget fits, from the measured speed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Updates in all (the ones done included) the budget holds.
    pub max_steps: u64,
    /// Evaluate every this many updates ...
    pub eval_every: u64,
    /// ... which makes about this many evaluations.
    pub evaluations: u64,
}

/// Fit a run to `budget` seconds: `step` updates are done, `elapsed`
/// seconds have gone (the probe's evaluation included), an update takes
/// `per_update` and an evaluation `per_eval` seconds. Errors when the
/// budget cannot hold one more update and one evaluation.
pub fn fit(budget: f64, step: u64, elapsed: f64, per_update: f64, per_eval: f64) -> Result<Plan> {
    let usable = budget * (1.0 - RESERVE) - elapsed;
    let per_update = per_update.max(1e-6);
    if usable < per_update + per_eval {
        return Err(TrainError::Budget(format!(
            "the {} budget is too short: {} went on the first {step} updates and an evaluation, \
             and one more update ({per_update:.2} s) and evaluation ({per_eval:.2} s) do not fit; \
             give a longer --time-budget or a smaller --preset",
            format_seconds(budget),
            format_seconds(elapsed)
        )));
    }
    let by_share = (EVAL_SHARE * budget / per_eval.max(1e-6)).floor() as u64;
    let mut evaluations = TARGET_EVALUATIONS.min(by_share).max(1);
    let left = |evals: u64| ((usable - evals as f64 * per_eval) / per_update).floor();
    while evaluations > 1 && left(evaluations) < evaluations as f64 {
        evaluations -= 1;
    }
    let more = left(evaluations).max(1.0) as u64;
    let max_steps = step + more;
    let eval_every = max_steps.div_ceil(evaluations).max(1);
    Ok(Plan {
        max_steps,
        eval_every,
        evaluations: max_steps.div_ceil(eval_every),
    })
}

/// Early stopping on the held-out loss: stop after `patience` evaluations
/// in a row that did not beat the reference by more than [`MIN_DELTA`]
/// (the reference moves only on such an improvement, as Keras'
/// `EarlyStopping(min_delta)` does).
#[derive(Debug, Clone)]
pub struct Patience {
    patience: u32,
    reference: Option<f64>,
    waited: u32,
}

impl Patience {
    /// `reference` is the best loss of an earlier invocation (on resume).
    pub fn new(patience: u32, reference: Option<f64>) -> Self {
        Self {
            patience,
            reference,
            waited: 0,
        }
    }

    /// Record an evaluation's loss; true when the run should stop.
    pub fn observe(&mut self, loss: f64) -> bool {
        match self.reference {
            Some(r) if loss >= r - MIN_DELTA => self.waited += 1,
            _ => {
                self.reference = Some(loss);
                self.waited = 0;
            }
        }
        self.waited >= self.patience
    }

    /// Evaluations since the last improvement.
    pub fn waited(&self) -> u32 {
        self.waited
    }
}

/// `1h 30m`, `4m 05s`, `42.0 s`: a duration for people.
pub fn format_seconds(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return format!("{s} s");
    }
    if s < 60.0 {
        return format!("{s:.1} s");
    }
    let total = s.round() as u64;
    let (h, m, sec) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else {
        format!("{m} min {sec:02} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_skips_the_first_update_and_stops_at_ten_or_thirty_seconds() {
        let mut p = Probe::default();
        assert_eq!(p.add(5.0), None);
        for _ in 0..8 {
            assert_eq!(p.add(1.0), None);
        }
        assert_eq!(p.add(1.0), Some(1.0));
        assert_eq!(p.add(1.0), None, "reports once");
        // Slow updates: 30 s pass before 10 updates.
        let mut p = Probe::default();
        assert_eq!(p.add(20.0), None);
        assert_eq!(p.add(12.0), Some(12.0));
        // One update longer than the probe: its own time.
        let mut p = Probe::default();
        assert_eq!(p.add(40.0), Some(40.0));
        assert_eq!(p.updates(), 1);
    }

    #[test]
    fn fit_fills_the_budget_with_updates_and_about_twelve_evaluations() {
        let plan = fit(1800.0, 10, 7.2, 0.42, 3.0).unwrap();
        let used = 7.2 + (plan.max_steps - 10) as f64 * 0.42 + plan.evaluations as f64 * 3.0;
        assert!(used <= 1800.0, "{plan:?} uses {used}");
        assert!(used > 1700.0, "{plan:?} uses only {used}");
        assert!((10..=13).contains(&plan.evaluations), "{plan:?}");
        assert_eq!(plan.max_steps.div_ceil(plan.eval_every), plan.evaluations);
    }

    #[test]
    fn slow_evaluations_are_fewer() {
        // An evaluation of 60 s in a 10-minute budget: at most 2 of them.
        let plan = fit(600.0, 10, 70.0, 0.5, 60.0).unwrap();
        assert!(plan.evaluations <= 3, "{plan:?}");
        assert!(plan.max_steps > 500, "{plan:?}");
    }

    #[test]
    fn a_budget_without_room_for_an_evaluation_is_an_error() {
        let e = fit(60.0, 10, 50.0, 1.0, 20.0).unwrap_err().to_string();
        assert!(
            e.contains("too short") && e.contains("evaluation") && e.contains("1 min 00 s"),
            "{e}"
        );
        // Just enough for one more update and the evaluation.
        let plan = fit(100.0, 10, 50.0, 1.0, 20.0).unwrap();
        assert!(plan.max_steps > 10 && plan.evaluations >= 1, "{plan:?}");
    }

    #[test]
    fn patience_counts_evaluations_without_a_real_improvement() {
        let mut p = Patience::new(3, None);
        assert!(!p.observe(2.0));
        assert!(!p.observe(1.9)); // improvement: reset
        assert!(!p.observe(1.8995)); // within MIN_DELTA: 1
        assert!(!p.observe(1.95)); // 2
        assert_eq!(p.waited(), 2);
        assert!(p.observe(1.9)); // 3: stop
                                 // On resume the best loss so far is the reference.
        let mut p = Patience::new(1, Some(1.0));
        assert!(p.observe(1.2));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(format_seconds(42.04), "42.0 s");
        assert_eq!(format_seconds(245.0), "4 min 05 s");
        assert_eq!(format_seconds(38_400.0), "10 h 40 min");
        assert_eq!(StopReason::Budget.describe(), "the time budget was reached");
        assert_eq!(
            serde_json::to_string(&StopReason::MaxSteps).unwrap(),
            "\"max-steps\""
        );
    }
}
