//! One input line of a token corpus: normalised to A/C/G/T, encoded, and
//! for the hybrid layout checked segment by segment. Apart from the
//! writer so the writer's file holds the writing.

use std::path::Path;

use dnalm_tokenizers::Tokenizer;

use super::HybridLayout;
use crate::error::{Result, TrainError};

/// One line, encoded: (ids, first-part length) per stored sequence.
pub(super) type Encoded = Vec<(Vec<u32>, u32)>;

pub(super) fn input_err(
    path: &Path,
    line: u64,
    column: Option<u64>,
    msg: impl Into<String>,
) -> TrainError {
    TrainError::Input {
        path: path.to_path_buf(),
        line,
        column,
        msg: msg.into(),
    }
}

pub(super) fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Normalise and encode one line; `None` for an empty one.
pub(super) fn encode_line(
    tok: &dyn Tokenizer,
    hybrid: Option<(HybridLayout, &[usize])>,
    path: &Path,
    no: u64,
    raw: &[u8],
    tsv: bool,
) -> Result<Option<Encoded>> {
    let line = trim_eol(raw);
    let (col0, field) = if tsv {
        let fields: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        if line.is_empty() {
            return Ok(None);
        }
        if fields.len() != 4 {
            return Err(input_err(
                path,
                no,
                None,
                format!(
                    "expected 4 tab-separated fields (record, start, end, sequence), found {}",
                    fields.len()
                ),
            ));
        }
        (line.len() - fields[3].len(), fields[3])
    } else {
        (0, line)
    };
    if field.is_empty() {
        return Ok(None);
    }
    let mut seq = field.to_vec();
    for (i, b) in seq.iter_mut().enumerate() {
        *b = match *b {
            b'A' | b'C' | b'G' | b'T' => *b,
            b'a' | b'c' | b'g' | b't' => b.to_ascii_uppercase(),
            other => {
                let shown = if other.is_ascii_graphic() {
                    format!("{:?}", char::from(other))
                } else {
                    format!("byte 0x{other:02x}")
                };
                return Err(input_err(path, no, Some((col0 + i + 1) as u64), format!("invalid base {shown}: corpus lines must be A/C/G/T only (split at N with `dnalm corpus`)")));
            }
        };
    }
    let tok_err = |source| TrainError::Tokenize {
        path: path.to_path_buf(),
        line: no,
        source,
    };
    let mut out = Vec::new();
    match hybrid {
        None => out.push((tok.encode(&seq).map_err(tok_err)?, 0)),
        Some((h, lens)) => {
            for seg in seq.chunks(h.segment_len) {
                let ids = tok.encode(seg).map_err(tok_err)?;
                let first = (seg.len() + 1).saturating_sub(h.k);
                // A true layout: `first` k-mers, then BPE spelling the segment.
                let len = |id: &u32| lens.get(*id as usize).copied().unwrap_or(0);
                let fits = ids.len() > first
                    && ids[..first].iter().all(|id| len(id) == h.k)
                    && ids[first..].iter().map(len).sum::<usize>() == seg.len();
                if !fits {
                    return Err(input_err(path, no, None, format!(
                        "the hybrid layout (k = {}, segment {}) does not match the tokenizer: {} ids for a {}-nt segment",
                        h.k, h.segment_len, ids.len(), seg.len()
                    )));
                }
                out.push((ids, first as u32));
            }
        }
    }
    let vocab = tok.vocab().len();
    if let Some(&bad) = out
        .iter()
        .flat_map(|(ids, _)| ids)
        .find(|&&id| id as usize >= vocab)
    {
        return Err(input_err(
            path,
            no,
            None,
            format!("the tokenizer produced id {bad}, outside its vocabulary (size {vocab})"),
        ));
    }
    out.retain(|(ids, _)| !ids.is_empty());
    Ok((!out.is_empty()).then_some(out))
}
