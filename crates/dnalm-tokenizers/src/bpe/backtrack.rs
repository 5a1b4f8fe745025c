//! Linear-time exact BPE encoding by backtracking (the idea of the
//! "backtracking" encoder of GitHub's `bpe` crate, written here for the
//! 4-letter alphabet and dnalm's merge rules).
//!
//! Rank-ordered BPE has a local characterisation: its output is the unique
//! split of the sequence into tokens that each encode to themselves and whose
//! adjacent pairs are *compatible* (BPE of the two tokens' spelling joined
//! gives back exactly those two tokens). So instead of simulating every merge,
//! the encoder walks left to right taking the longest token that matches (a
//! trie over A/C/G/T), tries shorter prefixes when the pair with the previous
//! token is not compatible, and backs up a token when none fits; positions
//! from which no split exists are remembered in a bitset, which keeps the
//! walk linear.
//!
//! Compatibility of `(l, r)` is decided without encoding anything, by undoing
//! the merges that made `l` and `r` in reverse creation order and checking
//! that no pair across the boundary would have been merged in between (the
//! tie rule, leftmost first among equal ranks, decides the boundary cases).
//! Results are memoised per pair (two bits each) for vocabularies up to
//! [`MEMO_MAX`] tokens.
//!
//! The characterisation needs merges that each make a distinct token from
//! tokens made earlier, which every dnalm-trained model has. Models that do
//! not (some imported `tokenizer.json` files) are encoded by the rank-ordered
//! reference encoder in `model.rs`, which also checks this one in the tests.

use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

const NONE: u32 = u32::MAX;
/// Largest vocabulary whose pair compatibility is memoised (4 MB of memo).
const MEMO_MAX: usize = 4096;
/// The trie walk starts with one table lookup for the first `JUMP` bases.
const JUMP: usize = 6;

/// The tables of the backtracking encoder; all indexed by vocabulary id.
#[derive(Debug)]
pub(crate) struct Backtrack {
    /// Trie over base codes: `child[node][code]`, `NONE` when absent.
    child: Vec<[u32; 4]>,
    /// The self-encoding token spelled by a trie node, or `NONE`.
    term: Vec<u32>,
    /// Length in bases of each token (0 for tokens not in the trie).
    len: Vec<u32>,
    /// The longest self-encoding token that is a proper prefix, or `NONE`.
    shorter: Vec<u32>,
    /// For each `JUMP`-mer (2 bits a base, first base highest): the longest
    /// token that is a prefix of it, and the trie node the walk reaches after
    /// all `JUMP` bases (`NONE` if it leaves the trie before).
    jump: Vec<(u32, u32)>,
    /// Creation order: bases 0..4, the token of merge `r` is `4 + r`;
    /// `NONE` for tokens no merge makes.
    order: Vec<u32>,
    /// The two tokens each merged token was made of (bases: `NONE`).
    split: Vec<(u32, u32)>,
    /// `(left, right)` -> creation order of the merged token.
    pair: FxHashMap<(u32, u32), u32>,
    /// Two bits per pair of ids: bit 0 known, bit 1 compatible.
    memo: Vec<AtomicU64>,
    width: usize,
}

/// Working memory of one encoding call.
#[derive(Debug, Default)]
pub(crate) struct BacktrackScratch {
    codes: Vec<u8>,
    /// Bit `i` clear: no valid split of the rest starts at `i`.
    open: Vec<u64>,
}

impl Backtrack {
    /// The tables for `merges` (`(left, right, result)` ids in rank order)
    /// over a vocabulary of `vocab_len` ids with `base_ids` for A, C, G, T;
    /// `None` when the merges do not each make a new token from older ones.
    pub(crate) fn new(
        vocab_len: usize,
        base_ids: [u32; 4],
        merges: &[(u32, u32, u32)],
    ) -> Option<Backtrack> {
        let mut order = vec![NONE; vocab_len];
        let mut split = vec![(NONE, NONE); vocab_len];
        let mut len = vec![0u32; vocab_len];
        for (code, &b) in base_ids.iter().enumerate() {
            if order[b as usize] != NONE {
                return None;
            }
            order[b as usize] = code as u32;
            len[b as usize] = 1;
        }
        let mut pair = FxHashMap::default();
        for (r, &(a, b, t)) in merges.iter().enumerate() {
            let o = 4 + r as u32;
            let (oa, ob) = (order[a as usize], order[b as usize]);
            if oa == NONE || ob == NONE || order[t as usize] != NONE {
                return None;
            }
            order[t as usize] = o;
            split[t as usize] = (a, b);
            len[t as usize] = len[a as usize] + len[b as usize];
            if pair.insert((a, b), o).is_some() {
                return None;
            }
        }
        let width = vocab_len;
        let memo = if width <= MEMO_MAX {
            (0..(width * width).div_ceil(32))
                .map(|_| AtomicU64::new(0))
                .collect()
        } else {
            Vec::new()
        };
        let mut bt = Backtrack {
            child: vec![[NONE; 4]],
            term: vec![NONE],
            len,
            shorter: vec![NONE; vocab_len],
            jump: Vec::new(),
            order,
            split,
            pair,
            memo,
            width,
        };
        // Which tokens encode to themselves, in creation order (operands first).
        let mut by_order: Vec<u32> = (0..vocab_len as u32)
            .filter(|&i| bt.order[i as usize] != NONE)
            .collect();
        by_order.sort_unstable_by_key(|&i| bt.order[i as usize]);
        let mut selfenc = vec![false; vocab_len];
        for &t in &by_order {
            let (l, r) = bt.split[t as usize];
            selfenc[t as usize] = l == NONE
                || (selfenc[l as usize]
                    && selfenc[r as usize]
                    && bt.walk(l, r, bt.order[t as usize]));
        }
        // Insert them into the trie, shortest first, so that each token's
        // `shorter` is the deepest terminal met on its path.
        let mut spell: Vec<Vec<u8>> = vec![Vec::new(); vocab_len];
        for &t in &by_order {
            let (l, r) = bt.split[t as usize];
            spell[t as usize] = if l == NONE {
                vec![bt.order[t as usize] as u8]
            } else {
                let mut s = spell[l as usize].clone();
                s.extend_from_slice(&spell[r as usize]);
                s
            };
        }
        let mut members: Vec<u32> = by_order
            .into_iter()
            .filter(|&t| selfenc[t as usize])
            .collect();
        members.sort_by_key(|&t| bt.len[t as usize]);
        for t in members {
            let mut node = 0usize;
            let mut last = NONE;
            for &c in &spell[t as usize] {
                if bt.term[node] != NONE {
                    last = bt.term[node];
                }
                let next = bt.child[node][c as usize];
                node = if next == NONE {
                    bt.child.push([NONE; 4]);
                    bt.term.push(NONE);
                    let n = bt.child.len() - 1;
                    bt.child[node][c as usize] = n as u32;
                    n
                } else {
                    next as usize
                };
            }
            bt.term[node] = t;
            bt.shorter[t as usize] = last;
        }
        bt.jump = (0..1usize << (2 * JUMP))
            .map(|kmer| {
                let codes: Vec<u8> = (0..JUMP)
                    .map(|i| (kmer >> (2 * (JUMP - 1 - i)) & 3) as u8)
                    .collect();
                bt.walk_trie(0, &codes, NONE)
            })
            .collect();
        Some(bt)
    }

    /// Whether BPE keeps `l` and `r` apart up to creation order `limit`:
    /// undo the newer of the two merges step by step and check that the
    /// pair across the boundary at each stage is not merged while it stands.
    fn walk(&self, mut l: u32, mut r: u32, mut limit: u32) -> bool {
        loop {
            if let Some(&o) = self.pair.get(&(l, r)) {
                if o < limit {
                    return false;
                }
            }
            let (ol, or) = (self.order[l as usize], self.order[r as usize]);
            if ol < 4 && or < 4 {
                return true;
            }
            if ol > or {
                // The left token is newer: before it existed, its right part
                // stood at the boundary. At equal rank the left merge comes
                // first (leftmost), so the bound is strict.
                limit = ol;
                l = self.split[l as usize].1;
            } else {
                // The right token is newer (or the same token): a boundary
                // merge of the same rank would win, being further left.
                limit = or + 1;
                r = self.split[r as usize].0;
            }
        }
    }

    /// Whether `r` may follow `l` in an encoding.
    #[inline]
    fn compatible(&self, l: u32, r: u32) -> bool {
        if self.memo.is_empty() {
            return self.walk(l, r, NONE);
        }
        let i = l as usize * self.width + r as usize;
        let (w, sh) = (i >> 5, (i & 31) * 2);
        let bits = self.memo[w].load(Ordering::Relaxed) >> sh;
        if bits & 1 != 0 {
            return bits & 2 != 0;
        }
        let ok = self.walk(l, r, NONE);
        self.memo[w].fetch_or((1 | (ok as u64) << 1) << sh, Ordering::Relaxed);
        ok
    }

    /// Walk the trie from `node` along `codes`: the last terminal met (or
    /// `best`), and the node reached at the end (`NONE` if the walk left
    /// the trie).
    #[inline]
    fn walk_trie(&self, mut node: u32, codes: &[u8], mut best: u32) -> (u32, u32) {
        for &c in codes {
            node = self.child[node as usize][c as usize];
            if node == NONE {
                return (best, NONE);
            }
            if self.term[node as usize] != NONE {
                best = self.term[node as usize];
            }
        }
        (best, node)
    }

    /// The longest self-encoding token at the start of `codes`.
    #[inline]
    fn longest(&self, codes: &[u8]) -> u32 {
        if codes.len() < JUMP {
            return self.walk_trie(0, codes, NONE).0;
        }
        let kmer = codes[..JUMP]
            .iter()
            .fold(0usize, |k, &c| k << 2 | c as usize);
        let (best, node) = self.jump[kmer];
        if node == NONE {
            return best;
        }
        self.walk_trie(node, &codes[JUMP..], best).0
    }

    /// Append the encoding of the base codes in `s.codes` to `out`; `false`
    /// (with `out` as it was) if no split was found, which the
    /// characterisation rules out.
    pub(crate) fn encode(&self, s: &mut BacktrackScratch, out: &mut Vec<u32>) -> bool {
        let codes = &s.codes;
        let n = codes.len();
        let start = out.len();
        s.open.clear();
        s.open.resize((n + 1).div_ceil(64), u64::MAX);
        let open = |o: &[u64], i: usize| o[i >> 6] >> (i & 63) & 1 != 0;
        let mut pos = 0usize;
        let mut next = if n == 0 { NONE } else { self.longest(codes) };
        while next != NONE {
            let mut tok = next;
            let last = if out.len() > start {
                out[out.len() - 1]
            } else {
                NONE
            };
            loop {
                let end = pos + self.len[tok as usize] as usize;
                if open(&s.open, end) && (last == NONE || self.compatible(last, tok)) {
                    out.push(tok);
                    pos = end;
                    next = if pos == n {
                        NONE
                    } else {
                        self.longest(&codes[pos..])
                    };
                    break;
                }
                let shorter = self.shorter[tok as usize];
                if shorter != NONE {
                    tok = shorter;
                    continue;
                }
                if last == NONE {
                    out.truncate(start);
                    return false;
                }
                s.open[pos >> 6] &= !(1 << (pos & 63));
                out.pop();
                pos -= self.len[last as usize] as usize;
                next = last;
                break;
            }
        }
        true
    }
}

impl BacktrackScratch {
    /// Fill with the 2-bit codes of `seq`; the position of the first byte
    /// that is not A/C/G/T on error. Both passes are branch-free so that
    /// they vectorise: `((b >> 1) ^ (b >> 2)) & 3` maps A, C, G, T to 0..4.
    pub(crate) fn load(&mut self, seq: &[u8]) -> std::result::Result<(), usize> {
        let ok = seq.iter().fold(true, |ok, &b| {
            ok & ((b == b'A') | (b == b'C') | (b == b'G') | (b == b'T'))
        });
        if !ok {
            return Err(seq
                .iter()
                .position(|&b| crate::base_code(b).is_none())
                .unwrap_or(0));
        }
        self.codes.clear();
        self.codes
            .extend(seq.iter().map(|&b| ((b >> 1) ^ (b >> 2)) & 3));
        Ok(())
    }
}
