//! Learning-rate schedules as small pure functions of the step.
//!
//! [`LinearSchedule`] reproduces Hugging Face's
//! `get_linear_schedule_with_warmup` bit for bit, so a run here and a
//! `transformers` run with the same settings see the same learning rates:
//!
//! ```text
//! multiplier(s) = s / max(1, warmup)                          if s < warmup
//!               = max(0, (total - s) / max(1, total - warmup)) otherwise
//! lr_at(s)      = peak_lr * multiplier(s)
//! ```
//!
//! `s` is the 0-based index of the optimiser update. PyTorch's `LambdaLR`
//! evaluates the multiplier at 0 when it is built and steps it after every
//! `optimizer.step()`, so update 0 uses `lr_at(0)` (= 0 with a warm-up),
//! update 1 uses `lr_at(1)`, and so on. The training loop asks for
//! `lr_at(update_index)` before each update.
//!
//! ```
//! use dnalm_train::schedule::LinearSchedule;
//!
//! // The published hybrid run: peak 4e-4, 1,000 warm-up steps, 20,000 in all.
//! let s = LinearSchedule::new(4e-4, 1_000, 20_000).unwrap();
//! assert_eq!(s.lr_at(0), 0.0);
//! assert_eq!(s.lr_at(500), 2e-4);
//! assert_eq!(s.lr_at(1_000), 4e-4);
//! assert_eq!(s.lr_at(20_000), 0.0);
//! ```

use crate::error::{Result, TrainError};

/// Linear warm-up to `peak_lr`, then linear decay to 0 at `total_steps`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinearSchedule {
    pub peak_lr: f64,
    pub warmup_steps: u64,
    pub total_steps: u64,
}

impl LinearSchedule {
    /// A validated schedule (see [`LinearSchedule::validate`]).
    pub fn new(peak_lr: f64, warmup_steps: u64, total_steps: u64) -> Result<LinearSchedule> {
        let s = LinearSchedule {
            peak_lr,
            warmup_steps,
            total_steps,
        };
        s.validate()?;
        Ok(s)
    }

    /// A warm-up given as a fraction of the run, as DNABERT fine-tuning
    /// states it ("6% of steps"). The step count is rounded up, as
    /// `transformers`' `TrainingArguments.get_warmup_steps` does
    /// (`math.ceil(total * ratio)`), so both agree on the same run.
    pub fn with_warmup_ratio(peak_lr: f64, warmup_ratio: f64, total_steps: u64) -> Result<Self> {
        if !(0.0..=1.0).contains(&warmup_ratio) {
            return Err(TrainError::param(format!(
                "warm-up ratio {warmup_ratio} is not in [0, 1]"
            )));
        }
        let warmup = (warmup_ratio * total_steps as f64).ceil() as u64;
        LinearSchedule::new(peak_lr, warmup.min(total_steps), total_steps)
    }

    /// The peak must be finite and positive, the run at least one update
    /// long, and the warm-up no longer than the run (a longer one would
    /// never reach the peak, which is always a configuration mistake).
    pub fn validate(&self) -> Result<()> {
        if !self.peak_lr.is_finite() || self.peak_lr <= 0.0 {
            return Err(TrainError::param(format!(
                "peak learning rate {} must be finite and > 0",
                self.peak_lr
            )));
        }
        if self.total_steps == 0 {
            return Err(TrainError::param("total steps must be at least 1"));
        }
        if self.warmup_steps > self.total_steps {
            return Err(TrainError::param(format!(
                "warm-up steps ({}) exceed total steps ({})",
                self.warmup_steps, self.total_steps
            )));
        }
        Ok(())
    }

    /// The factor applied to `peak_lr` at update `step`, computed with the
    /// same f64 operations as the Python lambda so the values are identical.
    pub fn multiplier(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return step as f64 / self.warmup_steps.max(1) as f64;
        }
        let remaining = self.total_steps.saturating_sub(step) as f64;
        let decay = (self.total_steps - self.warmup_steps).max(1) as f64;
        (remaining / decay).max(0.0)
    }

    /// The learning rate for the 0-based update `step`.
    pub fn lr_at(&self, step: u64) -> f64 {
        self.peak_lr * self.multiplier(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Hugging Face's lambda, transcribed with Python's semantics (signed
    /// integers, then float division) as the oracle.
    fn hf_lambda(step: i64, warmup: i64, total: i64) -> f64 {
        if step < warmup {
            return step as f64 / (warmup.max(1)) as f64;
        }
        f64::max(
            0.0,
            (total - step) as f64 / ((total - warmup).max(1)) as f64,
        )
    }

    #[test]
    fn published_hybrid_schedule() {
        let s = LinearSchedule::new(4e-4, 1000, 20_000).unwrap();
        assert_eq!(s.lr_at(0), 0.0);
        assert_eq!(s.lr_at(1), 4e-4 * (1.0 / 1000.0));
        assert_eq!(s.lr_at(999), 4e-4 * (999.0 / 1000.0));
        assert_eq!(s.lr_at(1000), 4e-4);
        assert_eq!(s.lr_at(10_500), 4e-4 * 0.5);
        assert_eq!(s.lr_at(19_999), 4e-4 * (1.0 / 19_000.0));
        assert_eq!(s.lr_at(20_000), 0.0);
        assert_eq!(s.lr_at(u64::MAX), 0.0);
    }

    #[test]
    fn edge_cases_follow_hf() {
        // No warm-up: full rate at update 0.
        let s = LinearSchedule::new(1e-4, 0, 10).unwrap();
        assert_eq!(s.lr_at(0), 1e-4);
        assert_eq!(s.lr_at(5), 1e-4 * 0.5);
        // Warm-up == total: the decay denominator is clamped to 1.
        let s = LinearSchedule::new(1.0, 10, 10).unwrap();
        assert_eq!(s.lr_at(9), 0.9);
        assert_eq!(s.lr_at(10), 0.0);
        assert_eq!(s.lr_at(11), 0.0);
    }

    #[test]
    fn warmup_ratio() {
        // DNABERT fine-tuning: 6% of the run.
        let s = LinearSchedule::with_warmup_ratio(2e-4, 0.06, 1000).unwrap();
        assert_eq!(s.warmup_steps, 60);
        let s = LinearSchedule::with_warmup_ratio(2e-4, 0.06, 1001).unwrap();
        assert_eq!(s.warmup_steps, 61);
        assert!(LinearSchedule::with_warmup_ratio(2e-4, 1.5, 10).is_err());
        assert!(LinearSchedule::with_warmup_ratio(2e-4, f64::NAN, 10).is_err());
    }

    #[test]
    fn validation_rejects_bad_settings() {
        for lr in [0.0, -1e-4, f64::NAN, f64::INFINITY] {
            assert!(LinearSchedule::new(lr, 1, 10).is_err(), "{lr}");
        }
        assert!(LinearSchedule::new(1e-4, 11, 10).is_err());
        assert!(LinearSchedule::new(1e-4, 0, 0).is_err());
        let msg = LinearSchedule::new(1e-4, 11, 10).unwrap_err().to_string();
        assert!(msg.contains("11") && msg.contains("10"), "{msg}");
    }

    proptest! {
        #[test]
        fn matches_hf_exactly(warmup in 0u64..5000, extra in 0u64..50_000, step in 0u64..60_000) {
            let total = (warmup + extra).max(1);
            let s = LinearSchedule::new(3e-4, warmup, total).unwrap();
            let want = 3e-4 * hf_lambda(step as i64, warmup as i64, total as i64);
            prop_assert_eq!(s.lr_at(step).to_bits(), want.to_bits());
        }

        #[test]
        fn bounded_and_unimodal(warmup in 0u64..200, extra in 1u64..200, step in 0u64..500) {
            let total = warmup + extra;
            let s = LinearSchedule::new(1.0, warmup, total).unwrap();
            let (a, b) = (s.lr_at(step), s.lr_at(step + 1));
            prop_assert!((0.0..=1.0).contains(&a));
            if step < warmup { prop_assert!(b >= a); } else { prop_assert!(b <= a); }
        }
    }
}
