//! Errors of the model crate: every variant says what was wrong and where.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid model config: {0}")]
    Config(String),
    /// Displays the path; the I/O error is the `source` (printed by `{:#}`).
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable safetensors file: {message}")]
    Safetensors { path: PathBuf, message: String },
    #[error("{path}: tensor {name}: {message}")]
    Tensor {
        path: PathBuf,
        name: String,
        message: String,
    },
    #[error("{path}: missing tensor(s) for this config: {names}")]
    MissingTensors { path: PathBuf, names: String },
    #[error("input: {0}")]
    Input(String),
}

impl ModelError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, ModelError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn io_error_prints_the_os_message_once() {
        let gone = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = ModelError::io(Path::new("m/config.json"), gone);
        assert_eq!(dnalm_seq::error_chain(&e), "m/config.json: gone");
    }
}
