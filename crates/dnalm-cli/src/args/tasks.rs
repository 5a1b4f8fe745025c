//! Arguments of the downstream-task commands: embeddings, word vectors,
//! attention, motifs and promoters.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

/// The model of the embedding / attention commands.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// A pretrain run folder (its model/ or best/) or a model folder.
    #[arg(short, long, value_name = "DIR")]
    pub model: PathBuf,
    /// Tokenizer (default: the run's tokenizer.dnalm.json beside the model).
    #[arg(short, long)]
    pub tokenizer: Option<PathBuf>,
    /// Sequences per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolingChoice {
    Cls,
    Mean,
    Max,
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// FASTA/FASTQ, one sequence per line, or a CSV/TSV table with a `sequence` column.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output folder: embeddings.npy, ids.tsv, results.tsv / .md and a plot.
    #[arg(long, default_value = "dnalm-embed")]
    pub out_dir: PathBuf,
    /// How a chunk's token states become one vector: [CLS] state, mean or max over tokens.
    #[arg(long, value_enum, default_value_t = PoolingChoice::Mean)]
    pub pooling: PoolingChoice,
    /// Hidden state: 0 = embeddings, N = layer N (default: the last).
    #[arg(long)]
    pub layer: Option<usize>,
    /// Tokens per chunk, [CLS] and [SEP] included (capped by the model's positions).
    #[arg(long, default_value_t = 512)]
    pub max_len: usize,
    /// Bases shared by consecutive chunks of a long sequence.
    #[arg(long, default_value_t = 64)]
    pub overlap: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VectorFormat {
    Word2vec,
    Npy,
    Both,
}

#[derive(Debug, Args)]
pub struct VectorsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Write the matrix (and neighbour / contextual files) here.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Matrix files: word2vec (vectors.txt), npy (vectors.npy) or both.
    #[arg(long, value_enum, default_value_t = VectorFormat::Both)]
    pub format: VectorFormat,
    /// Print the nearest tokens of TOKEN by cosine similarity (TSV on stdout).
    #[arg(long, value_name = "TOKEN")]
    pub neighbours: Option<String>,
    /// Neighbours printed by --neighbours.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Contextual vectors of the tokens of these sequences (FASTA or one per line; needs --out-dir).
    #[arg(long, value_name = "INPUT")]
    pub contextual: Option<PathBuf>,
    /// Hidden state of the contextual vectors: 0 = embeddings (default: the last layer).
    #[arg(long)]
    pub layer: Option<usize>,
}

#[derive(Debug, Args)]
pub struct AttentionArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// FASTA/FASTQ or one sequence per line (A/C/G/T; N is an error here).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output folder: seqI.npy / .json / .html / .svg per record, results.tsv and results.md.
    #[arg(long, default_value = "dnalm-attention")]
    pub out_dir: PathBuf,
    /// The first N records only. Each writes about 11 bytes per weight
    /// (layers x heads x tokens x tokens: the .npy and the HTML page), e.g.
    /// ~230 MB for a 300-nt promoter in a 12-layer, 12-head model.
    #[arg(long, default_value_t = 1)]
    pub max_records: usize,
}

#[derive(Debug, Args)]
pub struct MotifsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// CSV/TSV table with `sequence` and `label` (0/1) columns, plain or gzip.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// Output folder for the motif tables, plots and the tf-idf check.
    #[arg(long, default_value = "dnalm-motifs")]
    pub out_dir: PathBuf,
    /// At most N sequences of each class, sampled with --seed (0 = all).
    #[arg(long, default_value_t = 0)]
    pub max_per_class: usize,
    /// Seed of the --max-per-class sample.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Shortest high-attention region, in bases.
    #[arg(long, default_value_t = 5)]
    pub min_len: usize,
    /// Motif length.
    #[arg(long, default_value_t = 6)]
    pub motif_k: usize,
    /// High-attention regions a motif must appear in to be tested.
    #[arg(long, default_value_t = 3)]
    pub min_hits: usize,
    /// Benjamini-Hochberg q threshold.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Motifs in the Markdown table and the plot.
    #[arg(long, default_value_t = 30)]
    pub top: usize,
}

#[derive(Debug, Subcommand)]
pub enum PromoterCommand {
    /// Build a promoter data CSV from a genome + TSS list, or from positives alone.
    #[command(after_help = "Examples:\n  \
      dnalm promoter data --genome hg38.fa.gz --tss epdnew.bed -o prom.csv\n  \
      dnalm promoter data --genome chr2.fa --tss tss.tsv --non-tata permutation --seed 7 -o prom.csv\n  \
      dnalm promoter data --genome hg38.fa.gz --tss epdnew.bed --genomic-negatives 2 --gc-match -o scan-train.csv\n  \
      dnalm promoter data --positives hs_pos_TATA.txt.gz -o tata.csv\n  \
      dnalm promoter data --positives gena.csv.gz --non-tata permutation --genome chr2.fa.gz --tss tss.bed \\\n    \
      --genomic-negatives 2 -o scan-train.csv\n\n\
      Positives: 249 bases upstream of the TSS, the TSS, 50 bases downstream (300 bp), reverse-\n\
      complemented on the - strand. TSS files: BED6 (.bed; TSS = start on +, end-1 on -) or a TSV\n\
      with a chrom, tss (0-based) and strand header. A positive with a TATA box (TATAWAW in\n\
      -40..-15) gets a random genomic window outside every promoter with a TATA box at the same\n\
      offset (+ strand); others get a synthetic negative (--non-tata: substitution = keep 8 of\n\
      20 parts, replace 12 with random bases; permutation = shuffle 12 of 20 parts).\n\
      --genomic-negatives N adds N random genomic windows per positive (kind genomic), both\n\
      strands, at least --tss-margin bases from every TSS, GC-matched with --gc-match; with\n\
      --positives they come from every record of --genome, away from the TSSs of --tss if given.\n\
      Output CSV:\n\
      sequence,label,group,kind,chrom,start,end,strand; a group holds a positive, its negative and\n\
      every positive overlapping it or with the same sequence.")]
    Data(PromoterDataArgs),
    /// Train promoter predictors (position-aware and pooled) with early stopping; report and save them.
    #[command(after_help = "Examples:\n  \
      dnalm promoter train --train gena_prom300.csv.gz --out-dir prom/\n  \
      dnalm promoter train --train train.csv --valid dev.csv --test test.csv --out-dir gue/\n  \
      dnalm promoter train --train prom.csv --model run-k6/ --encodings one-hot,fine-tuned --out-dir prom-k6/\n  \
      dnalm promoter predict -m prom/best new.fa -o preds.tsv\n\n\
      DATA: a CSV with sequence,label (+ any columns; a group column is kept), DNABERT's k-mer TSV,\n\
      or `dnalm promoter data` output; labels 0/1, one length for all files. Rows are grouped (group\n\
      column, same multiset of 20 parts, or a shared 50-mer on either strand). Without --test and\n\
      --valid, whole groups are held out (--test-fraction, --valid-fraction), so no test row shares a\n\
      50-mer with a training row.\n\n\
      Predictors: deepromoter (parallel convolutions of widths 27/14/7, max-pool 6, bidirectional\n\
      LSTM, dense layer over positions) and cnn-dense (3 convolutions with batch norm and max-pool 2,\n\
      dense layer over positions) see where a motif sits; cnn, rnn, lstm, transformer pool over\n\
      positions. All train with AdamW and binary cross-entropy, stop early on validation AUROC, keep the\n\
      best epoch, and take the threshold that maximises validation MCC. A tf-idf + logistic baseline\n\
      runs beside them. With --model, --finetune-fraction of the training groups fine-tune the encoder\n\
      (DNABERT-Prom: [CLS] + linear head, AdamW, warm-up then linear decay) and the predictors can read\n\
      its pre-trained or fine-tuned states per token.\n\n\
      OUT gets results.md/.tsv/.json (test metrics at the chosen threshold and at 0.5, AUROC, AUPRC,\n\
      bootstrap 95% intervals), runs.tsv, curves.tsv (every epoch), accuracy/f1/mcc.svg,\n\
      predictors/NAME/ (every trained predictor: predictor.json + model.safetensors), best/ (the one\n\
      with the best validation AUROC) and, with --model, classifier/ (the fine-tuned encoder + head).")]
    Train(Box<PromoterTrainArgs>),
    /// Slide a window along a FASTA on both strands: promoter probability bedGraphs and BED6 calls.
    #[command(after_help = "Examples:\n  \
      dnalm promoter scan -m prom/best chr2.fa.gz --out-dir scan/\n  \
      dnalm promoter scan -m prom/best genome.fa --stride 10 --threshold 0.9 --out-dir scan/\n  \
      dnalm promoter scan -m prom/best chr2.fa.gz --truth tss.bed --max-calls-per-mb 50 --out-dir scan/\n  \
      dnalm promoter scan -m prom/best hg38.fa.gz --region chr2:1,000,001-2,000,000 --out-dir scan/\n\n\
      OUT gets plus.bedGraph and minus.bedGraph (each window's P(promoter) on the stride-wide bin\n\
      around the window centre) and calls.bed (BED6, 0-based: windows >= --threshold, overlapping\n\
      ones of a strand merged; score = 1000 x the best probability; on + the TSS sits 249 nt\n\
      after a window start, on - 249 nt before a window end). Windows holding an N are skipped.\n\n\
      With --truth (TSSs as BED6 or TSV, like `promoter data --tss`; repeatable), truth.tsv (also\n\
      on stdout) counts, per truth file, the TSSs within --truth-distance of a call (either strand, and same strand), the\n\
      calls near a TSS and calls per Mb, beside the means for the same calls placed at random\n\
      (same lengths and strands, at scored window starts; --truth-rounds rounds, seeded), and\n\
      pr.tsv / pr.svg the precision (calls near a TSS) and TSS recall of the best k calls at the\n\
      threshold, for every k, with the calls per Mb each k means.")]
    Scan(PromoterScanArgs),
    /// Score sequences with a saved predictor or classifier: a TSV of probabilities and calls.
    #[command(after_help = "Examples:\n  \
      dnalm promoter predict -m prom/best candidates.fa -o preds.tsv\n  \
      dnalm promoter predict -m prom/predictors/one-hot-cnn-dense test.csv --threshold 0.5\n  \
      dnalm promoter predict -m prom-k6/classifier test.csv -o preds.tsv\n\n\
      Output (TSV with a header, one row per input record in input order): name (record name, or\n\
      the row number), probability (of a promoter), prediction (1 at or above the threshold saved\n\
      with the model, else 0) and, when the input has labels, label. Every sequence must have the\n\
      model's training length.")]
    Predict(PromoterPredictArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NonTataChoice {
    Substitution,
    Permutation,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).multiple(true).args(["genome", "positives"])))]
pub struct PromoterDataArgs {
    /// Genome FASTA (plain or gzip) holding the TSS chromosomes; with --positives, where
    /// --genomic-negatives are drawn.
    #[arg(long)]
    pub genome: Option<PathBuf>,
    /// TSS list: BED6 (.bed) or TSV with chrom, tss, strand header; with --positives, the TSSs
    /// genomic negatives keep away from.
    #[arg(long, requires = "genome")]
    pub tss: Option<PathBuf>,
    /// Positives only (one sequence per line, or any labelled file's label-1 rows): synthetic negatives.
    #[arg(long)]
    pub positives: Option<PathBuf>,
    /// How negatives of non-TATA positives (and of --positives) are made.
    #[arg(long, value_enum, default_value_t = NonTataChoice::Substitution)]
    pub non_tata: NonTataChoice,
    /// Synthetic negatives for TATA positives too (no genomic TATA windows).
    #[arg(long)]
    pub no_tata_negatives: bool,
    /// With --genome: also N random genomic windows per positive (either strand, away from every
    /// TSS), so a model learns "promoter or genome" for scans.
    #[arg(long, default_value_t = 0, requires = "genome", value_name = "N")]
    pub genomic_negatives: usize,
    /// Genomic negatives keep at least this many bases from every TSS.
    #[arg(long, default_value_t = 1000)]
    pub tss_margin: u64,
    /// Genomic negatives match their positive's GC content (within 0.05).
    #[arg(long)]
    pub gc_match: bool,
    /// Output CSV (.gz = gzip; default stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Seed of the negatives: genomic windows, substitutions and permutations.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("training").required(true).args(["data", "train"])))]
pub struct PromoterTrainArgs {
    /// Labelled data (same as --train): CSV (sequence,label,...), DNABERT k-mer TSV, or `promoter data` output.
    #[arg(conflicts_with = "train")]
    pub data: Option<PathBuf>,
    /// Training set (any labelled format); without --test/--valid, parts of it are held out by group.
    #[arg(long, value_name = "FILE")]
    pub train: Option<PathBuf>,
    /// Validation set: early stopping and the decision threshold (default: a group-split share of the training set).
    #[arg(long, value_name = "FILE")]
    pub valid: Option<PathBuf>,
    /// Test set (default: a group-split share of the training set).
    #[arg(long, value_name = "FILE")]
    pub test: Option<PathBuf>,
    /// Pre-trained encoder (a `dnalm pretrain` run or model folder): adds the DNABERT-Prom
    /// protocol (fine-tuning, encoder encodings). Without it, predictors read one-hot bases.
    #[arg(short, long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Tokenizer of the model (default: the run's tokenizer.dnalm.json).
    #[arg(short, long, requires = "model")]
    pub tokenizer: Option<PathBuf>,
    /// Output folder: report, predictors/NAME/, best/, classifier/ (with --model).
    #[arg(short, long, default_value = "dnalm-promoter")]
    pub out_dir: PathBuf,
    /// Use at most this many training rows, whole groups sampled with the seed (0 = all).
    #[arg(long, default_value_t = 0)]
    pub max_rows: usize,
    /// Without --test: share of the groups held out for testing.
    #[arg(long, default_value_t = 0.1)]
    pub test_fraction: f64,
    /// Without --valid: share of the training groups held out for validation.
    #[arg(long, default_value_t = 0.1)]
    pub valid_fraction: f64,
    /// With --model: share of the training groups that fine-tune the encoder.
    #[arg(long, default_value_t = 0.5)]
    pub finetune_fraction: f64,
    /// Trainings of each predictor with a new seed (same split); the best on validation is saved.
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
    /// Fine-tuning: passes over the fine-tuning rows.
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    /// Fine-tuning: sequences per update (DNABERT: 64).
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Fine-tuning: peak learning rate (DNABERT: 2e-4 for k = 3, 5, 6).
    #[arg(long, default_value_t = 2e-4)]
    pub lr: f64,
    /// Fine-tuning: share of updates spent warming up.
    #[arg(long, default_value_t = 0.06)]
    pub warmup_ratio: f64,
    /// Tokens per input, [CLS] and [SEP] included.
    #[arg(long, default_value_t = 512)]
    pub max_len: usize,
    /// Predictors to train: deepromoter, cnn-dense (position-aware); cnn, rnn, lstm, transformer (pooled).
    #[arg(long, value_delimiter = ',', default_value = "deepromoter,cnn-dense")]
    pub predictors: Vec<String>,
    /// Encodings the predictors read: one-hot; with --model also pre-trained, fine-tuned
    /// (default: one-hot, plus fine-tuned with --model).
    #[arg(long, value_delimiter = ',')]
    pub encodings: Vec<String>,
    /// Predictors: most passes over their training rows (the learning rate decays over them;
    /// early stopping may end sooner).
    #[arg(long, default_value_t = 8)]
    pub predictor_epochs: usize,
    /// Predictors: stop after this many epochs without a better validation AUROC (0 = never).
    #[arg(long, default_value_t = 2)]
    pub patience: usize,
    /// Predictors: AdamW peak learning rate (cosine decay to 5% of it over --predictor-epochs).
    #[arg(long, default_value_t = 1e-3)]
    pub predictor_lr: f64,
    /// Predictors: AdamW weight decay.
    #[arg(long, default_value_t = 1e-2)]
    pub weight_decay: f64,
    /// Predictors: rows per update.
    #[arg(long, default_value_t = 64)]
    pub predictor_batch_size: usize,
    /// Predictors: hidden features (pooled kinds; LSTM width per direction of deepromoter).
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// Position-aware predictors: convolution filters (per width / per layer).
    #[arg(long, default_value_t = 32)]
    pub filters: usize,
    /// Position-aware predictors: features of the dense layer over positions.
    #[arg(long, default_value_t = 128)]
    pub dense: usize,
    /// Position-aware predictors and the Transformer: dropout.
    #[arg(long, default_value_t = 0.2)]
    pub dropout: f64,
    /// k of the tf-idf + logistic baseline (0 = none).
    #[arg(long, default_value_t = 4)]
    pub tfidf_k: usize,
    /// Bootstrap resamples of the test rows for the 95 % intervals.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the split, row sampling, weights, batch order, dropout and bootstrap.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

fn parse_region(s: &str) -> Result<dnalm_tasks::promoter::scan::Region, String> {
    s.parse()
}

#[derive(Debug, Args)]
pub struct PromoterPredictArgs {
    /// A saved predictor (OUT/predictors/NAME, OUT/best) or classifier folder (OUT/classifier).
    #[arg(
        short,
        long,
        value_name = "DIR",
        required_unless_present = "legacy_input"
    )]
    model: Option<PathBuf>,
    // In the older spelling `predict MODEL INPUT` this holds the model.
    /// Sequences: CSV/TSV with a sequence column (a label column is kept), FASTA/FASTQ, or one per line.
    #[arg(value_name = "INPUT")]
    first: PathBuf,
    /// The sequences when the model is given positionally (the older spelling of --model).
    #[arg(value_name = "INPUT", hide = true, conflicts_with = "model")]
    legacy_input: Option<PathBuf>,
    /// Output TSV: name, probability, prediction (at the saved threshold), label (if the input has one).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Tokenizer (encoders only; default: the saved one).
    #[arg(short, long)]
    pub tokenizer: Option<PathBuf>,
    /// Decision threshold (default: the one saved with the model, chosen on validation).
    #[arg(long)]
    pub threshold: Option<f64>,
}

#[derive(Debug, Args)]
pub struct PromoterScanArgs {
    /// A saved predictor (OUT/best, OUT/predictors/NAME) or classifier folder (OUT/classifier).
    #[arg(
        short,
        long,
        value_name = "DIR",
        required_unless_present = "legacy_fasta"
    )]
    model: Option<PathBuf>,
    // In the older spelling `scan MODEL FASTA` this holds the model.
    /// FASTA to scan (plain or gzip).
    #[arg(value_name = "FASTA")]
    first: PathBuf,
    /// The FASTA when the model is given positionally (the older spelling of --model).
    #[arg(value_name = "FASTA", hide = true, conflicts_with = "model")]
    legacy_fasta: Option<PathBuf>,
    /// Tokenizer (default: the folder's tokenizer.dnalm.json).
    #[arg(short, long)]
    pub tokenizer: Option<PathBuf>,
    /// Output folder: plus.bedGraph, minus.bedGraph, calls.bed (and the --truth tables).
    #[arg(long, default_value = "dnalm-promoter-scan")]
    pub out_dir: PathBuf,
    /// Window length (default: the model's training length; 300 for an older classifier folder).
    #[arg(long)]
    pub window: Option<usize>,
    /// Step between window starts in nt (the bedGraph bin width).
    #[arg(long, default_value_t = 50)]
    pub stride: usize,
    /// Calls: windows with P(promoter) at or above this (default: the model's saved threshold).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Calls: keep at most this many calls per Mb scanned, the best first (0 = all above the threshold).
    #[arg(long, default_value_t = 0.0)]
    pub max_calls_per_mb: f64,
    /// Windows scored per batch.
    #[arg(long, default_value_t = 512)]
    pub batch_size: usize,
    /// Scan only this part of one record: NAME:START-END (1-based, inclusive) or NAME; output
    /// keeps the record's coordinates.
    #[arg(long, value_parser = parse_region)]
    pub region: Option<dnalm_tasks::promoter::scan::Region>,
    /// Encoders: tokens per input, [CLS] and [SEP] included (default: the model's, saved by `train`).
    #[arg(long)]
    pub max_len: Option<usize>,
    /// Known TSSs (BED6 or TSV with chrom, tss, strand) to compare the calls with (repeatable).
    #[arg(long, value_name = "TSS")]
    pub truth: Vec<PathBuf>,
    /// --truth: a TSS this close to a call (nt) counts as found.
    #[arg(long, default_value_t = 250)]
    pub truth_distance: u64,
    /// --truth: rounds of random call placement for the baseline.
    #[arg(long, default_value_t = 1000)]
    pub truth_rounds: usize,
    /// --truth: seed of the random placement.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `MODEL INPUT` (the older spelling) or `-m MODEL INPUT`: with the model
/// positional, the first positional is the model and the second the input.
fn model_and_input<'a>(
    flag: &'a Option<PathBuf>,
    first: &'a Path,
    legacy_second: &'a Option<PathBuf>,
) -> (&'a Path, &'a Path) {
    match (flag, legacy_second) {
        (Some(model), _) => (model, first),
        (None, Some(second)) => (first, second),
        (None, None) => unreachable!("clap requires -m/--model or MODEL INPUT"),
    }
}

impl PromoterPredictArgs {
    /// The saved predictor or classifier folder.
    pub fn model(&self) -> &Path {
        model_and_input(&self.model, &self.first, &self.legacy_input).0
    }

    /// The sequences to score.
    pub fn input(&self) -> &Path {
        model_and_input(&self.model, &self.first, &self.legacy_input).1
    }
}

impl PromoterScanArgs {
    /// The saved predictor or classifier folder.
    pub fn model(&self) -> &Path {
        model_and_input(&self.model, &self.first, &self.legacy_fasta).0
    }

    /// The FASTA to scan.
    pub fn fasta(&self) -> &Path {
        model_and_input(&self.model, &self.first, &self.legacy_fasta).1
    }
}
