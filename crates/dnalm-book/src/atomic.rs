//! Whole-file output for the book's reports: every file is rendered in
//! memory first and then written under a temporary name and renamed
//! (`dnalm_seq::AtomicFile`), so a failure never leaves half a file.

use std::io::Write;
use std::path::Path;

use dnalm_seq::AtomicFile;

use crate::{BookError, Result};

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes).map_err(|e| BookError::io(path, e))?;
    f.commit()?;
    Ok(())
}

/// Writes several rendered files into `dir` (created if missing); all are
/// rendered before the first one is written.
pub fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| BookError::io(dir, e))?;
    for (name, bytes) in files {
        write_atomic(&dir.join(name), bytes)?;
    }
    Ok(())
}
