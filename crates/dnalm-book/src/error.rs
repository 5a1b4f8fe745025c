//! Errors of the genome book, each saying what was wrong and where.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// Displays the path; the I/O error is the `source` (printed by `{:#}`).
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Bad input data: the message names the file, line or record.
    #[error("{0}")]
    Data(String),
    /// Settings that cannot work together.
    #[error("{0}")]
    Config(String),
    /// The language model or tokenizer behind the traits failed.
    #[error("{0}")]
    Backend(String),
    #[error(transparent)]
    Seq(#[from] dnalm_seq::SeqError),
    /// Plots and other output of the tokenizer crate.
    #[error(transparent)]
    Tok(#[from] dnalm_tokenizers::TokError),
}

pub type Result<T> = std::result::Result<T, BookError>;

impl BookError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BookError::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_error_prints_the_os_message_once() {
        let gone = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = BookError::io("m/config.json", gone);
        assert_eq!(dnalm_seq::error_chain(&e), "m/config.json: gone");
    }
}
