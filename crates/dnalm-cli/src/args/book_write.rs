//! Arguments of `dnalm book write`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TitleChoice {
    /// The most likely DNA word at each step (no seed needed).
    Greedy,
    /// Drawn from the softmax at --title-temperature, seeded by --seed.
    Sample,
}

#[derive(Debug, Args)]
pub struct BookWriteArgs {
    /// A book model folder (`dnalm book train`).
    #[arg(short, long, value_name = "DIR")]
    pub model: PathBuf,
    /// The genome: FASTA, plain or gzip ("-" = stdin).
    #[arg(value_name = "GENOME")]
    pub input: PathBuf,
    /// The book folder: book.md, book.html, book.json, run.json (and book.en.md).
    #[arg(short = 'o', long, default_value = "dnalm-book")]
    pub out_dir: PathBuf,
    /// DNA-English dictionary (`dnalm book dictionary`: dictionary.json or .tsv) for book.en.md.
    #[arg(short, long)]
    pub dictionary: Option<PathBuf>,
    /// Only these records (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub records: Vec<String>,
    /// Only records whose name matches this regex.
    #[arg(long)]
    pub records_regex: Option<String>,
    /// Window length in tokens (paragraphs and sentences).
    #[arg(long, default_value_t = 256)]
    pub window: usize,
    /// Window stride in tokens.
    #[arg(long, default_value_t = 192)]
    pub stride: usize,
    /// Start the window grid at this token (boundary stability checks).
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// A paragraph break goes where P(<p_end>) reaches the mean of the window's top-k.
    #[arg(long, default_value_t = 5)]
    pub paragraph_top_k: usize,
    /// A sentence break goes where P(".") reaches the mean of the window's top-k.
    #[arg(long, default_value_t = 15)]
    pub sentence_top_k: usize,
    /// Paragraphs shorter than this (tokens) join the previous one.
    #[arg(long, default_value_t = 20)]
    pub min_paragraph: usize,
    /// Sentences shorter than this (tokens) join the previous one.
    #[arg(long, default_value_t = 1)]
    pub min_sentence: usize,
    /// A paragraph joins the section when cosine to its mean >= this ...
    #[arg(long, default_value_t = 0.5)]
    pub section_threshold: f32,
    /// ... and the section has fewer paragraphs than this.
    #[arg(long, default_value_t = 50)]
    pub section_max: usize,
    /// A section joins the chapter when cosine to its mean >= this ...
    #[arg(long, default_value_t = 0.3)]
    pub chapter_threshold: f32,
    /// ... and the chapter has fewer sections than this.
    #[arg(long, default_value_t = 30)]
    pub chapter_max: usize,
    /// Title length in DNA words.
    #[arg(long, default_value_t = 3)]
    pub title_len: usize,
    /// How titles are generated: greedy or sample.
    #[arg(long, value_enum, default_value_t = TitleChoice::Greedy)]
    pub titles: TitleChoice,
    /// Softmax temperature of --titles sample.
    #[arg(long, default_value_t = 1.0)]
    pub title_temperature: f32,
    /// Seed of sampled titles.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Windows / paragraphs per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
}
