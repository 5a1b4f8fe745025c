//! The n-gram (Markov) baseline of next-k-mer prediction: counts of the
//! next k bases after every context of 0..=`max_order` bases, taken at every
//! position inside the training windows, with backoff to shorter contexts.
//!
//! It is the yardstick the SPEC asks to show beside every model: on 1 Mb of
//! human sequence it scores about 85% under a random split of overlapping
//! windows (a test window is a training window shifted by a few bases) and
//! 14% / 10% / 8% (k = 3 / 4 / 5) under a position split.
//!
//! Memory: only the contexts the queries will ask for are counted (they are
//! collected first), which gives exactly the predictions of the full model
//! at a fraction of its size.

use rustc_hash::FxHashMap;

use crate::error::{Result, TaskError};

/// The longest k-mer predicted: its code is a class id of 24 bits.
pub const MAX_K: usize = 12;
/// The longest context: its 48-bit code and its order share a 64-bit key.
pub const MAX_ORDER: usize = 24;

/// A fitted predictor for one k.
#[derive(Debug)]
pub struct NgramModel {
    k: usize,
    max_order: usize,
    /// (order, context code) -> slot in `counts`.
    slots: FxHashMap<u64, u32>,
    /// Per slot: (next k-mer code, count).
    counts: Vec<Vec<(u32, u32)>>,
    /// A context is used only when seen at least this often (order 0 always).
    min_count: u32,
}

/// 2-bit code of A/C/G/T; `None` for anything else.
#[inline]
fn code(b: u8) -> Option<u64> {
    match b {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        _ => None,
    }
}

/// The code of an A/C/G/T string (A,C,G,T order, first base most
/// significant), or `None` if it holds another letter.
pub fn kmer_code(s: &[u8]) -> Option<u64> {
    s.iter().try_fold(0u64, |acc, &b| Some(acc << 2 | code(b)?))
}

/// The bases of class `c` of a k-mer classifier.
pub fn kmer_of(c: u32, k: usize) -> String {
    (0..k)
        .map(|i| b"ACGT"[(c >> (2 * (k - 1 - i))) as usize & 3] as char)
        .collect()
}

/// Checks a context length before any counting: at most [`MAX_ORDER`] bases.
pub fn check_order(max_order: usize) -> Result<()> {
    if max_order > MAX_ORDER {
        return Err(TaskError::Config(format!(
            "n-gram baseline: a context of {max_order} bases is longer than the {MAX_ORDER} it can hold"
        )));
    }
    Ok(())
}

#[inline]
fn slot_key(order: usize, ctx: u64) -> u64 {
    (order as u64) << 56 | ctx
}

impl NgramModel {
    /// Count continuations for the contexts of `queries` (each an input
    /// sequence whose next k bases are to be predicted) over every position
    /// of every training window. Errors when `k` is outside 1..=[`MAX_K`]
    /// or `max_order` above [`MAX_ORDER`].
    pub fn fit<'a>(
        k: usize,
        max_order: usize,
        train: impl IntoIterator<Item = &'a [u8]>,
        queries: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<NgramModel> {
        if !(1..=MAX_K).contains(&k) {
            return Err(TaskError::Config(format!(
                "n-gram baseline: k = {k} is outside 1..={MAX_K}"
            )));
        }
        check_order(max_order)?;
        let mut slots = FxHashMap::default();
        for q in queries {
            for order in 0..=max_order.min(q.len()) {
                if let Some(ctx) = kmer_code(&q[q.len() - order..]) {
                    let n = slots.len() as u32;
                    slots.entry(slot_key(order, ctx)).or_insert(n);
                }
            }
        }
        let mut counts: Vec<Vec<(u32, u32)>> = vec![Vec::new(); slots.len()];
        for w in train {
            for p in 0..w.len().saturating_sub(k - 1) {
                let Some(next) = kmer_code(&w[p..p + k]) else {
                    continue;
                };
                let mut ctx = 0u64;
                for order in 0..=max_order.min(p) {
                    if order > 0 {
                        match code(w[p - order]) {
                            Some(c) => ctx |= c << (2 * (order - 1)),
                            None => break,
                        }
                    }
                    if let Some(&s) = slots.get(&slot_key(order, ctx)) {
                        let list = &mut counts[s as usize];
                        match list.iter_mut().find(|(c, _)| *c == next as u32) {
                            Some(e) => e.1 += 1,
                            None => list.push((next as u32, 1)),
                        }
                    }
                }
            }
        }
        Ok(NgramModel {
            k,
            max_order,
            slots,
            counts,
            min_count: 1,
        })
    }

    /// Back off past contexts seen fewer than `n` times (default 1: the
    /// longest context seen at all decides).
    pub fn with_min_count(mut self, n: u32) -> Self {
        self.min_count = n.max(1);
        self
    }

    pub fn k(&self) -> usize {
        self.k
    }

    /// The `n` likeliest next k-mers after `input`, best first: from the
    /// longest context seen in training, then shorter ones for the rest
    /// (ties go to the smaller class).
    pub fn predict(&self, input: &[u8], n: usize) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::with_capacity(n);
        for order in (0..=self.max_order.min(input.len())).rev() {
            let Some(ctx) = kmer_code(&input[input.len() - order..]) else {
                continue;
            };
            let Some(&s) = self.slots.get(&slot_key(order, ctx)) else {
                continue;
            };
            let total: u32 = self.counts[s as usize].iter().map(|e| e.1).sum();
            if order > 0 && total < self.min_count {
                continue;
            }
            let mut list = self.counts[s as usize].clone();
            list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            for (c, _) in list {
                if out.len() == n {
                    return out;
                }
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        // Nothing seen at all: the smallest classes, for a full ranking.
        let mut c = 0u32;
        while out.len() < n && (c as u64) < 1u64 << (2 * self.k) {
            if !out.contains(&c) {
                out.push(c);
            }
            c += 1;
        }
        out
    }
}

/// How [`NgramModel::distributions`] turns counts into probabilities of
/// the 4^k next k-mers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Smoothing {
    /// The longest context seen at least `min_count` times decides alone:
    /// its counts plus 1/2 for every k-mer (Krichevsky-Trofimov). Its
    /// ranking is [`NgramModel::predict`]'s.
    Backoff { min_count: u32 },
    /// Interpolated Witten-Bell: `P_o(x) = (c(x) + n P_{o-1}(x)) / (c + n)`
    /// with `n` the number of distinct k-mers seen after the context.
    WittenBell,
    /// Interpolation with a fixed weight `beta` on the shorter context:
    /// `P_o(x) = (c(x) + beta P_{o-1}(x)) / (c + beta)`.
    Dirichlet(f64),
}

impl std::fmt::Display for Smoothing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Smoothing::Backoff { min_count: 1 } => write!(f, "backoff"),
            Smoothing::Backoff { min_count } => write!(f, "backoff below {min_count}"),
            Smoothing::WittenBell => write!(f, "Witten-Bell"),
            Smoothing::Dirichlet(b) => write!(f, "Dirichlet {b}"),
        }
    }
}

impl NgramModel {
    /// The counts after the order-`order` context of `input`, if that
    /// context is all A/C/G/T and was seen.
    fn seen(&self, input: &[u8], order: usize) -> Option<&[(u32, u32)]> {
        if order > input.len() {
            return None;
        }
        let ctx = kmer_code(&input[input.len() - order..])?;
        let &s = self.slots.get(&slot_key(order, ctx))?;
        Some(&self.counts[s as usize])
    }

    /// Probabilities of the 4^k next k-mers after `input`, one vector for
    /// each of `orders` (context lengths, each at most the fitted
    /// `max_order`), under `smoothing`. Order 0 is the k-mer frequencies
    /// with one pseudo-count each.
    pub fn distributions(
        &self,
        input: &[u8],
        smoothing: Smoothing,
        orders: &[usize],
    ) -> Vec<Vec<f64>> {
        let classes = 1usize << (2 * self.k);
        let unigram = {
            let mut p = vec![1.0f64; classes];
            if let Some(list) = self.seen(input, 0) {
                for &(c, n) in list {
                    p[c as usize] += n as f64;
                }
            }
            let z: f64 = p.iter().sum();
            p.iter_mut().for_each(|v| *v /= z);
            p
        };
        let top = orders
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .min(self.max_order);
        match smoothing {
            Smoothing::Backoff { min_count } => orders
                .iter()
                .map(|&o| {
                    let found = (1..=o.min(self.max_order)).rev().find_map(|order| {
                        self.seen(input, order)
                            .filter(|l| l.iter().map(|e| e.1).sum::<u32>() >= min_count.max(1))
                    });
                    match found {
                        None => unigram.clone(),
                        Some(list) => {
                            let total: u32 = list.iter().map(|e| e.1).sum();
                            let z = total as f64 + 0.5 * classes as f64;
                            let mut p = vec![0.5 / z; classes];
                            for &(c, n) in list {
                                p[c as usize] += n as f64 / z;
                            }
                            p
                        }
                    }
                })
                .collect(),
            Smoothing::WittenBell | Smoothing::Dirichlet(_) => {
                let mut out = Vec::with_capacity(orders.len());
                let mut p = unigram;
                let mut emit = |order: usize, p: &Vec<f64>| {
                    for &o in orders {
                        if o.min(self.max_order) == order {
                            out.push((o, p.clone()));
                        }
                    }
                };
                emit(0, &p);
                let mut alive = true;
                for order in 1..=top {
                    if alive {
                        match self.seen(input, order) {
                            Some(list) if !list.is_empty() => {
                                let total: u32 = list.iter().map(|e| e.1).sum();
                                let beta = match smoothing {
                                    Smoothing::Dirichlet(b) => b,
                                    _ => list.len() as f64,
                                };
                                let z = total as f64 + beta;
                                p.iter_mut().for_each(|v| *v *= beta / z);
                                for &(c, n) in list {
                                    p[c as usize] += n as f64 / z;
                                }
                            }
                            // An unseen context sees no longer one either.
                            _ => alive = false,
                        }
                    }
                    emit(order, &p);
                }
                // In the order asked for.
                orders
                    .iter()
                    .map(|o| {
                        out.iter()
                            .find(|(q, _)| q == o)
                            .map(|(_, p)| p.clone())
                            .expect("every order emitted")
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        assert_eq!(kmer_code(b"ACGT"), Some(0b00_01_10_11));
        assert_eq!(kmer_code(b"ANT"), None);
        assert_eq!(kmer_of(0b00_01_10_11, 4), "ACGT");
    }

    #[test]
    fn longest_context_wins_and_backs_off() {
        // After "GAT" comes "TA" in training; after "T" alone, "AC" is commoner.
        let train: Vec<&[u8]> = vec![b"GATTA", b"CTAC", b"CTAC", b"CTAC"];
        let q1: &[u8] = b"CCGAT";
        let q2: &[u8] = b"CCCCT";
        let m = NgramModel::fit(2, 3, train.iter().copied(), [q1, q2]).unwrap();
        assert_eq!(kmer_of(m.predict(q1, 1)[0], 2), "TA");
        assert_eq!(kmer_of(m.predict(q2, 1)[0], 2), "AC");
        // A full ranking of distinct classes.
        let r = m.predict(q1, 16);
        let mut s = r.clone();
        s.sort();
        s.dedup();
        assert_eq!((r.len(), s.len()), (16, 16));
    }

    #[test]
    fn smoothed_distributions_sum_to_one_and_favour_the_long_context() {
        let train: Vec<&[u8]> = vec![b"GATTA", b"CTAC", b"CTAC", b"CTAC"];
        let q: &[u8] = b"CCGAT";
        let m = NgramModel::fit(2, 3, train.iter().copied(), [q]).unwrap();
        let ta = kmer_code(b"TA").unwrap() as usize;
        for s in [
            Smoothing::Backoff { min_count: 1 },
            Smoothing::WittenBell,
            Smoothing::Dirichlet(1.0),
        ] {
            let d = m.distributions(q, s, &[0, 1, 3]);
            assert_eq!(d.len(), 3);
            for p in &d {
                assert_eq!(p.len(), 16);
                assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{s}");
                assert!(p.iter().all(|&v| v > 0.0), "{s}: a zero probability");
            }
            // "GAT" was followed by "TA": order 3 puts it first.
            let best = |p: &Vec<f64>| {
                (0..16)
                    .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
                    .unwrap()
            };
            assert_eq!(best(&d[2]), ta, "{s}");
            if s != (Smoothing::Backoff { min_count: 1 }) {
                // Backoff's one count after "GAT" is spread over 16
                // classes; the interpolations add it to the shorter contexts.
                assert!(d[2][ta] > d[0][ta], "{s}");
            }
        }
        // Order 0: 13 training 2-mers (4 in GATTA, 3 in each CTAC), "AC" 3
        // times, one pseudo-count for each of the 16.
        let d0 = &m.distributions(q, Smoothing::WittenBell, &[0])[0];
        let n0: f64 = 13.0 + 16.0;
        let ac = kmer_code(b"AC").unwrap() as usize;
        assert!((d0[ac] - 4.0 / n0).abs() < 1e-12, "{}", d0[ac]);
    }

    #[test]
    fn k_and_order_out_of_range_are_errors() {
        let train: Vec<&[u8]> = vec![b"GATTACA"];
        let q: &[u8] = b"GAT";
        for (k, order, needle) in [(0, 3, "k = 0"), (13, 3, "k = 13"), (2, 25, "25 bases")] {
            let err = NgramModel::fit(k, order, train.iter().copied(), [q]).unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
        assert!(NgramModel::fit(MAX_K, MAX_ORDER, train.iter().copied(), [q]).is_ok());
        assert!(check_order(MAX_ORDER + 1).is_err());
    }
}
