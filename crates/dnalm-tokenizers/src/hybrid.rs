//! The hybrid k-mer + BPE tokenizer.
//!
//! A sequence is cut into segments of `segment_len` bases (305 by default);
//! each segment is encoded twice, as its overlapping k-mers (300 6-mers for a
//! full segment) and as its BPE tokens, and the two lists are concatenated:
//! k-mers first, then BPE. A final segment shorter than `segment_len` is
//! encoded the same way (a segment shorter than k contributes BPE tokens only).
//!
//! Vocabulary and its de-duplication rule: the five specials, then all 4^k
//! k-mers in lexicographic order, then every BPE token whose spelling is not
//! already there, in BPE id order. A token is its spelling: a BPE token that
//! spells a k-mer *is* that k-mer and shares its id. [`HybridParts`] reports
//! each part's count; nothing is padded or trimmed to reach a published size.

use crate::bpe::BpeModel;
use crate::error::{Result, TokError};
use crate::kmer::{KmerOrder, KmerTokenizer};
use crate::vocab::Vocab;
use crate::Tokenizer;

/// Sizes of the parts of a hybrid vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HybridParts {
    pub specials: usize,
    pub kmers: usize,
    /// BPE tokens (specials excluded).
    pub bpe_tokens: usize,
    /// BPE tokens that spell a k-mer and so share its id.
    pub bpe_shared_with_kmers: usize,
    /// BPE tokens added to the vocabulary.
    pub bpe_added: usize,
    pub total: usize,
}

/// k-mers then BPE, per segment.
#[derive(Debug, Clone)]
pub struct HybridTokenizer {
    kmer: KmerTokenizer,
    bpe: BpeModel,
    segment_len: usize,
    vocab: Vocab,
    /// BPE id -> hybrid id.
    bpe_map: Vec<u32>,
    /// Length in bases of each hybrid id (0 for specials).
    lens: Vec<u32>,
    parts: HybridParts,
}

impl HybridTokenizer {
    /// The published defaults are `k = 6`, `segment_len = 305` over BPE-600.
    pub fn new(bpe: BpeModel, k: usize, segment_len: usize) -> Result<HybridTokenizer> {
        if segment_len < k {
            return Err(TokError::Param(format!(
                "hybrid segment length {segment_len} is shorter than k = {k}"
            )));
        }
        let kmer = KmerTokenizer::new(k, KmerOrder::Lexicographic)?;
        let mut tokens: Vec<String> = kmer.vocab().tokens().to_vec();
        let n_kmer_vocab = tokens.len();
        let bv = bpe.vocab();
        let mut bpe_map = vec![0u32; bv.len()];
        let (mut shared, mut added) = (0, 0);
        for id in 0..bv.len() as u32 {
            let tok = bv.token(id)?;
            let mapped = if bv.is_special(id) {
                kmer.vocab().id(tok).ok_or_else(|| TokError::UnknownToken {
                    token: tok.to_string(),
                })?
            } else if let Some(kid) = kmer.kmer_id(tok.as_bytes()) {
                shared += 1;
                kid
            } else {
                added += 1;
                tokens.push(tok.to_string());
                (tokens.len() - 1) as u32
            };
            bpe_map[id as usize] = mapped;
        }
        let vocab = Vocab::from_tokens(tokens, kmer.vocab().specials())?;
        let lens = (0..vocab.len() as u32)
            .map(|id| {
                if vocab.is_special(id) {
                    0
                } else {
                    vocab.tokens()[id as usize].len() as u32
                }
            })
            .collect();
        let specials = 5;
        let parts = HybridParts {
            specials,
            kmers: n_kmer_vocab - specials,
            bpe_tokens: shared + added,
            bpe_shared_with_kmers: shared,
            bpe_added: added,
            total: vocab.len(),
        };
        Ok(HybridTokenizer {
            kmer,
            bpe,
            segment_len,
            vocab,
            bpe_map,
            lens,
            parts,
        })
    }

    pub fn k(&self) -> usize {
        self.kmer.k()
    }
    pub fn segment_len(&self) -> usize {
        self.segment_len
    }
    pub fn bpe(&self) -> &BpeModel {
        &self.bpe
    }
    pub fn parts(&self) -> HybridParts {
        self.parts
    }

    /// Ids of one segment: `(k-mer ids, BPE ids)`, both in the hybrid vocabulary.
    pub fn encode_segment(&self, seg: &[u8]) -> Result<(Vec<u32>, Vec<u32>)> {
        let kmers = if seg.len() >= self.k() {
            self.kmer.encode(seg)?
        } else {
            crate::check_acgt(seg)?;
            Vec::new()
        };
        let bpe = self
            .bpe
            .encode(seg)?
            .into_iter()
            .map(|id| self.bpe_map[id as usize])
            .collect();
        Ok((kmers, bpe))
    }

    /// Decode one segment whose k-mer part is `ids[..m]`; returns the bases
    /// and the number of ids used, or `None` if the ids do not fit.
    fn try_segment(&self, ids: &[u32], m: usize) -> Option<(Vec<u8>, usize)> {
        let k = self.k();
        let want = if m == 0 { None } else { Some(m + k - 1) };
        let mut total = 0usize;
        let mut j = m;
        while j < ids.len() {
            total += self.lens[ids[j] as usize] as usize;
            j += 1;
            match want {
                Some(w) if total == w => break,
                Some(w) if total > w => return None,
                _ => {}
            }
        }
        if let Some(w) = want {
            if total != w {
                return None;
            }
        } else if total >= k || j != ids.len() {
            return None;
        }
        let bpe_seq = self.decode_plain(&ids[m..j]).ok()?;
        if m > 0 {
            let kmer_seq = self.kmer.decode(&ids[..m]).ok()?;
            if kmer_seq != bpe_seq {
                return None;
            }
        }
        Some((bpe_seq, j))
    }

    fn decode_plain(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for &id in ids {
            out.extend_from_slice(self.vocab.token(id)?.as_bytes());
        }
        Ok(out)
    }
}

impl Tokenizer for HybridTokenizer {
    fn kind(&self) -> &'static str {
        "hybrid"
    }

    fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    fn encode_into(&self, seq: &[u8], out: &mut Vec<u32>) -> Result<()> {
        crate::check_acgt(seq)?;
        for seg in seq.chunks(self.segment_len) {
            let (kmers, bpe) = self.encode_segment(seg)?;
            out.extend_from_slice(&kmers);
            out.extend_from_slice(&bpe);
        }
        Ok(())
    }

    /// Segments are found from their structure: a full segment has exactly
    /// `segment_len - k + 1` k-mers followed by BPE tokens spelling the same
    /// `segment_len` bases; the last segment may be shorter. Both halves must
    /// agree, or decoding fails.
    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let ids: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|&id| !self.vocab.is_special(id))
            .collect();
        for &id in &ids {
            self.vocab.token(id)?;
        }
        let full = self.segment_len - self.k() + 1;
        let mut out = Vec::new();
        let mut i = 0;
        while i < ids.len() {
            let rest = &ids[i..];
            let found = (rest.len() > full)
                .then(|| self.try_segment(rest, full))
                .flatten()
                .or_else(|| {
                    (0..rest.len().min(full)).find_map(|m| {
                        self.try_segment(rest, m)
                            .filter(|&(_, used)| used == rest.len())
                    })
                });
            let Some((seq, used)) = found else {
                return Err(TokError::Decode(format!(
                    "ids from position {i} do not form a hybrid segment (k-mers then BPE spelling the same bases)"
                )));
            };
            out.extend_from_slice(&seq);
            i += used;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BpeTrainer;
    use proptest::prelude::*;

    fn small_bpe() -> BpeModel {
        BpeTrainer::new(40)
            .unwrap()
            .train([
                "ACGTACGTTTTTAAACCCGGGATATATCGACGTTTAAAGGGCCCTATAAAAGGC",
                "TTGACATATAAAGGCGCGCAATTGGCCAATATATGCGCAT",
            ])
            .unwrap()
            .model
    }

    #[test]
    fn vocabulary_parts_add_up() {
        let bpe = small_bpe();
        let h = HybridTokenizer::new(bpe.clone(), 6, 305).unwrap();
        let p = h.parts();
        assert_eq!(p.kmers, 4096);
        assert_eq!(p.bpe_tokens, bpe.vocab().len() - 5);
        assert_eq!(p.total, 5 + 4096 + p.bpe_added);
        let six = bpe.vocab().tokens()[5..]
            .iter()
            .filter(|t| t.len() == 6)
            .count();
        assert_eq!(p.bpe_shared_with_kmers, six);
    }

    #[test]
    fn segment_is_kmers_then_bpe() {
        let h = HybridTokenizer::new(small_bpe(), 6, 305).unwrap();
        let seq: Vec<u8> = b"ACGTTGCA".repeat(40)[..305].to_vec();
        let ids = h.encode(&seq).unwrap();
        let (kmers, bpe) = h.encode_segment(&seq).unwrap();
        assert_eq!(kmers.len(), 300);
        assert_eq!(ids.len(), 300 + bpe.len());
        assert_eq!(h.vocab().token(ids[0]).unwrap(), "ACGTTG");
        assert_eq!(h.decode(&ids).unwrap(), seq);
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(seq in "[ACGT]{1,700}", seg in 6usize..40) {
            let h = HybridTokenizer::new(small_bpe(), 6, seg).unwrap();
            let ids = h.encode(seq.as_bytes()).unwrap();
            prop_assert_eq!(h.decode(&ids).unwrap(), seq.as_bytes());
        }
    }
}
