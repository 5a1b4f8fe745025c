//! Reading sequences from the command's inputs: FASTA/FASTQ through
//! `dnalm-seq`, or text with one sequence per line (a `dnalm corpus` file,
//! plain or gzip). The format is recognised from the first byte.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dnalm_seq::normalize::normalize_base;
use dnalm_seq::{acgt_runs, FastxReader, GapPolicy, Record};
use flate2::read::MultiGzDecoder;

/// One input sequence: upper case, may still hold N / IUPAC codes.
#[derive(Debug)]
pub struct SeqItem {
    pub name: String,
    pub seq: Vec<u8>,
    /// 1-based line of the header or the line itself.
    pub line: u64,
}

/// The input paths, with none meaning stdin.
pub fn paths(inputs: &[PathBuf]) -> Vec<PathBuf> {
    if inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        inputs.to_vec()
    }
}

/// A path for messages: `<stdin>` for `-`.
pub fn show_path(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if path == Path::new("-") {
        Box::new(dnalm_seq::stdin_unless_terminal()?)
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {}", path.display()))?)
    };
    let mut br = BufReader::with_capacity(1 << 20, raw);
    let head = br
        .fill_buf()
        .with_context(|| format!("cannot read {}", show_path(path)))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(br),
        )))
    } else {
        Ok(Box::new(br))
    }
}

/// Call `f` for every sequence of every input, in order; `f` gets the input
/// path and a running record index over all inputs.
pub fn for_each(
    inputs: &[PathBuf],
    mut f: impl FnMut(&Path, usize, SeqItem) -> Result<()>,
) -> Result<()> {
    let mut index = 0usize;
    for path in paths(inputs) {
        let mut reader = open(&path)?;
        let first = loop {
            let buf = reader.fill_buf().map_err(|e| gz_error(&path, e))?;
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => break Some(buf[i]),
                None if buf.is_empty() => break None,
                None => {
                    let n = buf.len();
                    reader.consume(n);
                }
            }
        };
        match first {
            None => bail!("{}: empty input: no sequences", show_path(&path)),
            Some(b'>') | Some(b'@') => {
                // From a file, let the FASTA reader open it again: it names
                // gzip faults (truncation) better than a stream can.
                let mut fx = if path == Path::new("-") {
                    FastxReader::from_reader(&show_path(&path), reader)?
                } else {
                    drop(reader);
                    FastxReader::open(&path)?
                };
                while let Some(rec) = fx.next_record() {
                    let Record { id, seq, line, .. } = rec?;
                    f(
                        &path,
                        index,
                        SeqItem {
                            name: id,
                            seq,
                            line,
                        },
                    )?;
                    index += 1;
                }
            }
            Some(_) => {
                read_lines(&path, reader, |item| {
                    f(&path, index, item)?;
                    index += 1;
                    Ok(())
                })?;
            }
        }
    }
    Ok(())
}

fn gz_error(path: &Path, e: io::Error) -> anyhow::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof || e.kind() == io::ErrorKind::InvalidInput {
        anyhow::anyhow!(
            "{}: truncated or corrupt gzip stream ({e})",
            show_path(path)
        )
    } else {
        anyhow::anyhow!("{}: read error: {e}", show_path(path))
    }
}

/// Text input: one sequence per line, or a `dnalm corpus --format tsv` table.
fn read_lines(
    path: &Path,
    mut reader: Box<dyn BufRead + Send>,
    mut f: impl FnMut(SeqItem) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut tsv = false;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| gz_error(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        if buf.is_empty() {
            continue;
        }
        if line_no == 1 && buf.starts_with(b"record\tstart\tend\tsequence") {
            tsv = true;
            continue;
        }
        let (name, seq_field, col0) = if tsv {
            let fields: Vec<&[u8]> = buf.split(|&b| b == b'\t').collect();
            if fields.len() < 4 {
                bail!(
                    "{}:{line_no}: expected 4 tab-separated fields (record, start, end, sequence), found {}",
                    show_path(path),
                    fields.len()
                );
            }
            let name = format!(
                "{}:{}-{}",
                String::from_utf8_lossy(fields[0]),
                String::from_utf8_lossy(fields[1]),
                String::from_utf8_lossy(fields[2])
            );
            let col0 = buf.len() - fields[3].len();
            (name, fields[3], col0)
        } else {
            (format!("line{line_no}"), &buf[..], 0)
        };
        let mut seq = Vec::with_capacity(seq_field.len());
        for (i, &b) in seq_field.iter().enumerate() {
            match normalize_base(b) {
                Some(up) => seq.push(up),
                None => bail!(
                    "{}:{line_no}: invalid character {} at column {} (expected A/C/G/T, N or IUPAC codes; one sequence per line)",
                    show_path(path),
                    show(b),
                    col0 + i + 1
                ),
            }
        }
        f(SeqItem {
            name,
            seq,
            line: line_no,
        })?;
    }
    Ok(())
}

fn show(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// The gap-free pieces of a sequence under a gap policy, as ranges.
pub fn pieces(path: &Path, item: &SeqItem, gaps: GapPolicy) -> Result<Vec<std::ops::Range<usize>>> {
    match gaps {
        GapPolicy::Split => Ok(acgt_runs(&item.seq)),
        GapPolicy::Drop => Ok(if item.seq.iter().all(|&b| dnalm_seq::is_acgt(b)) {
            std::iter::once(0..item.seq.len()).collect()
        } else {
            Vec::new()
        }),
        GapPolicy::Fail => match item.seq.iter().position(|&b| !dnalm_seq::is_acgt(b)) {
            None => Ok(std::iter::once(0..item.seq.len()).collect()),
            Some(pos) => bail!(
                "{}:{}: record {:?}: {:?} at position {pos} (not A/C/G/T); use --gaps split or --gaps drop",
                show_path(path),
                item.line,
                item.name,
                char::from(item.seq[pos])
            ),
        },
    }
}
