//! Downstream tasks on dnalm models: next-k-mer prediction with its n-gram
//! baseline, and the metrics the reports use; sequence embeddings, word
//! vectors, attention maps and DNABERT's attention motif analysis.
//!
//! ```
//! use dnalm_tasks::ngram::{kmer_of, NgramModel};
//!
//! // After "GAT" training saw "TA": the 3-base context wins over shorter ones.
//! let train: Vec<&[u8]> = vec![b"GATTA", b"CTAC", b"CTAC"];
//! let query: &[u8] = b"CCGAT";
//! let model = NgramModel::fit(2, 3, train, [query])?;
//! assert_eq!(kmer_of(model.predict(query, 1)[0], 2), "TA");
//! # Ok::<(), dnalm_tasks::TaskError>(())
//! ```

pub mod attention;
pub mod attention_html;
pub mod base_lm;
pub mod book;
pub mod embed;
pub mod error;
pub mod infer;
pub mod metrics;
pub mod model;
pub mod motif;
pub mod nextkmer;
pub mod ngram;
pub mod npy;
pub mod promoter;
pub mod report;
pub mod spans;
pub mod stats;
pub mod table;
pub mod vectors;

pub use error::{Result, TaskError};
