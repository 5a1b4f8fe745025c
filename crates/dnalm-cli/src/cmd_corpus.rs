//! `dnalm corpus`: genomes to windows.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dnalm_seq::{Output, Part, RecordSelector, Reservoir, SplitMode, Splitter, WindowSpec};
use tracing::info;

use crate::args::{CorpusArgs, CorpusFormat};
use crate::input;
use crate::progress;

/// One kept window, owned (for sampling).
struct Kept {
    record: usize,
    start: u64,
    end: u64,
    seq: Vec<u8>,
}

struct Sinks {
    train: Output,
    test: Option<Output>,
    format: CorpusFormat,
    names: Vec<String>,
    written: [u64; 2],
}

impl Sinks {
    fn write(&mut self, part: Part, record: usize, start: u64, end: u64, seq: &[u8]) -> Result<()> {
        let (out, slot) = match (part, self.test.as_mut()) {
            (Part::Test, Some(t)) => (t, 1),
            (Part::Dropped, _) => return Ok(()),
            _ => (&mut self.train, 0),
        };
        if self.format == CorpusFormat::Tsv {
            write!(out, "{}\t{start}\t{end}\t", self.names[record])?;
        }
        out.write_all(seq)?;
        out.write_all(b"\n")?;
        self.written[slot] += 1;
        Ok(())
    }
}

/// Returns the number of windows written (train + test).
pub fn run(a: CorpusArgs) -> Result<u64> {
    let stride = a.stride.unwrap_or(a.window);
    let spec = WindowSpec::new(a.window)
        .with_stride(if a.window == 0 { 1 } else { stride })
        .with_gaps(a.input.gaps)
        .with_min_len(a.min_len)
        .with_keep_tail(a.keep_tail);
    spec.validate()?;
    let selector = RecordSelector::new(&a.select, a.select_regex.as_deref())?;
    let splitter = match a.test_fraction {
        None => None,
        Some(f) => {
            let mode = match a.split {
                SplitMode::Position { .. } => SplitMode::Position {
                    block_len: a.block_len,
                },
                m => m,
            };
            Some(Splitter::new(mode, f, a.seed)?)
        }
    };
    let ext = match a.format {
        CorpusFormat::Lines => "txt",
        CorpusFormat::Tsv => "tsv",
    };
    let (train_out, test_out) = match (&splitter, &a.out_dir) {
        (Some(_), Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let t: PathBuf = dir.join(format!("train.{ext}"));
            let s: PathBuf = dir.join(format!("test.{ext}"));
            (Output::create(Some(&t))?, Some(Output::create(Some(&s))?))
        }
        (Some(_), None) => bail!("--test-fraction writes train and test files: give --out-dir"),
        (None, Some(_)) => bail!("--out-dir goes with --test-fraction; use -o for a single output"),
        (None, None) => (Output::create(a.output.as_deref())?, None),
    };
    let mut sinks = Sinks {
        train: train_out,
        test: test_out,
        format: a.format,
        names: Vec::new(),
        written: [0, 0],
    };
    if sinks.format == CorpusFormat::Tsv {
        for out in std::iter::once(&mut sinks.train).chain(sinks.test.as_mut()) {
            out.write_all(b"record\tstart\tend\tsequence\n")?;
        }
    }

    let pb = progress::spinner("reading");
    let mut reservoir = a.sample.map(|n| Reservoir::<Kept>::new(n as usize, a.seed));
    let (mut records, mut selected, mut bases, mut windows, mut dropped) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    input::for_each(&a.input.inputs, |path: &Path, _, item| {
        records += 1;
        if !selector.matches(&item.name) {
            return Ok(());
        }
        selected += 1;
        bases += item.seq.len() as u64;
        let rec_index = sinks.names.len();
        sinks.names.push(item.name.clone());
        let rec = dnalm_seq::Record {
            id: item.name,
            desc: None,
            seq: item.seq,
            line: item.line,
        };
        for w in spec.iter(&rec, path)? {
            windows += 1;
            match reservoir.as_mut() {
                Some(r) => r.offer_with(|| Kept {
                    record: rec_index,
                    start: w.start,
                    end: w.end,
                    seq: w.seq.to_vec(),
                }),
                None => {
                    let part = splitter
                        .as_ref()
                        .map_or(Part::Train, |s| s.assign(rec_index, w.start, w.end));
                    if part == Part::Dropped {
                        dropped += 1;
                    }
                    sinks.write(part, rec_index, w.start, w.end, w.seq)?;
                }
            }
        }
        pb.set_message(format!(
            "{selected} records, {:.1} Mb, {windows} windows",
            bases as f64 / 1e6
        ));
        Ok(())
    })?;
    if let Some(r) = reservoir {
        for k in r.into_vec() {
            let part = splitter
                .as_ref()
                .map_or(Part::Train, |s| s.assign(k.record, k.start, k.end));
            if part == Part::Dropped {
                dropped += 1;
            }
            sinks.write(part, k.record, k.start, k.end, &k.seq)?;
        }
    }
    pb.finish_and_clear();
    if selected == 0 {
        bail!("no record matched the selection ({records} records read)");
    }
    let [train, test] = sinks.written;
    if train + test == 0 {
        bail!(
            "no window was produced from {selected} records ({:.2} Mb): windows of {} nt need gap-free runs at least that long",
            bases as f64 / 1e6,
            a.window
        );
    }
    info!(
        "{selected}/{records} records, {bases} bases, {windows} windows; wrote {train}{}{}",
        if sinks.test.is_some() {
            format!(" train + {test} test")
        } else {
            String::new()
        },
        if dropped > 0 {
            format!(" ({dropped} dropped: they straddle the split)")
        } else {
            String::new()
        }
    );
    sinks.train.finish()?;
    if let Some(t) = sinks.test {
        t.finish()?;
    }
    Ok(train + test)
}
