//! Arguments of `dnalm book dictionary` and `dnalm book eval`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct BookDictionaryArgs {
    /// The book model folder (`dnalm book train`).
    #[arg(short, long, value_name = "DIR")]
    pub model: PathBuf,
    /// Output folder: dictionary.json / .tsv, collapse.tsv / .md / .svg.
    #[arg(short = 'o', long, default_value = "dnalm-dict")]
    pub out_dir: PathBuf,
    /// Nearest English neighbours the draw chooses among.
    #[arg(long, default_value_t = dnalm_book::dictionary::DEFAULT_TOP_K)]
    pub top_k: usize,
    /// Seed of the top-k draw.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct BookEvalArgs {
    /// The genome FASTA the book was written from (its soft-masked repeats
    /// and GC shifts are the annotation).
    #[arg(value_name = "GENOME")]
    pub genome: Option<PathBuf>,
    /// The book folder (`dnalm book write`); its book.json gives the DNA
    /// boundaries, and the report goes to its eval/ folder.
    #[arg(long)]
    pub book: Option<PathBuf>,
    /// The book model folder: needed for the English evaluation and the
    /// stability check.
    #[arg(short, long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// English corpus: `austen`, a plain-text file or an R .rdb, as given to
    /// `dnalm book train`; its held-out part (the split the model was
    /// trained with) is evaluated.
    #[arg(long, value_name = "ENGLISH")]
    pub english: Option<String>,
    /// Evaluate every paragraph of --english (a file that is held out as a whole).
    #[arg(long)]
    pub english_all: bool,
    /// At most this many held-out English tokens.
    #[arg(long, default_value_t = 20_000)]
    pub english_tokens: usize,
    /// Tolerances for boundary matching, in tokens (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [0u64, 2, 5])]
    pub tolerance: Vec<u64>,
    /// Distances (nt) from an annotation edge for the DNA table (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [10u64, 50])]
    pub distance: Vec<u64>,
    /// Random segmentations per test.
    #[arg(long, default_value_t = 1000)]
    pub permutations: usize,
    /// Bases on each side of a GC-shift point.
    #[arg(long, default_value_t = 100)]
    pub gc_window: usize,
    /// Smallest GC-fraction difference that counts as a shift.
    #[arg(long, default_value_t = 0.3)]
    pub gc_threshold: f64,
    /// DNA tokens of the stability check (0: no DNA stability check).
    #[arg(long, default_value_t = 20_000)]
    pub stability_tokens: usize,
    /// Window of the boundary rules (default: the book's run.json, else 256).
    #[arg(long)]
    pub window: Option<usize>,
    /// Stride of the boundary rules (default: the book's run.json, else 192).
    #[arg(long)]
    pub stride: Option<usize>,
    /// Seed of the random segmentations of the permutation tests.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output folder (default: BOOK/eval, or dnalm-eval without --book).
    #[arg(short = 'o', long)]
    pub out_dir: Option<PathBuf>,
}
