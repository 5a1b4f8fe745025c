//! The settings of `dnalm book train`, with their defaults: read by the
//! training pipeline and by its report, so neither needs the other.

/// Settings of `dnalm book train`.
#[derive(Debug, Clone, PartialEq)]
pub struct BookTrainConfig {
    pub vocab_size: usize,
    /// A GPT-2 preset (`tiny`, `gpt2-base`).
    pub preset: String,
    /// Tokens per training window (at most the preset's positions).
    pub context: usize,
    pub batch_size: usize,
    /// Pre-training updates on the mix.
    pub steps: u64,
    /// `<p_end>` updates on English.
    pub pend_steps: u64,
    /// Sentence-pair updates (0: no transfer model).
    pub transfer_steps: u64,
    pub lr: f64,
    /// Learning rate of the two later stages.
    pub tune_lr: f64,
    /// At most this many DNA fragments for training (0: all).
    pub max_dna_fragments: usize,
    /// Held-out windows (of `context` tokens) per perplexity.
    pub eval_windows: usize,
    /// Pairs in each accuracy test.
    pub test_pairs: usize,
    pub shards: usize,
    pub seed: u64,
}

impl Default for BookTrainConfig {
    fn default() -> Self {
        Self {
            vocab_size: 8000,
            preset: "tiny".into(),
            context: 256,
            batch_size: 16,
            steps: 1000,
            pend_steps: 300,
            transfer_steps: 200,
            lr: 1e-3,
            tune_lr: 3e-4,
            max_dna_fragments: 0,
            eval_windows: 200,
            test_pairs: 400,
            shards: 2,
            seed: 42,
        }
    }
}
