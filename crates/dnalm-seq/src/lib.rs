//! Genome input for dnalm (being written).
pub mod error;
pub use error::{Result, SeqError};
