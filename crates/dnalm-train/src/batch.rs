//! Seeded choice of sequences: train/eval splits and the batch sampler.
//!
//! Every random choice in training is a pure function of the run seed and a
//! position (epoch, step, micro-batch, row), never of a generator carried
//! from step to step. That is what makes a run resumed from a checkpoint at
//! step `s` see exactly the batches and masks an uninterrupted run sees: the
//! checkpoint only has to store `s`.
//!
//! Random streams are ChaCha8 keyed by `(domain, seed, a, b)` and drawn
//! through [`RngCore::next_u64`] only. rand_chacha promises that stream
//! never changes; `rand`'s distributions and `shuffle` make no such promise
//! across versions, so they are not used here.
//!
//! ```
//! use dnalm_train::batch::{BatchSampler, Split};
//!
//! let split = Split::by_fraction(10, 0.2, 7).unwrap();
//! assert_eq!((split.train.len(), split.eval.len()), (8, 2));
//! let mut sampler = BatchSampler::new(split.train.clone(), 3, 7).unwrap();
//! let first = sampler.batch(0);
//! assert_eq!(first.len(), 3);
//! // A fresh sampler (a resumed run) gives the same batch for the same step.
//! assert_eq!(BatchSampler::new(split.train, 3, 7).unwrap().batch(0), first);
//! ```

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Result, TrainError};

/// Domains keep the streams of different uses apart even under one seed.
pub(crate) mod domain {
    pub const SAMPLER: u64 = 1;
    pub const SPLIT: u64 = 2;
    pub const MASK: u64 = 3;
    pub const MEASURE: u64 = 4;
}

/// A ChaCha8 stream keyed by `(domain, seed, a, b)`: distinct keys give
/// independent streams, with no hashing and so no collisions.
pub(crate) fn keyed_rng(domain: u64, seed: u64, a: u64, b: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    for (chunk, word) in key.chunks_exact_mut(8).zip([domain, seed, a, b]) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}

/// Uniform in [0, 1) with 53 random bits.
#[inline]
pub(crate) fn unit_f64(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform in [0, n) by multiply-shift; the bias is below n / 2^64, far
/// under anything a training run could notice. `n` must be > 0.
#[inline]
pub(crate) fn below(rng: &mut impl RngCore, n: u64) -> u64 {
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u64
}

/// Fisher-Yates over `items` with the stable draws above.
pub(crate) fn shuffle<T>(items: &mut [T], rng: &mut impl RngCore) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// A seeded partition of sequence indices `0..n` into train and eval.
/// Both lists are sorted (eval reads in corpus order; the sampler shuffles
/// train itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<u32>,
    pub eval: Vec<u32>,
}

impl Split {
    /// Hold out `round(n * eval_fraction)` sequences, at least one when the
    /// fraction is positive and `n >= 2`, and always leaving one to train on.
    pub fn by_fraction(n: usize, eval_fraction: f64, seed: u64) -> Result<Split> {
        if !(0.0..1.0).contains(&eval_fraction) {
            return Err(TrainError::param(format!(
                "eval fraction {eval_fraction} is not in [0, 1)"
            )));
        }
        let n_eval = if eval_fraction > 0.0 && n >= 2 {
            ((n as f64 * eval_fraction).round() as usize).clamp(1, n - 1)
        } else {
            0
        };
        Split::by_count(n, n_eval, seed)
    }

    /// Hold out exactly `n_eval` sequences (the publications give counts:
    /// 400,000 train and 100,000 test).
    pub fn by_count(n: usize, n_eval: usize, seed: u64) -> Result<Split> {
        let n32 = u32::try_from(n).map_err(|_| {
            TrainError::param(format!(
                "{n} sequences is more than a split can index (u32)"
            ))
        })?;
        if n_eval > n {
            return Err(TrainError::param(format!(
                "cannot hold out {n_eval} of {n} sequences"
            )));
        }
        let mut all: Vec<u32> = (0..n32).collect();
        shuffle(&mut all, &mut keyed_rng(domain::SPLIT, seed, 0, 0));
        let mut eval = all[..n_eval].to_vec();
        let mut train = all[n_eval..].to_vec();
        eval.sort_unstable();
        train.sort_unstable();
        Ok(Split { train, eval })
    }
}

/// Batches of sequence indices as a pure function of `(seed, step)`.
///
/// The indices are walked epoch by epoch, each epoch in its own seeded
/// permutation (keyed by `(seed, epoch)`). Batch `s` takes positions
/// `s * batch_size .. (s + 1) * batch_size` of that endless walk, so a batch
/// at the end of an epoch continues into the next one (no batch is dropped
/// or short). With gradient accumulation, number the micro-batches
/// `update * accumulation + micro` and ask for that step.
#[derive(Debug, Clone)]
pub struct BatchSampler {
    indices: Vec<u32>,
    batch_size: usize,
    seed: u64,
    /// The last epoch's permutation: consecutive steps reuse it.
    cache: Option<(u64, Vec<u32>)>,
}

impl BatchSampler {
    /// `indices` are the sequences to draw from (for example
    /// [`Split::train`]); they must not be empty.
    pub fn new(indices: Vec<u32>, batch_size: usize, seed: u64) -> Result<BatchSampler> {
        if indices.is_empty() {
            return Err(TrainError::param("the batch sampler has no sequences"));
        }
        if batch_size == 0 {
            return Err(TrainError::param("batch size must be at least 1"));
        }
        Ok(BatchSampler {
            indices,
            batch_size,
            seed,
            cache: None,
        })
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// How many sequences one epoch walks.
    pub fn epoch_len(&self) -> usize {
        self.indices.len()
    }

    /// The epoch that batch `step` starts in (for logging).
    pub fn epoch_of(&self, step: u64) -> u64 {
        let pos = u128::from(step) * self.batch_size as u128;
        (pos / self.indices.len() as u128) as u64
    }

    /// The order of epoch `epoch` (pure; used by [`BatchSampler::batch`]).
    pub fn permutation(&self, epoch: u64) -> Vec<u32> {
        let mut p = self.indices.clone();
        shuffle(&mut p, &mut keyed_rng(domain::SAMPLER, self.seed, epoch, 0));
        p
    }

    /// The sequence indices of batch `step`.
    pub fn batch(&mut self, step: u64) -> Vec<usize> {
        let n = self.indices.len() as u128;
        let start = u128::from(step) * self.batch_size as u128;
        let mut out = Vec::with_capacity(self.batch_size);
        for pos in start..start + self.batch_size as u128 {
            // Epochs past u64::MAX cannot be reached by any real run.
            let epoch = (pos / n) as u64;
            let offset = (pos % n) as usize;
            if self.cache.as_ref().is_none_or(|(e, _)| *e != epoch) {
                self.cache = Some((epoch, self.permutation(epoch)));
            }
            if let Some((_, perm)) = &self.cache {
                out.push(perm[offset] as usize);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::RngCore;

    #[test]
    fn keyed_streams_are_stable_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = keyed_rng(1, 2, 3, 4);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = keyed_rng(1, 2, 3, 4);
        let b: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
        for key in [(2, 2, 3, 4), (1, 3, 3, 4), (1, 2, 4, 4), (1, 2, 3, 5)] {
            let mut r = keyed_rng(key.0, key.1, key.2, key.3);
            assert_ne!(r.next_u64(), a[0], "{key:?}");
        }
    }

    #[test]
    fn unit_and_below_are_in_range() {
        let mut r = keyed_rng(0, 0, 0, 0);
        let mut hist = [0usize; 5];
        for _ in 0..50_000 {
            let u = unit_f64(&mut r);
            assert!((0.0..1.0).contains(&u));
            hist[below(&mut r, 5) as usize] += 1;
        }
        for h in hist {
            assert!((9_000..11_000).contains(&h), "{hist:?}");
        }
    }

    #[test]
    fn split_partitions_and_is_seeded() {
        let s = Split::by_fraction(1000, 0.2, 1).unwrap();
        assert_eq!((s.train.len(), s.eval.len()), (800, 200));
        let mut all: Vec<u32> = s.train.iter().chain(&s.eval).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<u32>>());
        assert_eq!(Split::by_fraction(1000, 0.2, 1).unwrap(), s);
        assert_ne!(Split::by_fraction(1000, 0.2, 2).unwrap(), s);
        // Tiny corpora still get one of each.
        let t = Split::by_fraction(2, 0.01, 0).unwrap();
        assert_eq!((t.train.len(), t.eval.len()), (1, 1));
        assert_eq!(Split::by_fraction(5, 0.0, 0).unwrap().eval.len(), 0);
        assert_eq!(Split::by_fraction(1, 0.9, 0).unwrap().train, [0]);
        assert_eq!(Split::by_fraction(0, 0.5, 0).unwrap().train.len(), 0);
        assert!(Split::by_fraction(5, 1.0, 0).is_err());
        assert!(Split::by_fraction(5, f64::NAN, 0).is_err());
        assert!(Split::by_count(5, 6, 0).is_err());
    }

    #[test]
    fn sampler_rejects_empty_inputs() {
        assert!(BatchSampler::new(vec![], 4, 0).is_err());
        assert!(BatchSampler::new(vec![1], 0, 0).is_err());
    }

    #[test]
    fn each_epoch_visits_every_index_once() {
        let idx: Vec<u32> = (100..130).collect();
        let mut s = BatchSampler::new(idx.clone(), 10, 5).unwrap();
        for epoch in 0..3u64 {
            let mut seen: Vec<usize> = (0..3).flat_map(|b| s.batch(epoch * 3 + b)).collect();
            seen.sort_unstable();
            assert_eq!(seen, idx.iter().map(|&i| i as usize).collect::<Vec<_>>());
        }
        assert_ne!(s.permutation(0), s.permutation(1));
        assert_eq!(s.epoch_of(2), 0);
        assert_eq!(s.epoch_of(3), 1);
    }

    #[test]
    fn batches_cross_epoch_boundaries() {
        let mut s = BatchSampler::new((0..7).collect(), 3, 9).unwrap();
        let walk: Vec<usize> = (0..7).flat_map(|b| s.batch(b)).collect();
        let (p0, p1) = (s.permutation(0), s.permutation(1));
        let want: Vec<usize> = p0
            .iter()
            .chain(&p1)
            .chain(&s.permutation(2))
            .map(|&i| i as usize)
            .collect();
        assert_eq!(walk, want[..21]);
        assert_eq!(
            s.batch(2),
            vec![p0[6] as usize, p1[0] as usize, p1[1] as usize]
        );
    }

    proptest! {
        /// Resume: a sampler that starts at step `s` matches one that ran
        /// through every earlier step.
        #[test]
        fn batch_is_a_pure_function_of_seed_and_step(n in 1u32..50, b in 1usize..9, seed: u64, s in 0u64..40) {
            let mut walked = BatchSampler::new((0..n).collect(), b, seed).unwrap();
            for t in 0..s { walked.batch(t); }
            let mut fresh = BatchSampler::new((0..n).collect(), b, seed).unwrap();
            prop_assert_eq!(walked.batch(s), fresh.batch(s));
        }
    }
}
