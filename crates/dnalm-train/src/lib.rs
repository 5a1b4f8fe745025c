//! Pre-training for dnalm: tokenized corpora on disk, masking collators,
//! AdamW with schedules, the training loop, checkpoints and resume.
//!
//! Data path: [`corpus`] tokenizes a sequence file once into a
//! memory-mapped [`TokenCorpus`]; [`batch`] splits it and picks the
//! sequences of each step from the seed alone; [`mask`] frames, pads and
//! masks them into a [`Batch`]; [`schedule`] gives the learning rate of
//! each update. Every random choice is a pure function of (seed, step), so
//! a resumed run repeats an uninterrupted one exactly.
//!
//! ```
//! use dnalm_tokenizers::{KmerOrder, KmerTokenizer, Tokenizer};
//! use dnalm_train::{BatchSampler, MaskCollator, MaskStrategy, Split, TokenCorpus, TokenCorpusBuilder};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("corpus.tok");
//! let tok = KmerTokenizer::new(6, KmerOrder::Lexicographic).unwrap();
//! let lines = b"ACGTACGTTGCAAGCT\nTTGACATATAAAGGCGCGCA\nGGGCCCTATAAAAGGCTT\n";
//! TokenCorpusBuilder::new(&tok).build().unwrap()
//!     .write_reader(&lines[..], "lines.txt".as_ref(), &path).unwrap();
//!
//! let corpus = TokenCorpus::open(&path).unwrap();
//! let split = Split::by_count(corpus.len(), 1, 7).unwrap();
//! let mut sampler = BatchSampler::new(split.train, 2, 7).unwrap();
//! let collator = MaskCollator::builder(MaskStrategy::kmer_span(6), tok.vocab().len())
//!     .seed(7)
//!     .build()
//!     .unwrap();
//! let step = 0;
//! let batch = collator.collate_corpus(&corpus, &sampler.batch(step), step, 0).unwrap();
//! assert_eq!(batch.batch_size, 2);
//! assert!(batch.n_masked >= 2);
//! ```

pub mod batch;
pub mod budget;
pub mod causal;
pub mod checkpoint;
pub mod classify;
pub mod config;
pub mod corpus;
pub mod error;
pub mod mask;
pub mod metrics;
pub mod optim;
pub mod schedule;
pub mod shard;
pub mod trainer;

pub use batch::{BatchSampler, Split};
pub use budget::StopReason;
pub use causal::{train_causal, CausalConfig, CausalEval, CausalStep};
pub use config::TrainConfig;
pub use corpus::{CorpusMeta, TokenCorpus, TokenCorpusBuilder, TokenCorpusWriter};
pub use error::{Result, TrainError};
pub use mask::{Batch, Example, MaskCollator, MaskStrategy};
pub use optim::{AdamW, AdamWConfig, GradBuffer};
pub use schedule::LinearSchedule;
pub use trainer::{pretrain, Event, Fit, Measured, PretrainData, RunOptions, Summary};
