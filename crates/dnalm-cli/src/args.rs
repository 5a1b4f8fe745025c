//! Command-line arguments (clap derive), with examples in every `--help`.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use dnalm_seq::{GapPolicy, SplitMode};

mod tasks;
pub use tasks::*;
pub mod book;
pub mod book_eval;
pub mod book_write;
pub use book::{BookArgs, BookCommand, BookTrainArgs};

#[derive(Debug, Parser)]
#[command(
    name = "dnalm",
    version,
    about = "DNA as a language: tokenize genomes (k-mer, BPE, hybrid, variable k-mer) and study the tokens",
    after_help = "Examples:\n  \
      dnalm quickstart                               # demo genome -> corpus -> BPE-600 -> hybrid -> report\n  \
      dnalm corpus genome.fa.gz --window 305 -o segments.txt\n  \
      dnalm tokenizer train --kind bpe --merges 600 segments.txt -o bpe600.json\n  \
      dnalm tokenizer encode -t bpe600.json segments.txt -o ids.txt\n  \
      dnalm tokenizer export -t bpe600.json --out-dir hf/\n\n\
      Inputs are FASTA/FASTQ (plain or gzip/bgzip), or text with one sequence per line; '-' or none is stdin."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Only warnings and errors on stderr; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More detail on stderr (-vv for even more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, global = true, value_name = "N", value_parser = clap::value_parser!(usize))]
    pub threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cut genomes into windows: A/C/G/T only, coordinates kept, sampling and train/test splits.
    #[command(after_help = "Examples:\n  \
      dnalm corpus hg38.fa.gz --select-regex 'chr([1-9]|1[0-9]|2[0-2])' --window 305 -o segments.txt\n  \
      dnalm corpus chr21.fa --window 510 --stride 1 --sample 500000 --seed 1 --format tsv -o windows.tsv\n  \
      dnalm corpus genome.fa --window 305 --test-fraction 0.2 --split position --out-dir corpus/\n\n\
      Windows never cross an N/IUPAC gap (--gaps split, the default); --gaps drop drops windows\n\
      holding one; --gaps fail stops at the first. Lower-case (soft-masked) bases are upper-cased.")]
    Corpus(CorpusArgs),
    /// Train, apply, inspect and export tokenizers.
    #[command(after_help = "Examples:\n  \
      dnalm tokenizer train --kind bpe --merges 600 segments.txt -o bpe600.json\n  \
      dnalm tokenizer encode -t bpe600.json segments.txt -o ids.txt\n  \
      dnalm tokenizer decode -t bpe600.json ids.txt\n  \
      dnalm tokenizer stats -t bpe600.json segments.txt --out-dir stats/\n  \
      dnalm tokenizer export -t bpe600.json --out-dir hf/")]
    Tokenizer {
        #[command(subcommand)]
        command: TokenizerCommand,
    },
    /// tf-idf of k-mers over documents (one document per sequence); top-N table and bar chart.
    #[command(after_help = "Examples:\n  \
      dnalm tfidf promoters.txt --k 6 --top 100 --out-dir tfidf/\n\n\
      tf(t,d) = f(t,d) / sum f(t',d); idf(t) = ln((1+n)/(1+df(t))) + 1; each document's vector\n\
      is L2-normalised; k-mers are ranked by the sum of their normalised weights over documents.")]
    Tfidf(TfidfArgs),
    /// Next-k-mer prediction: windows of a chromosome, the n-gram baseline and fine-tuned models.
    #[command(after_help = "Examples:\n  \
      dnalm nextkmer chr21.fa.gz --k 3,4,5 --out-dir nextkmer/            # n-gram baselines only\n  \
      dnalm nextkmer chr21.fa.gz --k 3,4,5 --model hybrid=run-hybrid/ --model bpe=run-bpe/ \\\n      \
      --samples 50000 --out-dir nextkmer/\n\n\
      Overlapping 510-nt windows (stride 1, never across an N) are sampled (--samples, seeded) and\n\
      their first 56 nt kept: the first 50 nt are the input, the next k nt the label (4^k classes).\n\
      Sampled windows overlap, so a random train/test split lets test windows be read off training\n\
      windows: --split position (default) sends whole genome blocks (--block-len) to one side;\n\
      --split both also reports the random split. A validation part (--valid-fraction) is cut\n\
      from the training side; the test windows choose nothing. Every table has chance and the\n\
      n-gram with the context length (up to --ngram-order) and smoothing that do best on the\n\
      validation windows. Each --model NAME=DIR (a `dnalm pretrain` run or model folder with its\n\
      tokenizer) is fine-tuned once as a 4^kmax-class classifier on [CLS] (shorter k: sums of its\n\
      probabilities) for up to --epochs epochs on all training windows, keeping the epoch with\n\
      the lowest validation loss, beside its controls: the same architecture from random\n\
      weights and a small CNN on one-hot bases (--no-controls skips them). Rows give accuracy,\n\
      top-5 accuracy, bits per base, training windows, epochs, time and tokens/s.\n\
      OUT gets results.tsv, results.json, results.md, accuracy.svg and bits.svg.")]
    Nextkmer(Box<NextkmerArgs>),
    /// Run the whole pipeline on a seeded demonstration genome and write a report.
    #[command(
        after_help = "Example:\n  dnalm quickstart --out-dir dnalm-quickstart\n\n\
      Generates a demonstration genome (or uses --genome), builds the 305-nt corpus, trains BPE-600,\n\
      builds the hybrid 6-mer + BPE vocabulary, computes token statistics, plots and tf-idf,\n\
      pre-trains the tiny hybrid BERT (--pretrain-steps, a few minutes on 2 cores) and writes\n\
      report.md with the loss curve in the output folder."
    )]
    Quickstart(QuickstartArgs),
    /// Pre-train a BERT masked-LM (optionally + LSTM) on a tokenized corpus, with checkpoints and resume.
    #[command(after_help = "Examples:\n  \
      dnalm corpus hg38_chr2.fa.gz --window 305 -o segments.txt\n  \
      dnalm tokenizer train --kind hybrid --merges 600 segments.txt -o hybrid.json\n  \
      dnalm pretrain -t hybrid.json segments.txt --preset cpu --time-budget 30m --out-dir run/\n      \
      # 30 minutes on 2 cores: schedule fitted to the budget, best model in run/model\n  \
      dnalm pretrain -t hybrid.json segments.txt --preset tiny --max-steps 1200 --warmup-steps 100 \\\n      \
      --grad-accum 1 --lr 1e-3 --out-dir run/      # about 15 minutes on 2 cores\n  \
      dnalm pretrain -t hybrid.json segments.txt --out-dir run/ --resume      # continue after a stop\n  \
      dnalm pretrain --print-config > run.toml      # every field documented; edit, then:\n  dnalm pretrain -t dnabert6.json --config run.toml seq.txt --out-dir run/\n\n\
      INPUT is the sequence file `dnalm corpus` writes (one sequence per line, or its TSV); it is\n\
      tokenized once into OUT/data/train.tok (memory-mapped). Masking follows the tokenizer: DNABERT\n\
      spans for overlapping k-mers (centre probability 0.025, ~14% masked), spans on the 6-mers +\n\
      15% random on BPE for hybrid, 15% random otherwise; the effective fraction is logged.\n\
      The defaults are the published run (20,000 updates of 16 x 25 sequences: days on a CPU); after\n\
      its first updates a run says how long it will take, and warns past 3 hours. --time-budget\n\
      stops at a wall time; without --max-steps it sets the schedule (warm-up + decay), ~12\n\
      evaluations and --patience 3 from the measured time per update (logged), and a budget too\n\
      short for one more update and evaluation is an error. --preset cpu brings its own batch\n\
      (16, no accumulation), lr 1e-3 and warm-up 100.\n\
      OUT gets run.toml, config.json, tokenizer.json, metrics.jsonl, curve.tsv (step, seconds, train\n\
      and held-out loss), loss.svg, summary.json (why it stopped), checkpoints/step-N/,\n\
      best/ and model/ (the best checkpoint, loaded at the end). Every random choice is keyed by\n\
      (seed, step): a run stopped at any point (even by SIGKILL) and resumed ends bit-identical.")]
    Pretrain(Box<PretrainArgs>),
    /// Export a trained model to Hugging Face files: config.json, model.safetensors, tokenizer files.
    #[command(
        name = "export-hf",
        after_help = "Examples:\n  \
      dnalm export-hf -m run/ --out-dir hf-model/\n  \
      dnalm export-hf -m run/checkpoints/step-000500 --out-dir hf-500/ --sample 4\n  \
      dnalm export-hf -m prom/classifier --out-dir hf-prom/     # BertForSequenceClassification\n\n\
      --model is a pretrain folder (its model/, else best/), a checkpoint folder or a model folder.\n\
      The result loads with transformers' BertForMaskedLM.from_pretrained(dir) (LSTM models\n\
      excepted: transformers' BERT has no LSTM). A fine-tuned classifier (`promoter train\n\
      --model`'s classifier/) loads with BertForSequenceClassification, pooler and classifier\n\
      weights included, and gives dnalm's probabilities. --sample N also writes\n\
      dnalm_sample.safetensors with N random inputs and dnalm's logits, for\n\
      scripts/hf_load_check.py."
    )]
    ExportHf(ExportHfArgs),
    /// Show a model, checkpoint or run folder: config, parameter count, tensors, training state.
    #[command(after_help = "Examples:\n  \
      dnalm inspect -m run/\n  \
      dnalm inspect -m run/checkpoints/step-000500 -v      # every tensor with its shape\n  \
      dnalm inspect -m hf-model/model.safetensors")]
    Inspect(InspectArgs),
    /// Sequence vectors ([CLS], mean or max pooling, any layer) for every record, to .npy with ids.tsv.
    #[command(after_help = "Examples:\n  \
      dnalm embed -m run-k6/ promoters.fa --out-dir emb/\n  \
      dnalm embed -m run-k6/ prom.csv.gz --pooling cls --layer 1 --out-dir emb-cls/\n\n\
      INPUT is FASTA/FASTQ, text with one sequence per line, or a CSV/TSV table with a `sequence`\n\
      column (and an optional 0/1 `label` column: the report then compares classes). Sequences are\n\
      split at N; pieces longer than the model's window are cut into chunks of at most --max-len\n\
      tokens sharing --overlap bases (capped at half a chunk); each chunk is framed [CLS] .. [SEP]\n\
      and pooled (mean and max over every token of the frame), and the chunk vectors are averaged.\n\
      ids.tsv records the chunks per sequence. The model runs without dropout: same input, same bytes.")]
    Embed(EmbedArgs),
    /// Word vectors (DNAVec): the input-embedding matrix as word2vec text / .npy, nearest neighbours.
    #[command(after_help = "Examples:\n  \
      dnalm vectors -m run-k6/ --out-dir vec/                        # vectors.txt, vectors.npy, ids.tsv\n  \
      dnalm vectors -m run-k6/ --neighbours TATAAA --top 10          # TSV on stdout\n  \
      dnalm vectors -m run-k6/ --contextual seqs.fa --out-dir ctx/   # hidden states per token\n\n\
      Row i of the matrix is token id i (ids.tsv). Neighbours are ranked by cosine similarity of\n\
      the input embeddings, special tokens left out.")]
    Vectors(VectorsArgs),
    /// Attention of every layer and head for sequences: .npy + JSON, an HTML viewer and SVG heat maps.
    #[command(after_help = "Examples:\n  \
      dnalm attention -m run-k6/ tata.txt --max-records 3 --out-dir att/\n\n\
      For record i: seqI.npy ([layers, heads, tokens, tokens], query then key), seqI.json (tokens,\n\
      their base spans, [CLS] attention per base), seqI.html (self-contained: heat map per layer and\n\
      head, token view), seqI.layerN.svg (mean of heads) and seqI.cls.svg; results.tsv/.md list the\n\
      most attended token and 10-base window of each. Each sequence must fit the model's positions.")]
    Attention(AttentionArgs),
    /// DNABERT's attention motif analysis on a labelled set, and the tf-idf vs attention check.
    #[command(after_help = "Examples:\n  \
      dnalm motifs -m run-k6/ prom300.csv.gz --max-per-class 2000 --out-dir motifs/\n\n\
      INPUT is a CSV/TSV table with `sequence` and `label` (0/1) columns. Per sequence: the last\n\
      layer's [CLS]-to-token attention summed over heads, spread to bases (a base gets the mean of\n\
      the tokens covering it). High-attention regions of the positives (score > mean and > 10x the\n\
      minimum, length >= --min-len); their --motif-k-mers seen in >= --min-hits regions are tested\n\
      for enrichment in positives vs negatives (hypergeometric, Benjamini-Hochberg). Sequences\n\
      holding N are left out (counted). The tf-idf check correlates (Spearman) each token's tf-idf\n\
      with the attention it receives.")]
    Motifs(MotifsArgs),
    /// Promoter prediction: build data, train predictors (one-hot or an encoder), predict, scan a genome.
    #[command(after_help = "Examples:\n  \
      dnalm promoter data --genome hg38.fa.gz --tss epdnew.bed -o prom.csv\n  \
      dnalm promoter data --positives hs_pos_TATA.txt --non-tata permutation -o tata.csv\n  \
      dnalm promoter train --train prom.csv --out-dir prom/\n  \
      dnalm promoter predict -m prom/best new.fa -o preds.tsv\n  \
      dnalm promoter scan -m prom/best chr2.fa.gz --out-dir scan/")]
    Promoter {
        #[command(subcommand)]
        command: PromoterCommand,
    },
    /// The genome book: train a book model (DNA + English GPT-2), write books, build the dictionary, evaluate.
    #[command(after_help = "Examples:\n  \
      scripts/fetch-english.sh && dnalm book train --english austen hg38_chr2.fa.gz -o book-model/\n  \
      dnalm book write --model book-model/ chr2.fa.gz -o chr2-book/\n  \
      dnalm book dictionary --model book-model/ -o dict/\n  \
      dnalm book eval --book chr2-book/ --model book-model/ --english austen chr2.fa.gz")]
    Book(BookArgs),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Corpus(_) => "corpus",
            Command::Tokenizer { command } => match command {
                TokenizerCommand::Train(_) => "tokenizer train",
                TokenizerCommand::Encode(_) => "tokenizer encode",
                TokenizerCommand::Decode(_) => "tokenizer decode",
                TokenizerCommand::Stats(_) => "tokenizer stats",
                TokenizerCommand::Export(_) => "tokenizer export",
            },
            Command::Tfidf(_) => "tfidf",
            Command::Nextkmer(_) => "nextkmer",
            Command::Quickstart(_) => "quickstart",
            Command::Pretrain(_) => "pretrain",
            Command::ExportHf(_) => "export-hf",
            Command::Inspect(_) => "inspect",
            Command::Embed(_) => "embed",
            Command::Vectors(_) => "vectors",
            Command::Attention(_) => "attention",
            Command::Motifs(_) => "motifs",
            Command::Promoter { command } => match command {
                PromoterCommand::Data(_) => "promoter data",
                PromoterCommand::Train(_) => "promoter train",
                PromoterCommand::Scan(_) => "promoter scan",
                PromoterCommand::Predict(_) => "promoter predict",
            },
            Command::Book(a) => match a.command {
                BookCommand::Train(_) => "book train",
                BookCommand::Write(_) => "book write",
                BookCommand::Dictionary(_) => "book dictionary",
                BookCommand::Eval(_) => "book eval",
            },
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenizerCommand {
    /// Train BPE / hybrid on a corpus, or build a k-mer tokenizer; writes a tokenizer file.
    #[command(after_help = "Examples:\n  \
      dnalm tokenizer train --kind bpe --merges 600 segments.txt -o bpe600.json --report-dir bpe600/\n  \
      dnalm tokenizer train --kind hybrid --merges 600 segments.txt -o hybrid.json\n  \
      dnalm tokenizer train --kind kmer --k 6 --order dnabert -o dnabert6.json\n  \
      dnalm tokenizer train --kind varkmer --min-k 3 --max-k 8 --seed 1 -o dnavec.json\n\n\
      BPE merges never cross a line, a record or an N/IUPAC gap. Ties between equally frequent\n\
      pairs go to the pair of older tokens (smaller ids). A pair whose joined spelling is already\n\
      a token is skipped, so every merge adds one new token.")]
    Train(TrainArgs),
    /// Encode sequences to token ids (one output line per gap-free piece).
    #[command(after_help = "Examples:\n  \
      dnalm tokenizer encode -t bpe600.json segments.txt -o ids.txt\n  \
      dnalm tokenizer encode -t dnabert6.json genome.fa --format tsv --add-special-tokens --max-len 512")]
    Encode(EncodeArgs),
    /// Decode token ids (one line of space-separated ids per sequence) back to sequence.
    #[command(
        after_help = "Example:\n  dnalm tokenizer decode -t bpe600.json ids.txt -o segments.txt"
    )]
    Decode(DecodeArgs),
    /// Token statistics: frequency table, rank-frequency and length plots, vocabulary use, imbalance.
    #[command(
        after_help = "Example:\n  dnalm tokenizer stats -t bpe600.json segments.txt --out-dir stats/"
    )]
    Stats(StatsArgs),
    /// Export to Hugging Face files: tokenizer.json, tokenizer_config.json, vocab.txt.
    #[command(
        after_help = "Example:\n  dnalm tokenizer export -t bpe600.json --out-dir hf/\n\n\
      BPE exports a full pipeline on raw sequence. k-mer schemes export a WordLevel vocabulary over\n\
      whitespace: feed them space-separated k-mers, as DNABERT did (overlapping k-mers cannot be\n\
      expressed as a tokenizer.json pipeline)."
    )]
    Export(ExportArgs),
}

/// How inputs are read (shared by the commands that read sequences).
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// FASTA/FASTQ (plain, gzip, bgzip) or text with one sequence per line; '-' or none = stdin.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// N and IUPAC codes: split at them, drop sequences/windows holding them, or fail.
    #[arg(long, default_value = "split", value_parser = parse_gaps)]
    pub gaps: GapPolicy,
}

fn parse_gaps(s: &str) -> Result<GapPolicy, String> {
    s.parse::<GapPolicy>().map_err(|e| e.to_string())
}

fn parse_split(s: &str) -> Result<SplitMode, String> {
    s.parse::<SplitMode>().map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CorpusFormat {
    /// One sequence per line.
    Lines,
    /// TSV with header record, start, end, sequence (0-based, half-open).
    Tsv,
}

#[derive(Debug, Args)]
pub struct CorpusArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output file (default stdout; '.gz' compresses).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Window length in nt; 0 = whole gap-free runs.
    #[arg(long, default_value_t = 0)]
    pub window: usize,
    /// Step between window starts (default: the window length, i.e. no overlap).
    #[arg(long)]
    pub stride: Option<usize>,
    /// Skip runs or windows shorter than this.
    #[arg(long, default_value_t = 1)]
    pub min_len: usize,
    /// Keep a final, shorter window at the end of each run (if >= --min-len).
    #[arg(long)]
    pub keep_tail: bool,
    /// Keep only records with these names (repeatable).
    #[arg(long = "select", value_name = "NAME")]
    pub select: Vec<String>,
    /// Keep only records whose whole name matches this regex, e.g. 'chr([1-9]|1[0-9]|2[0-2])'.
    #[arg(long, value_name = "REGEX")]
    pub select_regex: Option<String>,
    /// Keep a uniform random sample of N windows (in genome order).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample: Option<u64>,
    /// Seed for sampling and splitting.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output layout: lines (one sequence per line) or tsv (record, start, end, sequence; 0-based).
    #[arg(long, value_enum, default_value_t = CorpusFormat::Lines)]
    pub format: CorpusFormat,
    /// Hold out this fraction as a test set (needs --out-dir: writes train.* and test.*).
    #[arg(long, value_name = "F")]
    pub test_fraction: Option<f64>,
    /// position: blocks of the genome go to train or test, so no test window overlaps a
    /// training window; random: each window independently (windows may overlap across the split).
    #[arg(long, default_value = "position", value_parser = parse_split)]
    pub split: SplitMode,
    /// Block length for --split position.
    #[arg(long, default_value_t = 100_000)]
    pub block_len: u64,
    /// Output folder for --test-fraction.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Bpe,
    Hybrid,
    Kmer,
    KmerNonoverlap,
    Varkmer,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Tokenizer to build: hybrid = k-mers + BPE, kmer = overlapping k-mers, varkmer =
    /// variable-length k-mers.
    #[arg(long, value_enum, default_value_t = Kind::Bpe)]
    pub kind: Kind,
    /// Tokenizer file to write (dnalm JSON).
    #[arg(short, long, default_value = "tokenizer.dnalm.json")]
    pub output: PathBuf,
    /// BPE merge cycles (GROVER's BPE-600).
    #[arg(long, default_value_t = 600)]
    pub merges: usize,
    /// k for k-mer schemes and the k-mer half of the hybrid.
    #[arg(long, default_value_t = 6)]
    pub k: usize,
    /// k-mer vocabulary order: lex (A,C,G,T) or dnabert (A,T,C,G, matching DNABERT's vocab.txt).
    #[arg(long, default_value = "lex")]
    pub order: String,
    /// Hybrid segment length in nt.
    #[arg(long, default_value_t = 305)]
    pub segment_len: usize,
    /// Variable k-mer: smallest k.
    #[arg(long, default_value_t = 3)]
    pub min_k: usize,
    /// Variable k-mer: largest k.
    #[arg(long, default_value_t = 8)]
    pub max_k: usize,
    /// Seed for the variable k-mer draws.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also write merges.tsv, token_counts.tsv and training.json here.
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodeFormat {
    /// Space-separated ids, one line per piece.
    Ids,
    /// Space-separated token strings.
    Tokens,
    /// TSV: record, start, end, ids.
    Tsv,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Tokenizer file (dnalm JSON, Hugging Face tokenizer.json, or DNABERT vocab.txt).
    #[arg(short, long)]
    pub tokenizer: PathBuf,
    /// Output file (default stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// What a line holds: ids, tokens (token strings) or tsv (record, start, end, ids).
    #[arg(long, value_enum, default_value_t = EncodeFormat::Ids)]
    pub format: EncodeFormat,
    /// Wrap each piece in [CLS] ... [SEP].
    #[arg(long)]
    pub add_special_tokens: bool,
    /// Pad with [PAD] / truncate to this many ids.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_len: Option<u64>,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Lines of space-separated ids; '-' or none = stdin.
    pub input: Option<PathBuf>,
    /// Tokenizer the ids come from (dnalm JSON, Hugging Face tokenizer.json, or DNABERT vocab.txt).
    #[arg(short, long)]
    pub tokenizer: PathBuf,
    /// Output file (default stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Tokenizer (dnalm JSON, Hugging Face tokenizer.json, or DNABERT vocab.txt).
    #[arg(short, long)]
    pub tokenizer: PathBuf,
    /// Folder for frequencies.tsv, summary.tsv, stats.json and the SVG plots.
    #[arg(long)]
    pub out_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Tokenizer to export (dnalm JSON, Hugging Face tokenizer.json, or DNABERT vocab.txt).
    #[arg(short, long)]
    pub tokenizer: PathBuf,
    /// Folder for tokenizer.json, tokenizer_config.json and vocab.txt.
    #[arg(long)]
    pub out_dir: PathBuf,
    /// model_max_length written to tokenizer_config.json.
    #[arg(long, default_value_t = 512)]
    pub model_max_length: usize,
}

#[derive(Debug, Args)]
pub struct TfidfArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// k-mer length in nt.
    #[arg(long, default_value_t = 6)]
    pub k: usize,
    /// How many top k-mers to report.
    #[arg(long, default_value_t = 100)]
    pub top: usize,
    /// Table output (default stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also write tfidf.tsv and tfidf_top.svg here.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitChoice {
    Position,
    Random,
    Both,
}

#[derive(Debug, Args)]
pub struct NextkmerArgs {
    /// Genome FASTA (plain or gzip), one chromosome or many records.
    pub genome: PathBuf,
    /// Output folder.
    #[arg(long, default_value = "dnalm-nextkmer")]
    pub out_dir: PathBuf,
    /// Label lengths, comma-separated (each in 1..=6).
    #[arg(long, value_delimiter = ',', default_value = "3,4,5")]
    pub k: Vec<usize>,
    /// Windows to sample (the paper: 500,000).
    #[arg(long, default_value_t = 100_000)]
    pub samples: usize,
    /// Window length the windows are drawn at.
    #[arg(long, default_value_t = 510)]
    pub window: usize,
    /// Share of windows (random) or genome blocks (position) held out.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Train/test split: position (whole genome blocks), random (single windows), or both.
    #[arg(long, value_enum, default_value_t = SplitChoice::Position)]
    pub split: SplitChoice,
    /// Genome block length of the position split.
    #[arg(long, default_value_t = 100_000)]
    pub block_len: u64,
    /// Share of the training side (blocks, under the position split) held out as validation:
    /// it chooses the n-gram's context length and smoothing and every model's epoch.
    #[arg(long, default_value_t = 0.1)]
    pub valid_fraction: f64,
    /// Longest context the n-gram baseline may choose, in bases (at most 24).
    #[arg(long, default_value_t = 24)]
    pub ngram_order: usize,
    /// Also count the n-gram over every base of the training side of the genome, as the
    /// base-level LM learns (position split only); on by default with --base-lm-budget.
    #[arg(long)]
    pub ngram_genome: bool,
    /// A pre-trained model to fine-tune: NAME=DIR (repeatable). Each is reported beside the
    /// same architecture trained from scratch (unless --no-controls).
    #[arg(long = "model", value_name = "NAME=DIR")]
    pub models: Vec<String>,
    /// Records to use (exact names, repeatable; default all).
    #[arg(long)]
    pub select: Vec<String>,
    /// Records to use (anchored regex).
    #[arg(long)]
    pub select_regex: Option<String>,
    /// Skip the controls: each model's from-scratch twin and the CNN on one-hot bases.
    #[arg(long)]
    pub no_controls: bool,
    /// Fine-tuning: at most this many passes over the training windows (the best epoch on
    /// the validation windows is kept).
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Fine-tuning: stop after this many epochs without a lower validation loss.
    #[arg(long, default_value_t = 2)]
    pub patience: usize,
    /// Fine-tuning: sequences per update.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Fine-tuning: peak learning rate of the BERT models.
    #[arg(long, default_value_t = 2e-4)]
    pub lr: f64,
    /// Peak learning rate of the CNN on one-hot bases.
    #[arg(long, default_value_t = 1e-3)]
    pub cnn_lr: f64,
    /// Fine-tuning: at most this many training windows per model (0 = all, as the n-gram).
    #[arg(long, default_value_t = 0)]
    pub max_train: usize,
    /// Also train the base-level causal language model (GPT-2 over A/C/G/T) on the training
    /// side of the genome for this long (e.g. 20m, 1h; position split only), and score every
    /// 4^k continuation of each test input exactly.
    #[arg(long, value_name = "DURATION")]
    pub base_lm_budget: Option<String>,
    /// Base-level LM: at most this many updates (also the length of its learning-rate decay).
    #[arg(long, default_value_t = 20_000)]
    pub base_lm_steps: u64,
    /// Tokens per input, [CLS] and [SEP] included (the hybrid paper: 80).
    #[arg(long, default_value_t = 80)]
    pub max_len: usize,
    /// Seed of sampling, splits and fine-tuning.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Output folder: genome, corpus, tokenizers, statistics, model, task results and report.md.
    #[arg(long, default_value = "dnalm-quickstart")]
    pub out_dir: PathBuf,
    /// Use this genome instead of the generated demonstration genome.
    #[arg(long)]
    pub genome: Option<PathBuf>,
    /// Seed of the demonstration genome and of every sample, split and training stage.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Demonstration genome: number of records.
    #[arg(long, default_value_t = 3)]
    pub records: usize,
    /// Demonstration genome: length of each record in nt.
    #[arg(long, default_value_t = 1_000_000)]
    pub record_len: usize,
    /// BPE merge cycles of the BPE and hybrid tokenizers.
    #[arg(long, default_value_t = 600)]
    pub merges: usize,
    /// Updates of the tiny hybrid model's pre-training (batch 8).
    #[arg(long, default_value_t = 300)]
    pub pretrain_steps: u64,
    /// Stop after the tokenizer stages (no model, no downstream tasks).
    #[arg(long)]
    pub skip_pretrain: bool,
    /// Next-k-mer stage: training windows the model is fine-tuned on.
    #[arg(long, default_value_t = 3000)]
    pub nextkmer_train: usize,
}

#[derive(Debug, Args)]
pub struct PretrainArgs {
    /// Sequence file from `dnalm corpus` (lines or TSV), or a token corpus (.tok) already built.
    #[arg(value_name = "INPUT", required_unless_present = "print_config")]
    pub input: Option<PathBuf>,
    /// Tokenizer (dnalm JSON, HF tokenizer.json or DNABERT vocab.txt).
    #[arg(short, long, required_unless_present = "print_config")]
    pub tokenizer: Option<PathBuf>,
    /// Held-out sequences for evaluation (default: --eval-fraction of INPUT, seeded).
    #[arg(long, value_name = "FILE")]
    pub eval: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "dnalm-pretrain")]
    pub out_dir: PathBuf,
    /// Run config (TOML, see --print-config); flags below override it.
    #[arg(long, value_name = "TOML")]
    pub config: Option<PathBuf>,
    /// Print the default run config, every field documented, and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Continue from the newest checkpoint in --out-dir (the config must match).
    #[arg(long)]
    pub resume: bool,
    /// Stop after N updates of this invocation (resume later with --resume).
    #[arg(long, value_name = "N")]
    pub stop_after: Option<u64>,
    /// Stop when training has run this long: 90s, 30m, 2h, 1h30m (at least 10s). Without
    /// --max-steps the schedule is fitted to it from the speed of the first updates, with
    /// about 12 evaluations and --patience 3; the best model ends up in OUT/model.
    #[arg(long, value_name = "DURATION")]
    pub time_budget: Option<String>,
    /// Stop after N evaluations in a row without a 0.001 fall in held-out loss
    /// (default: 3 with --time-budget, else off).
    #[arg(long, value_name = "N")]
    pub patience: Option<u32>,
    /// Model preset: tiny, cpu, small, hybrid-base, dnabert-base, dnavec-base (cpu: made
    /// for --time-budget runs on a few CPU cores, with its own batch, lr and warm-up).
    #[arg(long)]
    pub preset: Option<String>,
    /// LSTM layers between encoder and MLM head.
    #[arg(long)]
    pub lstm_layers: Option<usize>,
    /// Hidden and attention dropout.
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Optimiser updates in all (default 20000).
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Linear warm-up updates, then linear decay to 0 (default 1000).
    #[arg(long)]
    pub warmup_steps: Option<u64>,
    /// Peak learning rate of AdamW (default 4e-4).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Sequences per micro-batch (default 16).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Micro-batches per update (default 25: 400 sequences per update).
    #[arg(long)]
    pub grad_accum: Option<usize>,
    /// Row shards of each micro-batch run in parallel (default 2).
    #[arg(long)]
    pub shards: Option<usize>,
    /// Longest input in tokens, [CLS] and [SEP] included.
    #[arg(long)]
    pub max_len: Option<usize>,
    /// auto, random, kmer-span or hybrid.
    #[arg(long)]
    pub masking: Option<String>,
    /// Share of tokens masked at random: BPE, variable k-mers, hybrid BPE part (default 0.15).
    #[arg(long)]
    pub mask_prob: Option<f64>,
    /// Span-centre probability for k-mer / hybrid masking (DNABERT: 0.025).
    #[arg(long)]
    pub centre_prob: Option<f64>,
    /// Evaluate every N updates and at the end (default 2500).
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Share of INPUT held out when --eval is not given (default 0.05).
    #[arg(long)]
    pub eval_fraction: Option<f64>,
    /// Write a metrics line every N updates (default 500).
    #[arg(long)]
    pub log_every: Option<u64>,
    /// Checkpoint every N updates and at the end (default 2500).
    #[arg(long)]
    pub save_every: Option<u64>,
    /// Keep the N newest step checkpoints; best/ is kept apart (default 20).
    #[arg(long)]
    pub keep_checkpoints: Option<usize>,
    /// Seed of weights, batch order, masks and dropout (default 42).
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ExportHfArgs {
    /// A pretrain output folder, a checkpoint folder or a model folder.
    #[arg(
        short,
        long,
        value_name = "DIR",
        required_unless_present = "legacy_model"
    )]
    model: Option<PathBuf>,
    /// The model as the first positional argument (the older spelling of --model).
    #[arg(value_name = "MODEL", hide = true, conflicts_with = "model")]
    legacy_model: Option<PathBuf>,
    /// Where to write the Hugging Face files.
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Tokenizer to export beside the model (default: the run's tokenizer.json).
    #[arg(short, long)]
    pub tokenizer: Option<PathBuf>,
    /// Also write dnalm_sample.safetensors: N random inputs and dnalm's logits.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Seed of the --sample inputs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A run folder, checkpoint folder, model folder or .safetensors file.
    #[arg(
        short,
        long,
        value_name = "PATH",
        required_unless_present = "legacy_model"
    )]
    model: Option<PathBuf>,
    /// The model as a positional argument (the older spelling of --model).
    #[arg(value_name = "MODEL", hide = true, conflicts_with = "model")]
    legacy_model: Option<PathBuf>,
}

impl ExportHfArgs {
    /// The model folder, from `-m/--model` or the older positional spelling.
    pub fn model(&self) -> &Path {
        one_model(&self.model, &self.legacy_model)
    }
}

impl InspectArgs {
    /// The folder or file to show, from `-m/--model` or the older positional spelling.
    pub fn model(&self) -> &Path {
        one_model(&self.model, &self.legacy_model)
    }
}

/// The path given to `-m/--model` or, for one release, positionally (the
/// older spelling, hidden in `--help`). `--model` is `required_unless_present`
/// the positional and conflicts with it, so clap has already rejected a command
/// line with neither or both (usage error, exit 2).
pub(crate) fn one_model<'a>(
    flag: &'a Option<PathBuf>,
    positional: &'a Option<PathBuf>,
) -> &'a Path {
    flag.as_deref()
        .or(positional.as_deref())
        .expect("clap requires -m/--model or the positional model")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// `path --flag` of every visible argument under `cmd` with no help text.
    fn undocumented(cmd: &clap::Command, path: &str, seen: &mut usize, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if arg.is_hide_set() || id == "help" || id == "version" {
                continue;
            }
            *seen += 1;
            let help = arg
                .get_help()
                .or(arg.get_long_help())
                .map(|h| h.to_string());
            if help.is_none_or(|h| h.trim().is_empty()) {
                let name = arg
                    .get_long()
                    .map_or_else(|| id.to_uppercase(), |l| format!("--{l}"));
                missing.push(format!("{path} {name}"));
            }
        }
        for sub in cmd.get_subcommands() {
            undocumented(sub, &format!("{path} {}", sub.get_name()), seen, missing);
        }
    }

    #[test]
    fn every_visible_argument_has_help() {
        let (mut seen, mut missing) = (0, Vec::new());
        undocumented(&Cli::command(), "dnalm", &mut seen, &mut missing);
        assert!(
            seen > 200,
            "only {seen} arguments walked: is the tree complete?"
        );
        assert!(
            missing.is_empty(),
            "arguments without a /// description:\n{}",
            missing.join("\n")
        );
    }
}
