//! Next-k-mer prediction (the hybrid paper's benchmark, after GROVER):
//! overlapping 510-nt windows of a chromosome, the first 56 nt of each
//! kept, N of them sampled; the first 50 nt are the input, the next k nt the
//! label (one of 4^k classes).
//!
//! Sampled windows overlap, so a random train/test split lets a test window
//! be read off a training window shifted by a few bases. The default split
//! is by genome position ([`SplitMode::Position`]: whole 100 kb blocks go to
//! one side, windows straddling two sides are dropped), and the report
//! always shows the n-gram baseline ([`crate::ngram`]) beside the models
//! under both splits.

use std::path::Path;

use burn::module::Module;
use dnalm_model::{BertForSequenceClassification, Device, Pooling};
use dnalm_seq::{
    FastxReader, GapPolicy, Part, RecordSelector, Reservoir, SplitMode, Splitter, WindowSpec,
};
use dnalm_tokenizers::Tokenizer;
use dnalm_train::classify::{self, ClassExample, ClassifyConfig, ClassifyStep};
use serde::Serialize;

use crate::error::{Result, TaskError};
use crate::metrics::topk_accuracy;
use crate::model::TaskModel;
use crate::ngram::{kmer_code, NgramModel};

/// How the dataset is cut from the genome.
#[derive(Debug, Clone, PartialEq)]
pub struct NextKmerSpec {
    /// Window length the windows are drawn at (510 in the paper).
    pub window: usize,
    /// Bases kept from each window's start (56).
    pub keep: usize,
    /// Input bases (50); the label is the next k.
    pub input: usize,
    /// Windows sampled (500,000 in the paper).
    pub samples: usize,
    pub seed: u64,
}

impl Default for NextKmerSpec {
    fn default() -> Self {
        Self {
            window: 510,
            keep: 56,
            input: 50,
            samples: 500_000,
            seed: 42,
        }
    }
}

/// One sampled window: its first `keep` bases and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptWindow {
    pub record: u32,
    pub start: u64,
    pub seq: Vec<u8>,
}

/// The sampled windows of a genome.
#[derive(Debug, Clone)]
pub struct NextKmerData {
    pub spec: NextKmerSpec,
    pub records: Vec<String>,
    /// In genome order.
    pub windows: Vec<KeptWindow>,
    /// Windows the sample was drawn from.
    pub candidates: u64,
}

/// Indices of the train and test windows of one split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndex {
    pub mode: String,
    pub train: Vec<usize>,
    pub test: Vec<usize>,
    /// Windows that straddle a train and a test block (position split).
    pub dropped: usize,
}

impl NextKmerData {
    /// Sample windows from the A/C/G/T runs of every selected record of a
    /// FASTA file (windows never cross an N).
    pub fn from_fasta(
        path: &Path,
        spec: &NextKmerSpec,
        select: &RecordSelector,
        mut progress: impl FnMut(u64),
    ) -> Result<NextKmerData> {
        if spec.keep < spec.input + 1 || spec.keep > spec.window || spec.samples == 0 {
            return Err(TaskError::Config(format!(
                "next-k-mer windows: need input {} < keep {} <= window {} and samples > 0",
                spec.input, spec.keep, spec.window
            )));
        }
        let reader = FastxReader::open(path)?;
        let wspec = WindowSpec::new(spec.window)
            .with_stride(1)
            .with_gaps(GapPolicy::Split);
        let mut reservoir = Reservoir::new(spec.samples, spec.seed);
        let mut records = Vec::new();
        let mut bases = 0u64;
        for rec in reader {
            let rec = rec?;
            bases += rec.seq.len() as u64;
            progress(bases);
            if !select.matches(&rec.id) {
                continue;
            }
            let r = records.len() as u32;
            records.push(rec.id.clone());
            for w in wspec.iter(&rec, path)? {
                let keep = spec.keep;
                reservoir.offer_with(|| KeptWindow {
                    record: r,
                    start: w.start,
                    seq: w.seq[..keep].to_vec(),
                });
            }
        }
        let candidates = reservoir.seen();
        let windows = reservoir.into_vec();
        if windows.is_empty() {
            return Err(TaskError::Data(format!(
                "{}: no A/C/G/T run of {} bases in the selected records: no window to sample",
                path.display(),
                spec.window
            )));
        }
        Ok(NextKmerData {
            spec: spec.clone(),
            records,
            windows,
            candidates,
        })
    }

    /// Assign the windows to train and test (by their kept bases).
    pub fn split(&self, mode: SplitMode, test_fraction: f64, seed: u64) -> Result<SplitIndex> {
        let sp = Splitter::new(mode, test_fraction, seed)?;
        let mut out = SplitIndex {
            mode: mode.to_string(),
            train: Vec::new(),
            test: Vec::new(),
            dropped: 0,
        };
        for (i, w) in self.windows.iter().enumerate() {
            match sp.assign(w.record as usize, w.start, w.start + self.spec.keep as u64) {
                Part::Train => out.train.push(i),
                Part::Test => out.test.push(i),
                Part::Dropped => out.dropped += 1,
            }
        }
        if out.train.is_empty() || out.test.is_empty() {
            return Err(TaskError::Data(format!(
                "the {mode} split left {} training and {} test windows: use more samples, a larger \
                 test fraction or a smaller block length",
                out.train.len(),
                out.test.len()
            )));
        }
        Ok(out)
    }

    /// The input bases of window `i`.
    pub fn input(&self, i: usize) -> &[u8] {
        &self.windows[i].seq[..self.spec.input]
    }

    /// The class of window `i` for k-mers of length `k`.
    pub fn label(&self, i: usize, k: usize) -> u32 {
        let s = &self.windows[i].seq[self.spec.input..self.spec.input + k];
        kmer_code(s).expect("windows hold A/C/G/T only") as u32
    }
}

/// One row of the results table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextKmerResult {
    pub split: String,
    pub k: usize,
    pub predictor: String,
    pub train: usize,
    pub test: usize,
    pub accuracy: f64,
    pub top5_accuracy: f64,
    pub chance: f64,
}

fn check_k(data: &NextKmerData, k: usize) -> Result<()> {
    if !(1..=6).contains(&k) || data.spec.input + k > data.spec.keep {
        return Err(TaskError::Config(format!(
            "k = {k}: the label must fit in the {} kept bases after {} input bases (k in 1..=6)",
            data.spec.keep, data.spec.input
        )));
    }
    Ok(())
}

/// The n-gram baseline (contexts up to `max_order` bases, backoff) fitted on
/// every position of the training windows.
pub fn ngram_result(
    data: &NextKmerData,
    split: &SplitIndex,
    k: usize,
    max_order: usize,
    min_count: u32,
) -> Result<NextKmerResult> {
    check_k(data, k)?;
    let train = split.train.iter().map(|&i| data.windows[i].seq.as_slice());
    let queries = split.test.iter().map(|&i| data.input(i));
    let model = NgramModel::fit(k, max_order, train, queries)?.with_min_count(min_count);
    let ranked: Vec<Vec<u32>> = split
        .test
        .iter()
        .map(|&i| model.predict(data.input(i), 5))
        .collect();
    let labels: Vec<u32> = split.test.iter().map(|&i| data.label(i, k)).collect();
    Ok(NextKmerResult {
        split: split.mode.clone(),
        k,
        predictor: if min_count > 1 {
            format!("{max_order}-gram (backoff below {min_count})")
        } else {
            format!("{max_order}-gram (backoff)")
        },
        train: split.train.len(),
        test: split.test.len(),
        accuracy: topk_accuracy(&ranked, &labels, 1),
        top5_accuracy: topk_accuracy(&ranked, &labels, 5),
        chance: 1.0 / 4f64.powi(k as i32),
    })
}

/// Fine-tune a pre-trained model (opened on an autodiff `device`) as a
/// 4^k-class classifier on the training windows and score the test windows.
#[allow(clippy::too_many_arguments)]
pub fn model_result(
    name: &str,
    model: TaskModel,
    data: &NextKmerData,
    split: &SplitIndex,
    k: usize,
    max_len: usize,
    cfg: &ClassifyConfig,
    device: &Device,
    on_step: &mut dyn FnMut(&ClassifyStep),
) -> Result<NextKmerResult> {
    check_k(data, k)?;
    let classes = 1usize << (2 * k);
    let examples = |idx: &[usize]| -> Result<Vec<ClassExample>> {
        idx.iter()
            .map(|&i| {
                Ok(ClassExample {
                    ids: model.frame(data.input(i), max_len)?,
                    label: data.label(i, k),
                })
            })
            .collect()
    };
    let train = examples(&split.train)?;
    let test = examples(&split.test)?;
    let pad = model.tokenizer.vocab().specials().pad;
    let config = model.pretrained.config.clone();
    let clf = BertForSequenceClassification::from_pretrained(
        model.pretrained.model,
        &config,
        classes,
        Pooling::Cls,
        cfg.seed,
        device,
    );
    let (trained, _) = classify::finetune(clf, &train, cfg, pad, device, on_step)?;
    let inference = trained.valid();
    let inner = dnalm_model::device(dnalm_model::Backend::Cpu)?;
    let probs = classify::predict(&inference, &test, 256, pad, &inner)?;
    let ranked: Vec<Vec<u32>> = probs.iter().map(|p| top_classes(p, 5)).collect();
    let labels: Vec<u32> = test.iter().map(|e| e.label).collect();
    Ok(NextKmerResult {
        split: split.mode.clone(),
        k,
        predictor: name.to_string(),
        train: train.len(),
        test: test.len(),
        accuracy: topk_accuracy(&ranked, &labels, 1),
        top5_accuracy: topk_accuracy(&ranked, &labels, 5),
        chance: 1.0 / classes as f64,
    })
}

/// The `n` best classes of a probability vector, best first (ties: smaller class).
pub fn top_classes(p: &[f32], n: usize) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..p.len() as u32).collect();
    idx.sort_by(|&a, &b| p[b as usize].total_cmp(&p[a as usize]).then(a.cmp(&b)));
    idx.truncate(n);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> NextKmerData {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.fa");
        let recs = dnalm_seq::synth::demo_genome(&dnalm_seq::synth::DemoGenome {
            records: 1,
            record_len: 300_000,
            seed: 3,
        });
        std::fs::write(&path, dnalm_seq::synth::to_fasta(&recs, 60)).unwrap();
        let spec = NextKmerSpec {
            samples: 4000,
            ..NextKmerSpec::default()
        };
        let select = RecordSelector::new(Vec::<String>::new(), None).unwrap();
        NextKmerData::from_fasta(&path, &spec, &select, |_| {}).unwrap()
    }

    #[test]
    fn windows_labels_and_splits() {
        let d = data();
        assert_eq!(d.windows.len(), 4000);
        assert!(d.candidates > 200_000, "{}", d.candidates);
        assert!(d.windows.iter().all(|w| w.seq.len() == 56));
        assert!(d.windows.windows(2).all(|w| w[0].start < w[1].start));
        let i = 7;
        assert_eq!(
            crate::ngram::kmer_of(d.label(i, 3), 3).as_bytes(),
            &d.windows[i].seq[50..53]
        );
        let pos = d
            .split(SplitMode::Position { block_len: 10_000 }, 0.2, 1)
            .unwrap();
        // No test window overlaps a training window.
        for &t in &pos.test {
            for &r in &pos.train {
                let (a, b) = (&d.windows[t], &d.windows[r]);
                assert!(a.start + 56 <= b.start || b.start + 56 <= a.start);
            }
        }
        let rnd = d.split(SplitMode::Random, 0.2, 1).unwrap();
        assert_eq!(rnd.dropped, 0);
        assert_eq!(rnd.train.len() + rnd.test.len(), 4000);
    }

    #[test]
    fn random_split_leaks_and_position_split_does_not() {
        let d = data();
        let rnd = d.split(SplitMode::Random, 0.2, 1).unwrap();
        let pos = d
            .split(SplitMode::Position { block_len: 10_000 }, 0.2, 1)
            .unwrap();
        let r = ngram_result(&d, &rnd, 4, 12, 1).unwrap();
        let p = ngram_result(&d, &pos, 4, 12, 1).unwrap();
        // 4,000 windows over 300 kb: a random test window overlaps a
        // training window often enough to be read off it.
        assert!(
            r.accuracy > p.accuracy + 0.1,
            "random {} vs position {}",
            r.accuracy,
            p.accuracy
        );
        assert!(p.accuracy > p.chance, "{} <= chance", p.accuracy);
        assert!(p.top5_accuracy >= p.accuracy);
    }
}

/// What the report says about the data.
#[derive(Debug, Clone, Serialize)]
pub struct NextKmerSummary {
    pub genome: String,
    pub records: Vec<String>,
    pub candidates: u64,
    pub sampled: usize,
    pub window: usize,
    pub keep: usize,
    pub input: usize,
    pub test_fraction: f64,
    pub splits: Vec<(String, usize, usize, usize)>,
}

/// `results.tsv`, `results.json`, `results.md` and `accuracy.svg` in `dir`,
/// each written whole (temporary file, then rename).
pub fn write_report(dir: &Path, summary: &NextKmerSummary, rows: &[NextKmerResult]) -> Result<()> {
    use std::fmt::Write as _;
    std::fs::create_dir_all(dir).map_err(|e| TaskError::io(dir, e))?;
    let write = |name: &str, text: &str| crate::report::write_file(dir, name, text.as_bytes());
    let mut tsv =
        String::from("split\tk\tpredictor\ttrain\ttest\taccuracy\ttop5_accuracy\tchance\n");
    for r in rows {
        writeln!(
            tsv,
            "{}\t{}\t{}\t{}\t{}\t{:.6}\t{:.6}\t{:.6}",
            r.split, r.k, r.predictor, r.train, r.test, r.accuracy, r.top5_accuracy, r.chance
        )
        .expect("string");
    }
    write("results.tsv", &tsv)?;
    let json = serde_json::json!({ "data": summary, "results": rows });
    write(
        "results.json",
        &serde_json::to_string_pretty(&json).expect("serialise"),
    )?;
    let mut md = String::from("# Next-k-mer prediction\n\n");
    writeln!(
        md,
        "{} overlapping {}-nt windows (stride 1) of {} ({}), {} sampled; the first {} nt of each \
         kept: input = the first {} nt, label = the next k nt (4^k classes).\n",
        summary.candidates,
        summary.window,
        summary.genome,
        summary.records.join(", "),
        summary.sampled,
        summary.keep,
        summary.input
    )
    .expect("string");
    for (mode, train, test, dropped) in &summary.splits {
        writeln!(
            md,
            "- **{mode} split**: {train} training and {test} test windows{}",
            if *dropped > 0 {
                format!(" ({dropped} dropped: they straddle a train and a test block)")
            } else {
                String::new()
            }
        )
        .expect("string");
    }
    md.push_str(
        "\nThe random split lets a test window be read off an overlapping training window; \
         only the position split (whole genome blocks on one side) measures prediction.\n\n",
    );
    md.push_str("| split | k | predictor | accuracy | top-5 accuracy | chance |\n|---|---:|---|---:|---:|---:|\n");
    for r in rows {
        writeln!(
            md,
            "| {} | {} | {} | {:.2}% | {:.2}% | {:.3}% |",
            r.split,
            r.k,
            r.predictor,
            100.0 * r.accuracy,
            100.0 * r.top5_accuracy,
            100.0 * r.chance
        )
        .expect("string");
    }
    md.push_str("\n![accuracy](accuracy.svg)\n");
    write("results.md", &md)?;
    let bars: Vec<(String, f64)> = rows
        .iter()
        .map(|r| {
            (
                format!("{} k={} {}", r.split, r.k, r.predictor),
                100.0 * r.accuracy,
            )
        })
        .collect();
    dnalm_tokenizers::plot::bar_chart_svg(
        &dir.join("accuracy.svg"),
        "next-k-mer accuracy",
        &bars,
        "test accuracy (%)",
    )?;
    Ok(())
}
