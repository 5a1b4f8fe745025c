//! The rows of a promoter data set and the settings that make them: what
//! `data` (the TSS windows and synthetic negatives) and `genomic` (genomic
//! negatives) both build on, so neither needs the other's file.

use dnalm_seq::Strand;
use serde::Serialize;

/// One transcription start site (0-based position of the +1 base).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tss {
    pub chrom: String,
    pub pos: u64,
    pub strand: Strand,
    pub name: String,
    /// 1-based line in the TSS file.
    pub line: usize,
}

/// How non-TATA negatives are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyntheticKind {
    /// Keep 8 of 20 parts, replace 12 with random bases (DeePromoter, SPEC 3).
    Substitution,
    /// Shuffle 12 of 20 parts among their places (GENA's negatives).
    Permutation,
}

impl SyntheticKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Substitution => "substitution",
            Self::Permutation => "permutation",
        }
    }
}

/// Settings of the data construction.
#[derive(Debug, Clone, PartialEq)]
pub struct PromoterSpec {
    /// Bases before the TSS (249: the window is -249..+50).
    pub upstream: u64,
    /// Bases from the TSS on, the TSS included (51): the window is 249 bases
    /// upstream, the TSS, 50 bases downstream = 300 bp, TSS at index 249.
    pub downstream: u64,
    /// Make genomic TATA negatives for TATA positives (else synthetic ones).
    pub tata_negatives: bool,
    pub synthetic: SyntheticKind,
    /// Genomic negatives per positive, beside its own negative: random
    /// windows on either strand, at least `tss_margin` bases from every TSS
    /// (so a model learns "promoter or genome", not only "shuffled or not").
    pub genomic_negatives: usize,
    /// Bases a genomic negative keeps from every TSS of the list.
    pub tss_margin: u64,
    /// Draw each genomic negative with a GC content within 0.05 of its
    /// positive's (when one is found within the tries).
    pub gc_match: bool,
    pub seed: u64,
}

impl Default for PromoterSpec {
    fn default() -> Self {
        Self {
            upstream: 249,
            downstream: 51,
            tata_negatives: true,
            synthetic: SyntheticKind::Substitution,
            genomic_negatives: 0,
            tss_margin: 1_000,
            gc_match: false,
            seed: 42,
        }
    }
}

impl PromoterSpec {
    pub fn len(&self) -> usize {
        (self.upstream + self.downstream) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One row of a promoter data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromoterRow {
    pub sequence: Vec<u8>,
    pub label: u8,
    pub group: u64,
    /// `promoter`, `tata_genomic`, `substitution` or `permutation`.
    pub kind: String,
    pub chrom: String,
    pub start: u64,
    pub end: u64,
    pub strand: Strand,
}

/// What the construction did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DataSummary {
    pub tss: usize,
    pub positives: usize,
    pub tata_positives: usize,
    pub negatives_by_kind: Vec<(String, usize)>,
    pub skipped_edge: usize,
    pub skipped_n: usize,
    pub duplicate_windows: usize,
    /// TATA positives that got a synthetic negative: no free genomic TATA window.
    pub tata_fallbacks: usize,
    /// Genomic negatives drawn without a GC match (none found in the tries).
    pub gc_fallbacks: usize,
    pub groups: usize,
}

/// The bases `start..end` of `chrom`, reverse-complemented on the minus
/// strand.
pub fn window(chrom: &[u8], start: u64, end: u64, strand: Strand) -> Vec<u8> {
    let w = &chrom[start as usize..end as usize];
    if strand == Strand::Minus {
        dnalm_seq::reverse_complement(w)
    } else {
        w.to_vec()
    }
}
