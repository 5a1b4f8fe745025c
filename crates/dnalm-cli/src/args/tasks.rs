//! Arguments of the downstream-task commands: embeddings, word vectors,
//! attention, motifs and promoters.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// The model of the embedding / attention commands.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// A pretrain run folder (its model/ or best/) or a model folder.
    #[arg(short, long)]
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
    #[arg(long, default_value = "dnalm-embed")]
    pub out_dir: PathBuf,
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
    #[arg(long, value_enum, default_value_t = VectorFormat::Both)]
    pub format: VectorFormat,
    /// Print the nearest tokens of TOKEN by cosine similarity (TSV on stdout).
    #[arg(long, value_name = "TOKEN")]
    pub neighbours: Option<String>,
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
    #[arg(long, default_value = "dnalm-attention")]
    pub out_dir: PathBuf,
    /// The first N records only.
    #[arg(long, default_value_t = 10)]
    pub max_records: usize,
}

#[derive(Debug, Args)]
pub struct MotifsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// CSV/TSV table with `sequence` and `label` (0/1) columns, plain or gzip.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    #[arg(long, default_value = "dnalm-motifs")]
    pub out_dir: PathBuf,
    /// At most N sequences of each class, sampled with --seed (0 = all).
    #[arg(long, default_value_t = 0)]
    pub max_per_class: usize,
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
      dnalm promoter data --positives hs_pos_TATA.txt.gz -o tata.csv\n\n\
      Positives: 249 bases upstream of the TSS, the TSS, 50 bases downstream (300 bp), reverse-\n\
      complemented on the - strand. TSS files: BED6 (.bed; TSS = start on +, end-1 on -) or a TSV\n\
      with a chrom, tss (0-based) and strand header. A positive with a TATA box (TATAWAW in\n\
      -40..-15) gets a random genomic window outside every promoter with a TATA box at the same\n\
      offset (+ strand); others get a synthetic negative (--non-tata: substitution = keep 8 of\n\
      20 parts, replace 12 with random bases; permutation = shuffle 12 of 20 parts). Output CSV:\n\
      sequence,label,group,kind,chrom,start,end,strand; a group holds a positive, its negative and\n\
      every positive overlapping it or with the same sequence.")]
    Data(PromoterDataArgs),
    /// Fine-tune an encoder, train CNN/RNN/LSTM/Transformer predictors on its encodings; report.
    #[command(after_help = "Examples:\n  \
      dnalm promoter train prom.csv --model run-k6/ --out-dir prom/\n  \
      dnalm promoter train gena.csv.gz --model run-k6/ --max-rows 3000 --repeats 5 --out-dir gena/\n  \
      dnalm promoter train prom_core.tsv --model run-k6/ --predictors transformer --encodings fine-tuned\n\n\
      DATA: a CSV with sequence,label (+ any columns; a group column is kept), DNABERT's k-mer TSV,\n\
      or `dnalm promoter data` output; labels 0/1, one length for all. Rows are grouped (group\n\
      column, same multiset of 20 parts, or a shared 50-mer on either strand) and split by group:\n\
      half fine-tune the encoder ([CLS] + linear head, AdamW, 6% warm-up then linear decay, batch\n\
      64, dropout from config.json), half train/test the predictors (8:2, new split per repeat).\n\
      The predictors (binary cross-entropy, Adam) read one-hot bases, the pre-trained encoder's or\n\
      the fine-tuned encoder's last hidden layer per token; the fine-tuned head and a tf-idf +\n\
      logistic baseline are scored on the same test rows. OUT gets results.tsv/.md/.json,\n\
      runs.tsv, accuracy.svg, f1.svg, mcc.svg and classifier/ (the fine-tuned model, for scan).\n\
      Published values: --epochs 3 --predictor-epochs 20 --max-rows 0 (hours on a CPU).")]
    Train(Box<PromoterTrainArgs>),
    /// Slide a window along a FASTA on both strands: promoter probability bedGraphs and BED6 calls.
    #[command(after_help = "Examples:\n  \
      dnalm promoter scan prom/classifier chr2.fa.gz --out-dir scan/\n  \
      dnalm promoter scan prom/classifier genome.fa --stride 10 --threshold 0.9 --out-dir scan/\n  \
      dnalm promoter scan prom/classifier chr2.fa.gz --truth tss.bed --out-dir scan/\n\n\
      OUT gets plus.bedGraph and minus.bedGraph (each window's P(promoter) on the stride-wide bin\n\
      around the window centre) and calls.bed (BED6, 0-based: windows >= --threshold, overlapping\n\
      ones of a strand merged; score = 1000 x the best probability; on + the TSS sits 249 nt\n\
      after a window start, on - 249 nt before a window end). Windows holding an N are skipped.\n\n\
      With --truth (TSSs as BED6 or TSV, like `promoter data --tss`; repeatable), truth.tsv (also\n\
      on stdout) counts, per truth file, the TSSs within --truth-distance of a call (either strand, and same strand), the\n\
      calls near a TSS and calls per Mb, beside the means for the same calls placed at random\n\
      (same lengths and strands, at scored window starts; --truth-rounds rounds, seeded).")]
    Scan(PromoterScanArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NonTataChoice {
    Substitution,
    Permutation,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["genome", "positives"])))]
pub struct PromoterDataArgs {
    /// Genome FASTA (plain or gzip) holding the TSS chromosomes.
    #[arg(long, requires = "tss", conflicts_with = "positives")]
    pub genome: Option<PathBuf>,
    /// TSS list: BED6 (.bed) or TSV with chrom, tss, strand header.
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
    /// Output CSV (.gz = gzip; default stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct PromoterTrainArgs {
    /// Labelled data: CSV (sequence,label,...), DNABERT k-mer TSV, or `promoter data` output.
    pub data: PathBuf,
    /// Pre-trained model: a `dnalm pretrain` run folder or a model folder.
    #[arg(long)]
    pub model: PathBuf,
    /// Tokenizer of the model (default: the run's tokenizer.dnalm.json).
    #[arg(short, long)]
    pub tokenizer: Option<PathBuf>,
    #[arg(long, default_value = "dnalm-promoter")]
    pub out_dir: PathBuf,
    /// Use at most this many rows, whole groups sampled with the seed (0 = all).
    #[arg(long, default_value_t = 2000)]
    pub max_rows: usize,
    /// Repeats of the predictor training (a new split and seed each).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Fine-tuning: passes over the fine-tuning half.
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
    /// Predictors to train (cnn, rnn, lstm, transformer).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "cnn,rnn,lstm,transformer"
    )]
    pub predictors: Vec<String>,
    /// Encodings the predictors read (one-hot, pre-trained, fine-tuned).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "one-hot,pre-trained,fine-tuned"
    )]
    pub encodings: Vec<String>,
    /// Predictors: passes over their training rows.
    #[arg(long, default_value_t = 5)]
    pub predictor_epochs: usize,
    /// Predictors: Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub predictor_lr: f64,
    /// Predictors: rows per update.
    #[arg(long, default_value_t = 64)]
    pub predictor_batch_size: usize,
    /// Predictors: hidden features.
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// k of the tf-idf + logistic baseline (0 = none).
    #[arg(long, default_value_t = 4)]
    pub tfidf_k: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct PromoterScanArgs {
    /// Classifier folder written by `dnalm promoter train` (OUT/classifier).
    pub model: PathBuf,
    /// FASTA to scan (plain or gzip).
    pub fasta: PathBuf,
    /// Tokenizer (default: the folder's tokenizer.dnalm.json).
    #[arg(short, long)]
    pub tokenizer: Option<PathBuf>,
    #[arg(long, default_value = "dnalm-promoter-scan")]
    pub out_dir: PathBuf,
    /// Window length (the classifier's training length).
    #[arg(long, default_value_t = 300)]
    pub window: usize,
    #[arg(long, default_value_t = 50)]
    pub stride: usize,
    /// Calls: windows with P(promoter) at or above this.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Tokens per input, [CLS] and [SEP] included.
    #[arg(long, default_value_t = 512)]
    pub max_len: usize,
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
