//! Checkpoints: a directory per step holding the weights (HF names), the
//! optimiser moments, the step and the configs. Written under a temporary
//! name and renamed into place, so a run killed at any moment leaves only
//! whole checkpoints behind.
//!
//! There is no RNG state to save: every random choice of step `s` (batch
//! order, masking, dropout) is drawn from a generator seeded by
//! `(seed, s)`, so the step number is the whole of it.
//!
//! ```text
//! OUT/checkpoints/step-000500/{model.safetensors, optimizer.safetensors, state.json, config.json}
//! OUT/best/                   the same files for the lowest eval loss so far
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use dnalm_model::weights::{load_safetensors, save_safetensors, StateDict};

use crate::error::{Result, TrainError};

/// What a checkpoint says about the run besides tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimiser updates done.
    pub step: u64,
    /// Tokens (real, non-padding) seen in training.
    pub tokens_seen: u64,
    pub best_eval_loss: Option<f64>,
    pub best_step: Option<u64>,
    /// The run config as TOML text; a resume must match it.
    pub run_config: String,
}

pub const MODEL_FILE: &str = "model.safetensors";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
pub const STATE_FILE: &str = "state.json";
pub const CONFIG_FILE: &str = "config.json";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |e| TrainError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

fn model_err(e: dnalm_model::ModelError) -> TrainError {
    TrainError::Checkpoint(e.to_string())
}

/// The tensors and facts of one checkpoint, ready to write.
#[derive(Debug)]
pub struct Checkpoint<'a> {
    pub model: &'a StateDict,
    pub optimizer: &'a StateDict,
    pub state: &'a TrainState,
    pub model_config_json: &'a str,
}

fn write_dir(dest: &Path, ck: &Checkpoint<'_>) -> Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".tmp-{name}"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    save_safetensors(&tmp.join(MODEL_FILE), ck.model).map_err(model_err)?;
    save_safetensors(&tmp.join(OPTIMIZER_FILE), ck.optimizer).map_err(model_err)?;
    let state = serde_json::to_string_pretty(ck.state).expect("state serialises") + "\n";
    fs::write(tmp.join(STATE_FILE), state).map_err(io(&tmp))?;
    fs::write(tmp.join(CONFIG_FILE), ck.model_config_json).map_err(io(&tmp))?;
    // Swap into place: an old directory of that name goes aside first (a
    // directory cannot be renamed over a non-empty one).
    if dest.exists() {
        let old = parent.join(format!(".old-{name}"));
        if old.exists() {
            fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        fs::rename(dest, &old).map_err(io(dest))?;
        fs::rename(&tmp, dest).map_err(io(dest))?;
        fs::remove_dir_all(&old).map_err(io(&old))?;
    } else {
        fs::rename(&tmp, dest).map_err(io(dest))?;
    }
    Ok(())
}

/// The checkpoint directory of `step` under `out`.
pub fn step_dir(out: &Path, step: u64) -> PathBuf {
    out.join("checkpoints").join(format!("step-{step:06}"))
}

/// Write the checkpoint of `ck.state.step`, then delete all but the `keep`
/// newest step checkpoints.
pub fn save(out: &Path, ck: &Checkpoint<'_>, keep: usize) -> Result<PathBuf> {
    let dest = step_dir(out, ck.state.step);
    write_dir(&dest, ck)?;
    let steps = list_steps(out)?;
    if steps.len() > keep.max(1) {
        for (_, dir) in &steps[..steps.len() - keep.max(1)] {
            fs::remove_dir_all(dir).map_err(io(dir))?;
        }
    }
    Ok(dest)
}

/// Write `OUT/best`.
pub fn save_best(out: &Path, ck: &Checkpoint<'_>) -> Result<PathBuf> {
    let dest = out.join("best");
    write_dir(&dest, ck)?;
    Ok(dest)
}

/// Step checkpoints under `out`, oldest first.
pub fn list_steps(out: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let dir = out.join("checkpoints");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut steps = Vec::new();
    for entry in fs::read_dir(&dir).map_err(io(&dir))? {
        let entry = entry.map_err(io(&dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(n) = name
            .strip_prefix("step-")
            .and_then(|s| s.parse::<u64>().ok())
        {
            if entry.path().join(STATE_FILE).is_file() {
                steps.push((n, entry.path()));
            }
        }
    }
    steps.sort();
    Ok(steps)
}

/// A checkpoint read back.
#[derive(Debug)]
pub struct Loaded {
    pub dir: PathBuf,
    pub model: StateDict,
    pub optimizer: StateDict,
    pub state: TrainState,
}

/// Read the checkpoint in `dir`.
pub fn load(dir: &Path) -> Result<Loaded> {
    let state_path = dir.join(STATE_FILE);
    let text = fs::read_to_string(&state_path).map_err(io(&state_path))?;
    let state: TrainState = serde_json::from_str(&text).map_err(|e| {
        TrainError::Checkpoint(format!(
            "{}: not a dnalm checkpoint state: {e}",
            state_path.display()
        ))
    })?;
    let (model, _) = load_safetensors(&dir.join(MODEL_FILE)).map_err(model_err)?;
    let (optimizer, _) = load_safetensors(&dir.join(OPTIMIZER_FILE)).map_err(model_err)?;
    Ok(Loaded {
        dir: dir.to_path_buf(),
        model,
        optimizer,
        state,
    })
}

/// The newest step checkpoint under `out`, if any.
pub fn latest(out: &Path) -> Result<Option<Loaded>> {
    match list_steps(out)?.pop() {
        Some((_, dir)) => load(&dir).map(Some),
        None => Ok(None),
    }
}
