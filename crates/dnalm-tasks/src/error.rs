//! Errors of the downstream tasks, each saying what was wrong and where.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// Displays the path; the I/O error is the `source` (printed by `{:#}`).
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Bad input data: the message names the file, line and field.
    #[error("{0}")]
    Data(String),
    /// Settings that cannot work together.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Seq(#[from] dnalm_seq::SeqError),
    #[error(transparent)]
    Tokenizer(#[from] dnalm_tokenizers::TokError),
    #[error(transparent)]
    Model(#[from] dnalm_model::ModelError),
    #[error(transparent)]
    Train(#[from] dnalm_train::TrainError),
    #[error(transparent)]
    Book(#[from] dnalm_book::BookError),
}

pub type Result<T> = std::result::Result<T, TaskError>;

impl TaskError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TaskError::Io {
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
        let e = TaskError::io("m/config.json", gone);
        assert_eq!(dnalm_seq::error_chain(&e), "m/config.json: gone");
    }
}
