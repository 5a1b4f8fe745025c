//! The effective masked fraction of a strategy over a corpus sample, beside
//! its exact expectation: the number to log before a run, because a centre
//! probability is easy to mistake for a masked fraction.

use serde::Serialize;

use super::{read_rows, Example, MaskCollator};
use crate::batch::{domain, keyed_rng};
use crate::corpus::TokenCorpus;
use crate::error::Result;

/// Selected and maskable counts of a strategy over a corpus sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MaskStats {
    pub n_sequences: usize,
    pub n_masked: usize,
    pub n_maskable: usize,
    /// The exact expectation of `n_masked` for these rows.
    pub expected_masked: f64,
}

impl MaskStats {
    pub fn effective_fraction(&self) -> f64 {
        self.n_masked as f64 / self.n_maskable.max(1) as f64
    }
    pub fn expected_fraction(&self) -> f64 {
        self.expected_masked / self.n_maskable.max(1) as f64
    }
}

/// Mask up to `n_sample` seeded-chosen sequences of `corpus` with
/// `collator`'s settings (under a stream of its own, so training masks are
/// untouched) and report the effective masked fraction beside its
/// expectation; this is the number to log before a run.
pub fn measure_masked_fraction(
    collator: &MaskCollator,
    corpus: &TokenCorpus,
    n_sample: usize,
    seed: u64,
) -> Result<MaskStats> {
    let mut order: Vec<usize> = (0..corpus.len()).collect();
    crate::batch::shuffle(&mut order, &mut keyed_rng(domain::MEASURE, seed, 0, 0));
    order.truncate(n_sample);
    let mut stats = MaskStats {
        n_sequences: order.len(),
        n_masked: 0,
        n_maskable: 0,
        expected_masked: 0.0,
    };
    for (b, chunk) in order.chunks(64).enumerate() {
        let rows = read_rows(corpus, chunk)?;
        let examples: Vec<Example<'_>> = rows
            .iter()
            .map(|(ids, f)| Example::hybrid(ids, *f))
            .collect();
        let (batch, expected) =
            collator.collate_keyed(&examples, domain::MEASURE, seed, b as u64)?;
        stats.n_masked += batch.n_masked;
        stats.n_maskable += batch.n_maskable;
        stats.expected_masked += expected;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::below;
    use crate::mask::tests::collator;
    use crate::mask::MaskStrategy;

    #[test]
    fn measured_on_a_corpus() {
        use dnalm_tokenizers::{KmerOrder, KmerTokenizer};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.tok");
        let tok = KmerTokenizer::new(6, KmerOrder::Lexicographic).unwrap();
        let mut r = keyed_rng(0, 0, 0, 0);
        let lines: Vec<u8> = (0..300)
            .flat_map(|_| {
                let mut l: Vec<u8> = (0..305)
                    .map(|_| b"ACGT"[below(&mut r, 4) as usize])
                    .collect();
                l.push(b'\n');
                l
            })
            .collect();
        crate::corpus::TokenCorpusBuilder::new(&tok)
            .build()
            .unwrap()
            .write_reader(&lines[..], "in.txt".as_ref(), &path)
            .unwrap();
        let corpus = TokenCorpus::open(&path).unwrap();
        let c = collator(MaskStrategy::kmer_span(6), 512, 1);
        let st = measure_masked_fraction(&c, &corpus, 250, 3).unwrap();
        assert_eq!((st.n_sequences, st.n_maskable), (250, 250 * 300));
        assert!(
            (st.expected_fraction() - 0.1405).abs() < 0.001,
            "{}",
            st.expected_fraction()
        );
        assert!(
            (st.effective_fraction() - st.expected_fraction()).abs() < 0.01,
            "{st:?}"
        );
        assert_eq!(measure_masked_fraction(&c, &corpus, 250, 3).unwrap(), st);
        // Training batches come from the same corpus, framed the same way.
        let b = c.collate_corpus(&corpus, &[0, 299], 0, 0).unwrap();
        assert_eq!((b.batch_size, b.seq_len, b.n_maskable), (2, 302, 600));
        assert!(c.collate_corpus(&corpus, &[300], 0, 0).is_err());
        // Strategies are checked against the corpus they mask.
        c.check_corpus(&corpus).unwrap();
        collator(MaskStrategy::random(), 512, 0)
            .check_corpus(&corpus)
            .unwrap();
        let e = collator(MaskStrategy::hybrid(), 512, 0)
            .check_corpus(&corpus)
            .unwrap_err();
        assert!(e.to_string().contains("does not fit a kmer corpus"), "{e}");
        let small = MaskCollator::builder(MaskStrategy::kmer_span(6), 100)
            .build()
            .unwrap();
        assert!(small.check_corpus(&corpus).is_err());
    }
}
