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

    /// What anyhow's `{:#}` prints: the error, then each source after ": ".
    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut src = e.source();
        while let Some(s) = src {
            out.push_str(": ");
            out.push_str(&s.to_string());
            src = s.source();
        }
        out
    }

    #[test]
    fn io_error_prints_the_os_message_once() {
        let gone = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = ModelError::io(Path::new("m/config.json"), gone);
        assert_eq!(chain(&e), "m/config.json: gone");
    }
}
