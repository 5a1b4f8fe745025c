//! Leak-free splits of a promoter set. The unit is a group: rows joined by
//! a given group column, by the same multiset of 20 equal parts (a
//! block-shuffled negative and its source positive, as SOURCES.md keys the
//! GENA pairs), or by any shared 50-mer on either strand (overlapping and
//! bidirectional promoters, duplicates). Half of the groups fine-tune the
//! encoder, the other half train (80%) and test (20%) the predictors.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;

/// Disjoint sets over `0..n`.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    pub fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller root wins, so labels do not depend on union order.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }

    /// Dense set labels `0..k`, numbered by first appearance.
    pub fn labels(&mut self) -> Vec<usize> {
        let mut id: FxHashMap<usize, usize> = FxHashMap::default();
        (0..self.parent.len())
            .map(|i| {
                let r = self.find(i);
                let next = id.len();
                *id.entry(r).or_insert(next)
            })
            .collect()
    }
}

/// Length of the shared k-mer that joins two rows.
pub const SHARED_KMER: usize = 50;

fn code(b: u8) -> Option<u128> {
    match b {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        _ => None,
    }
}

/// Canonical (strand-independent) 64-bit keys of every `k`-mer (k <= 64) of
/// `seq` without N.
fn kmer_keys(seq: &[u8], k: usize, out: &mut Vec<u64>) {
    out.clear();
    if seq.len() < k {
        return;
    }
    let mask: u128 = if k == 64 {
        u128::MAX
    } else {
        (1u128 << (2 * k)) - 1
    };
    let (mut fwd, mut rev, mut run) = (0u128, 0u128, 0usize);
    for &b in seq {
        let Some(c) = code(b) else {
            run = 0;
            continue;
        };
        fwd = ((fwd << 2) | c) & mask;
        rev = (rev >> 2) | ((3 - c) << (2 * (k - 1)));
        run += 1;
        if run >= k {
            let m = fwd.min(rev);
            out.push(dnalm_seq::mix64(m as u64, (m >> 64) as u64));
        }
    }
}

/// Group label of every row (dense, `0..groups`). `explicit` is a given
/// group column (rows with the same value are joined).
pub fn group_rows(seqs: &[&[u8]], explicit: Option<&[u64]>) -> Vec<usize> {
    let n = seqs.len();
    let mut uf = UnionFind::new(n);
    if let Some(g) = explicit {
        let mut first: FxHashMap<u64, usize> = FxHashMap::default();
        for (i, &v) in g.iter().enumerate() {
            let j = *first.entry(v).or_insert(i);
            uf.union(i, j);
        }
    }
    // The sorted multiset of the 20 parts (only for equal parts).
    let mut first: FxHashMap<Vec<&[u8]>, usize> = FxHashMap::default();
    for (i, s) in seqs.iter().enumerate() {
        if s.len() >= 20 && s.len() % 20 == 0 {
            let w = s.len() / 20;
            let mut blocks: Vec<&[u8]> = s.chunks(w).collect();
            blocks.sort_unstable();
            let j = *first.entry(blocks).or_insert(i);
            uf.union(i, j);
        }
    }
    let mut owner: FxHashMap<u64, usize> = FxHashMap::default();
    let mut keys = Vec::new();
    for (i, s) in seqs.iter().enumerate() {
        kmer_keys(s, SHARED_KMER, &mut keys);
        for &key in &keys {
            let j = *owner.entry(key).or_insert(i);
            if j != i {
                uf.union(i, j);
            }
        }
    }
    uf.labels()
}

/// Rows of whole groups, in seeded random group order, cut where the
/// first part reaches `fraction` of the rows: (first part, rest).
pub fn split_groups(
    rows: &[usize],
    groups: &[usize],
    fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut members: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
    for &r in rows {
        members.entry(groups[r]).or_default().push(r);
    }
    let mut ids: Vec<usize> = members.keys().copied().collect();
    ids.sort_unstable();
    ids.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let target = (fraction * rows.len() as f64).round() as usize;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for g in ids {
        let m = &members[&g];
        if a.len() < target {
            a.extend(m);
        } else {
            b.extend(m);
        }
    }
    a.sort_unstable();
    b.sort_unstable();
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_kmers_blocks_and_columns_join_rows() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let rand_seq = |rng: &mut ChaCha8Rng, n: usize| -> Vec<u8> {
            use rand::Rng;
            (0..n).map(|_| b"ACGT"[rng.random_range(0..4)]).collect()
        };
        let a = rand_seq(&mut rng, 100);
        // b overlaps a by 60 bases, on the other strand.
        let mut b = a[40..].to_vec();
        b.extend(rand_seq(&mut rng, 40));
        let b = dnalm_seq::reverse_complement(&b);
        let c = rand_seq(&mut rng, 100);
        // d: c's 20 parts of 5 bp, the first two swapped.
        let mut d = c.clone();
        d[..5].copy_from_slice(&c[5..10]);
        d[5..10].copy_from_slice(&c[..5]);
        let e = rand_seq(&mut rng, 100);
        let f = rand_seq(&mut rng, 100);
        let seqs: Vec<&[u8]> = vec![&a, &b, &c, &d, &e, &f];
        let g = group_rows(&seqs, None);
        assert_eq!(g[0], g[1]);
        assert_eq!(g[2], g[3]);
        assert_ne!(g[0], g[2]);
        assert_ne!(g[4], g[5]);
        let g = group_rows(&seqs, Some(&[0, 1, 2, 3, 7, 7]));
        assert_eq!(g[4], g[5]);
        assert_eq!(g.iter().max(), Some(&2));
    }

    #[test]
    fn splits_keep_groups_whole_and_follow_the_seed() {
        let groups: Vec<usize> = (0..200).map(|i| i / 2).collect();
        let rows: Vec<usize> = (0..200).collect();
        let (a, b) = split_groups(&rows, &groups, 0.5, 9);
        assert_eq!(a.len(), 100);
        assert_eq!(a.len() + b.len(), 200);
        for &r in &a {
            assert!(!b.iter().any(|&x| groups[x] == groups[r]));
        }
        assert_eq!(split_groups(&rows, &groups, 0.5, 9), (a.clone(), b));
        assert_ne!(split_groups(&rows, &groups, 0.5, 10).0, a);
    }
}
