//! Promoter prediction as DNABERT-Prom (SPEC 3) does it: data from a genome
//! and a TSS list or from labelled sets people already have, leak-free
//! group splits, encoder fine-tuning, encodings, four predictors with
//! repeats and baselines, the report, and a genome scan with the fine-tuned
//! classifier.

pub mod baseline;
pub mod data;
pub mod features;
pub mod fit;
pub mod genomic;
pub mod loaders;
mod partition;
pub mod report;
pub mod rows;
pub mod saved;
pub mod scan;
pub mod split;
pub mod train;
pub mod truth;
