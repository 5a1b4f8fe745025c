use std::path::PathBuf;

/// Errors from building, training, loading or applying a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum TokError {
    /// A byte that is not an upper-case A/C/G/T reached an encoder.
    /// Callers split sequences into A/C/G/T runs first (`dnalm_seq`).
    #[error("invalid base {byte:?} at position {pos} (tokenizers take upper-case A/C/G/T runs; split at N/IUPAC first)", byte = char::from(*byte))]
    InvalidBase { byte: u8, pos: usize },
    /// A token id outside the vocabulary.
    #[error("token id {id} is outside the vocabulary (size {size})")]
    UnknownId { id: u32, size: usize },
    /// A token string that is not in the vocabulary.
    #[error("token {token:?} is not in the vocabulary")]
    UnknownToken { token: String },
    /// A parameter out of its allowed range.
    #[error("invalid parameter: {0}")]
    Param(String),
    /// A tokenizer or vocabulary file that cannot be used.
    #[error("{path}: {msg}")]
    File { path: PathBuf, msg: String },
    /// Ids that cannot be decoded back into one sequence.
    #[error("cannot decode: {0}")]
    Decode(String),
    /// Displays the path; the I/O error is the `source` (printed by `{:#}`).
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Seq(#[from] dnalm_seq::SeqError),
    /// A plot that could not be drawn (bad input or a drawing-backend failure).
    #[error("plot: {0}")]
    Plot(String),
}

pub type Result<T, E = TokError> = std::result::Result<T, E>;

impl TokError {
    pub(crate) fn file(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        TokError::File {
            path: path.into(),
            msg: msg.into(),
        }
    }
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TokError::Io {
            path: path.into(),
            source,
        }
    }
}
