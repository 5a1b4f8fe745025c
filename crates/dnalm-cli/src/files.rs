//! Writing artefact files: atomically (temp file, then rename), with the
//! path in every error.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use dnalm_seq::AtomicFile;

/// Write `contents` to `path` atomically.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(contents)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.commit()?;
    Ok(())
}

pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}
