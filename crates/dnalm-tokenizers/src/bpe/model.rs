//! The trained BPE model: an ordered merge list, applied in rank order.

use std::cell::RefCell;
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::backtrack::{Backtrack, BacktrackScratch};
use crate::error::{Result, TokError};
use crate::vocab::Vocab;
use crate::Tokenizer;

/// A BPE model: vocabulary plus merges in rank order. Encoding gives the
/// result of applying the merges in rank order (lowest rank first, leftmost
/// first within a rank), which reproduces the segmentation the trainer made
/// of its own corpus and equals Hugging Face `tokenizers` on the exported
/// `tokenizer.json`. It is computed by the linear-time backtracking encoder
/// (`backtrack.rs`) when the merges allow it (always for dnalm-trained
/// models), else by simulating the merges ([`BpeModel::encode_by_rank`]).
#[derive(Debug, Clone)]
pub struct BpeModel {
    vocab: Vocab,
    /// `(left, right, result)` by rank.
    merges: Vec<(u32, u32, u32)>,
    ranks: RankTable,
    /// The single-base tokens, indexed by 2-bit code (A, C, G, T).
    base_ids: [u32; 4],
    /// The fast encoder, when the merges each make a new token from older ones.
    backtrack: Option<Arc<Backtrack>>,
}

#[derive(Debug, Clone)]
enum RankTable {
    /// u16 ranks keep the table small (0.7 MB for BPE-600). Most lookups are
    /// for pairs with no merge; the presence bitset (46 KB, cache-resident)
    /// answers those without touching the table.
    Dense {
        width: usize,
        rank: Vec<u16>,
        present: Vec<u64>,
    },
    Hashed(FxHashMap<(u32, u32), u32>),
}

const NO_RANK: u32 = u32::MAX;
const NO_RANK16: u16 = u16::MAX;

impl RankTable {
    fn new(vocab_len: usize, merges: &[(u32, u32, u32)]) -> RankTable {
        let cells = vocab_len * vocab_len;
        let dense = cells <= 8 << 20 && merges.len() < NO_RANK16 as usize;
        let mut t = if dense {
            RankTable::Dense {
                width: vocab_len,
                rank: vec![NO_RANK16; cells],
                present: vec![0; cells.div_ceil(64)],
            }
        } else {
            RankTable::Hashed(FxHashMap::default())
        };
        // The first occurrence of a pair keeps its rank, as in Hugging Face.
        for (r, &(a, b, _)) in merges.iter().enumerate().rev() {
            match &mut t {
                RankTable::Dense {
                    width,
                    rank,
                    present,
                } => {
                    let i = a as usize * *width + b as usize;
                    rank[i] = r as u16;
                    present[i >> 6] |= 1 << (i & 63);
                }
                RankTable::Hashed(m) => {
                    m.insert((a, b), r as u32);
                }
            }
        }
        t
    }

    #[inline(always)]
    fn get(&self, a: u32, b: u32) -> u32 {
        match self {
            RankTable::Dense {
                width,
                rank,
                present,
            } => {
                let i = a as usize * width + b as usize;
                if present[i >> 6] & (1 << (i & 63)) == 0 {
                    NO_RANK
                } else {
                    rank[i] as u32
                }
            }
            RankTable::Hashed(m) => m.get(&(a, b)).copied().unwrap_or(NO_RANK),
        }
    }
}

impl BpeModel {
    /// A model from a vocabulary and merges given as id pairs in rank order.
    /// The result of each merge is the vocabulary token spelling the two
    /// tokens joined.
    pub fn from_vocab_merges(vocab: Vocab, merges: &[(u32, u32)]) -> Result<BpeModel> {
        let mut triples = Vec::with_capacity(merges.len());
        for (rank, &(a, b)) in merges.iter().enumerate() {
            let joined = format!("{}{}", vocab.token(a)?, vocab.token(b)?);
            let result = vocab.id(&joined).ok_or_else(|| {
                TokError::Param(format!(
                    "merge {rank} ({:?} + {:?}) makes {joined:?}, which is not in the vocabulary",
                    vocab.token(a).unwrap_or("?"),
                    vocab.token(b).unwrap_or("?"),
                ))
            })?;
            triples.push((a, b, result));
        }
        let mut base_ids = [0u32; 4];
        for (code, base) in ["A", "C", "G", "T"].iter().enumerate() {
            base_ids[code] = vocab.id(base).ok_or_else(|| {
                TokError::Param(format!(
                    "the BPE vocabulary has no single-base token {base:?}"
                ))
            })?;
        }
        for id in 0..vocab.len() as u32 {
            let tok = vocab.token(id)?;
            if !vocab.is_special(id) && !tok.bytes().all(|b| crate::base_code(b).is_some()) {
                return Err(TokError::Param(format!(
                    "BPE vocabulary token {tok:?} (id {id}) is not made of A/C/G/T"
                )));
            }
        }
        let ranks = RankTable::new(vocab.len(), &triples);
        let backtrack = Backtrack::new(vocab.len(), base_ids, &triples).map(Arc::new);
        Ok(BpeModel {
            vocab,
            merges: triples,
            ranks,
            base_ids,
            backtrack,
        })
    }

    /// A model from merges given as token strings (as in `tokenizer.json`).
    pub fn from_string_merges(vocab: Vocab, merges: &[(String, String)]) -> Result<BpeModel> {
        let ids = merges
            .iter()
            .map(|(a, b)| {
                let get = |t: &String| {
                    vocab
                        .id(t)
                        .ok_or_else(|| TokError::UnknownToken { token: t.clone() })
                };
                Ok((get(a)?, get(b)?))
            })
            .collect::<Result<Vec<_>>>()?;
        BpeModel::from_vocab_merges(vocab, &ids)
    }

    /// Merges as `(left, right, result)` ids, in rank order.
    pub fn merges(&self) -> &[(u32, u32, u32)] {
        &self.merges
    }

    /// Merges as token strings, in rank order.
    pub fn string_merges(&self) -> Vec<(String, String)> {
        self.merges
            .iter()
            .map(|&(a, b, _)| {
                (
                    self.vocab.tokens()[a as usize].clone(),
                    self.vocab.tokens()[b as usize].clone(),
                )
            })
            .collect()
    }

    /// Length in bases of each vocabulary token (specials count 0).
    pub fn token_lengths(&self) -> Vec<u32> {
        (0..self.vocab.len() as u32)
            .map(|id| {
                if self.vocab.is_special(id) {
                    0
                } else {
                    self.vocab.tokens()[id as usize].len() as u32
                }
            })
            .collect()
    }

    /// Encode many segments on all threads (rayon); results in input order.
    pub fn encode_batch<S: AsRef<[u8]> + Sync>(&self, segments: &[S]) -> Result<Vec<Vec<u32>>> {
        segments
            .par_iter()
            .map(|s| self.encode(s.as_ref()))
            .collect()
    }

    /// Whether encoding uses the backtracking encoder (else the rank-order
    /// simulation of [`BpeModel::encode_by_rank`]).
    pub fn has_fast_encoder(&self) -> bool {
        self.backtrack.is_some()
    }

    /// Encode by simulating the merges in rank order: the reference the
    /// fast encoder is checked against, and the encoder for models whose
    /// merges do not each make a new token from older ones.
    pub fn encode_by_rank(&self, seq: &[u8]) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        SCRATCH.with(|s| self.encode_with(seq, &mut s.borrow_mut(), &mut out))?;
        Ok(out)
    }

    fn encode_fast(
        &self,
        bt: &Backtrack,
        seq: &[u8],
        s: &mut Scratch,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        s.bt.load(seq).map_err(|pos| TokError::InvalidBase {
            byte: seq[pos],
            pos,
        })?;
        if bt.encode(&mut s.bt, out) {
            Ok(())
        } else {
            // Not reachable for merges `Backtrack::new` accepts; kept so
            // that a flaw there costs speed, never a wrong encoding.
            self.encode_with(seq, s, out)
        }
    }

    fn encode_with(&self, seq: &[u8], s: &mut Scratch, out: &mut Vec<u32>) -> Result<()> {
        let n = seq.len();
        if n == 0 {
            return Ok(());
        }
        s.reset(n, self.merges.len());
        for (pos, &b) in seq.iter().enumerate() {
            // Lazily: building the error eagerly cost 5% of encoding time.
            #[allow(clippy::unnecessary_lazy_evaluations)]
            let code = crate::base_code(b).ok_or_else(|| TokError::InvalidBase { byte: b, pos })?;
            s.sym.push(self.base_ids[code as usize]);
        }
        for i in 0..n - 1 {
            let r = self.ranks.get(s.sym[i], s.sym[i + 1]);
            if r != NO_RANK {
                s.push(r, i as u32);
            }
        }
        let mut positions = Vec::new();
        while let Some(r) = s.pop_min(&mut positions) {
            let (a, b, t) = self.merges[r as usize];
            if a == b {
                positions.sort_unstable();
            }
            for &p in &positions {
                let p = p as usize;
                if s.sym[p] != a {
                    continue;
                }
                let q = s.next[p];
                if q == END || s.sym[q as usize] != b {
                    continue;
                }
                let q = q as usize;
                s.sym[p] = t;
                s.sym[q] = DEAD;
                let r2 = s.next[q];
                s.next[p] = r2;
                if r2 != END {
                    s.prev[r2 as usize] = p as u32;
                    let rk = self.ranks.get(t, s.sym[r2 as usize]);
                    if rk != NO_RANK {
                        s.push(rk, p as u32);
                    }
                }
                let x = s.prev[p];
                if x != END {
                    let rk = self.ranks.get(s.sym[x as usize], t);
                    if rk != NO_RANK {
                        s.push(rk, x);
                    }
                }
            }
        }
        let mut i = 0u32;
        while i != END {
            out.push(s.sym[i as usize]);
            i = s.next[i as usize];
        }
        Ok(())
    }
}

const END: u32 = u32::MAX;
const DEAD: u32 = u32::MAX;
const NIL: u32 = u32::MAX;

/// Per-thread working memory of the encoder: a linked list over the
/// sequence and a bucket queue keyed by merge rank. Ranks only rise while a
/// segment is encoded (every new pair holds the token just made, whose
/// merges come later), so a bitset scan from the current rank finds the next
/// bucket; the scan start moves back if a pair of lower rank appears, which
/// only tokenizers with duplicate merge results (not dnalm's) can produce.
#[derive(Debug, Default)]
struct Scratch {
    sym: Vec<u32>,
    next: Vec<u32>,
    prev: Vec<u32>,
    head: Vec<u32>,
    bits: Vec<u64>,
    entry_pos: Vec<u32>,
    entry_next: Vec<u32>,
    cur: usize,
    bt: BacktrackScratch,
}

impl Scratch {
    fn reset(&mut self, n: usize, ranks: usize) {
        self.sym.clear();
        self.sym.reserve(n);
        self.next.clear();
        self.next.extend(1..=n as u32);
        self.next[n - 1] = END;
        self.prev.clear();
        self.prev.push(END);
        self.prev.extend(0..n as u32 - 1);
        if self.head.len() < ranks {
            self.head.resize(ranks, NIL);
            self.bits.resize(ranks.div_ceil(64), 0);
        }
        self.entry_pos.clear();
        self.entry_next.clear();
        self.cur = 0;
    }

    #[inline]
    fn push(&mut self, rank: u32, pos: u32) {
        let r = rank as usize;
        self.entry_pos.push(pos);
        self.entry_next.push(self.head[r]);
        self.head[r] = (self.entry_pos.len() - 1) as u32;
        self.bits[r >> 6] |= 1 << (r & 63);
        if r < self.cur {
            self.cur = r;
        }
    }

    /// Take the lowest non-empty bucket into `out`; its rank, or `None`.
    fn pop_min(&mut self, out: &mut Vec<u32>) -> Option<u32> {
        let mut w = self.cur >> 6;
        while w < self.bits.len() {
            let word = self.bits[w];
            if word != 0 {
                let r = (w << 6) + word.trailing_zeros() as usize;
                self.bits[w] &= !(1 << (r & 63));
                self.cur = r;
                out.clear();
                let mut e = self.head[r];
                self.head[r] = NIL;
                while e != NIL {
                    out.push(self.entry_pos[e as usize]);
                    e = self.entry_next[e as usize];
                }
                return Some(r as u32);
            }
            w += 1;
        }
        None
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Tokenizer for BpeModel {
    fn kind(&self) -> &'static str {
        "bpe"
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    fn encode_into(&self, seq: &[u8], out: &mut Vec<u32>) -> Result<()> {
        SCRATCH.with(|s| {
            let s = &mut s.borrow_mut();
            match &self.backtrack {
                Some(bt) => self.encode_fast(bt, seq, s, out),
                None => self.encode_with(seq, s, out),
            }
        })
    }

    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for &id in ids {
            let tok = self.vocab.token(id)?;
            if !self.vocab.is_special(id) {
                out.extend_from_slice(tok.as_bytes());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BpeTrainer;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    fn random_dna(rng: &mut rand_chacha::ChaCha8Rng, n: usize) -> Vec<u8> {
        // A skewed, repetitive source so that long tokens appear.
        let motifs: [&[u8]; 4] = [b"TATAAA", b"CACGTG", b"AAAAAAAA", b"GC"];
        let mut s = Vec::with_capacity(n);
        while s.len() < n {
            if rng.random_bool(0.3) {
                s.extend_from_slice(motifs[rng.random_range(0..4)]);
            } else {
                s.push(b"ACGT"[rng.random_range(0..4)]);
            }
        }
        s.truncate(n);
        s
    }

    #[test]
    fn encoding_reproduces_training_segmentation() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let segs: Vec<Vec<u8>> = (0..400)
            .map(|_| {
                let n = rng.random_range(1..400);
                random_dna(&mut rng, n)
            })
            .collect();
        let (t, trained) = BpeTrainer::new(200)
            .unwrap()
            .train_segmented(&segs)
            .unwrap();
        assert_eq!(t.model.vocab().len(), 5 + 4 + 200);
        for (seg, want) in segs.iter().zip(&trained) {
            assert_eq!(&t.model.encode(seg).unwrap(), want);
        }
        let batch = t.model.encode_batch(&segs).unwrap();
        assert_eq!(&batch, &trained);
    }

    #[test]
    fn string_merges_round_trip() {
        let t = BpeTrainer::new(20)
            .unwrap()
            .train(["ACGTACGTTTTTAAACCC", "GGGATATATCG"])
            .unwrap();
        let m = BpeModel::from_string_merges(t.model.vocab().clone(), &t.model.string_merges())
            .unwrap();
        assert_eq!(m.merges(), t.model.merges());
    }

    #[test]
    fn bad_input_is_an_error() {
        let t = BpeTrainer::new(3).unwrap().train(["ACGTACGT"]).unwrap();
        assert!(matches!(
            t.model.encode(b"ACNT"),
            Err(TokError::InvalidBase { pos: 2, .. })
        ));
        assert!(t.model.decode(&[10_000]).is_err());
        assert_eq!(t.model.encode(b"").unwrap(), Vec::<u32>::new());
    }

    /// Models trained on skewed random DNA (runs, motifs), by merge count.
    fn trained_models() -> &'static [BpeModel] {
        static MODELS: std::sync::OnceLock<Vec<BpeModel>> = std::sync::OnceLock::new();
        MODELS.get_or_init(|| {
            [(20, 1u64), (150, 2), (600, 3)]
                .iter()
                .map(|&(merges, seed)| {
                    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                    let segs: Vec<Vec<u8>> = (0..1500)
                        .map(|_| {
                            let n = rng.random_range(1..300);
                            random_dna(&mut rng, n)
                        })
                        .collect();
                    let t = BpeTrainer::new(merges).unwrap().train(&segs).unwrap();
                    assert!(t.model.has_fast_encoder());
                    t.model
                })
                .collect()
        })
    }

    /// A sequence from pieces: runs of one base, repeats of a short motif,
    /// or single bases, which is where merge order and ties matter most.
    fn from_pieces(pieces: &[(u8, u8, u8)]) -> Vec<u8> {
        let mut s = Vec::new();
        for &(kind, a, n) in pieces {
            let base = b"ACGT"[(a & 3) as usize];
            match kind % 3 {
                0 => s.extend(std::iter::repeat_n(base, n as usize % 17 + 1)),
                1 => {
                    let motif = [
                        base,
                        b"ACGT"[(a >> 2 & 3) as usize],
                        b"ACGT"[(a >> 4 & 3) as usize],
                    ];
                    let k = (a >> 6) as usize % 3 + 1;
                    for _ in 0..n % 6 + 1 {
                        s.extend_from_slice(&motif[..k]);
                    }
                }
                _ => s.push(base),
            }
        }
        s
    }

    #[test]
    fn fast_encoder_equals_rank_order_on_training_corpus() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
        for m in trained_models() {
            for _ in 0..300 {
                let n = rng.random_range(0..700);
                let seq = random_dna(&mut rng, n);
                assert_eq!(m.encode(&seq).unwrap(), m.encode_by_rank(&seq).unwrap());
            }
        }
    }

    #[test]
    fn merges_using_later_tokens_fall_back_to_rank_order() {
        // Merge 0 uses AC, which merge 1 makes: legal in tokenizer.json, but
        // not a merge order the backtracking encoder can read.
        let vocab = Vocab::with_specials(
            ["A", "C", "G", "T", "ACG", "AC"]
                .iter()
                .map(|s| s.to_string()),
        )
        .unwrap();
        let m = BpeModel::from_string_merges(
            vocab,
            &[("AC".into(), "G".into()), ("A".into(), "C".into())],
        )
        .unwrap();
        assert!(!m.has_fast_encoder());
        let ids = m.encode(b"ACGAC").unwrap();
        let words: Vec<&str> = ids.iter().map(|&i| m.vocab().token(i).unwrap()).collect();
        assert_eq!(words, ["ACG", "AC"]);
    }

    proptest! {
        #[test]
        fn fast_encoder_equals_rank_order(seq in "[ACGT]{0,400}", which in 0usize..3) {
            let m = &trained_models()[which];
            prop_assert_eq!(m.encode(seq.as_bytes()).unwrap(), m.encode_by_rank(seq.as_bytes()).unwrap());
        }

        #[test]
        fn fast_encoder_equals_rank_order_on_runs_and_repeats(
            pieces in proptest::collection::vec((0u8..3, proptest::num::u8::ANY, proptest::num::u8::ANY), 0..60),
            which in 0usize..3,
        ) {
            let m = &trained_models()[which];
            let seq = from_pieces(&pieces);
            prop_assert_eq!(m.encode(&seq).unwrap(), m.encode_by_rank(&seq).unwrap());
        }

        #[test]
        fn decode_inverts_encode(seq in "[ACGT]{1,300}") {
            let t = BpeTrainer::new(20).unwrap()
                .train(["ACGTTGCAACGTAAAAAATTTTGGCC", "TATATATACGCGCG"]).unwrap();
            let ids = t.model.encode(seq.as_bytes()).unwrap();
            prop_assert_eq!(t.model.decode(&ids).unwrap(), seq.as_bytes());
        }
    }
}
