//! Errors of the training crate. Every variant says what was wrong and
//! where (file, line, sequence, token), so a failed run over a 100 GB corpus
//! points at the byte to fix rather than at "invalid input".

use std::path::{Path, PathBuf};

use dnalm_tokenizers::TokError;

/// Errors from building corpora, masking, batching and scheduling.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Displays the path; the I/O error is the `source` (printed by `{:#}`).
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line of a sequence file that cannot become a corpus sequence.
    /// `line` is 1-based, `column` (when known) is the 1-based byte column.
    #[error("{path}:{line}{}: {msg}", column.map(|c| format!(":{c}")).unwrap_or_default())]
    Input {
        path: PathBuf,
        line: u64,
        column: Option<u64>,
        msg: String,
    },
    /// The tokenizer refused a line (the source says why).
    #[error("{path}:{line}: cannot tokenize")]
    Tokenize {
        path: PathBuf,
        line: u64,
        #[source]
        source: TokError,
    },
    /// A token corpus file whose header or tables do not hold together.
    #[error("{path}: not a valid dnalm token corpus: {msg}")]
    CorpusFormat { path: PathBuf, msg: String },
    /// A stored token id outside the vocabulary the corpus declares.
    #[error("{path}: sequence {sequence}, token {position}: id {id} is outside the vocabulary (size {vocab_size})")]
    TokenOutOfRange {
        path: PathBuf,
        sequence: u64,
        position: u64,
        id: u64,
        vocab_size: u64,
    },
    /// A token id handed to a collator that is outside its vocabulary.
    #[error(
        "batch row {row}, token {position}: id {id} is outside the vocabulary (size {vocab_size})"
    )]
    BatchToken {
        row: usize,
        position: usize,
        id: u32,
        vocab_size: usize,
    },
    /// A sequence index past the end of a corpus or split.
    #[error("sequence index {index} is out of range (the corpus holds {len})")]
    SequenceIndex { index: u64, len: u64 },
    /// A JSON sidecar that cannot be read or written.
    #[error("{path}: invalid JSON")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A parameter out of its allowed range (builders and constructors).
    #[error("invalid parameter: {0}")]
    Param(String),
    /// A run configuration that cannot work (says which field and why).
    #[error("{0}")]
    Config(String),
    /// A checkpoint that cannot be written or read back.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The model refused its input or weights.
    #[error(transparent)]
    Model(#[from] dnalm_model::ModelError),
    /// A wall-time budget that cannot hold what a run needs (says how
    /// long the measured pieces take).
    #[error("{0}")]
    Budget(String),
    /// The loss stopped being a number.
    #[error("training diverged at step {step}: loss is {loss} (lower the learning rate or raise warm-up)")]
    Diverged { step: u64, loss: f64 },
}

pub type Result<T> = std::result::Result<T, TrainError>;

impl TrainError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn corpus(path: &Path, msg: impl Into<String>) -> Self {
        TrainError::CorpusFormat {
            path: path.to_path_buf(),
            msg: msg.into(),
        }
    }

    pub fn param(msg: impl Into<String>) -> Self {
        TrainError::Param(msg.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_their_context() {
        let e = TrainError::Input {
            path: "a.txt".into(),
            line: 7,
            column: Some(3),
            msg: "invalid base 'N'".into(),
        };
        assert_eq!(e.to_string(), "a.txt:7:3: invalid base 'N'");
        let e = TrainError::Input {
            path: "a.txt".into(),
            line: 7,
            column: None,
            msg: "x".into(),
        };
        assert_eq!(e.to_string(), "a.txt:7: x");
        let e = TrainError::TokenOutOfRange {
            path: "c.tok".into(),
            sequence: 4,
            position: 2,
            id: 70000,
            vocab_size: 4101,
        };
        assert!(e.to_string().contains("sequence 4, token 2: id 70000"));
        let e = TrainError::io(
            Path::new("x"),
            std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        );
        assert_eq!(e.to_string(), "x");
        assert!(std::error::Error::source(&e).is_some());
    }
}
