//! Arguments of `dnalm book`: the genome book (SPEC section 4).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::book_eval::{BookDictionaryArgs, BookEvalArgs};
use super::book_write::BookWriteArgs;

#[derive(Debug, Args)]
pub struct BookArgs {
    #[command(subcommand)]
    pub command: BookCommand,
}

#[derive(Debug, Subcommand)]
pub enum BookCommand {
    /// Train a book model: joint DNA + English BPE, GPT-2 on the mix, the <p_end> stage, the transfer step.
    #[command(after_help = "Examples:\n  \
      scripts/fetch-english.sh                      # Jane Austen's novels (Debian r-cran-janeaustenr)\n  \
      dnalm book train --english austen hg38_chr2.fa.gz -o book-model/\n  \
      dnalm book train --english novels.txt genome.fa --vocab-size 4000 --steps 300 -o book-model/\n\n\
      ENGLISH is `austen` (the novels fetched by scripts/fetch-english.sh into ~/.cache/dnalm/english),\n\
      a plain-text file (paragraphs separated by blank lines; lower-cased for the model) or an R\n\
      database (.rdb) of character vectors. The last document (novel) is held out for the evaluation;\n\
      a single text file holds out a seeded tenth of its paragraphs. DNA comes as fragments of\n\
      300..1000 nt cut from the genome's A/C/G/T runs (a tenth held out). Stages: one BPE over both\n\
      (--vocab-size), GPT-2 (--preset) pre-trained on the mix (--steps), then on English whose\n\
      paragraph breaks are <p_end> and whose full stops are removed (--pend-steps), then on sentence\n\
      pairs 'a <|endoftext|> b <|endoftext|> same|different' (--transfer-steps), tested on DNA pairs\n\
      (a sequence vs a mutated copy / an unrelated sequence) beside the model without that step.\n\
      OUT gets tokenizer.json, base/, pend/, transfer/, book_model.json, losses.tsv, loss.svg,\n\
      train_report.tsv and train_report.md.")]
    Train(BookTrainArgs),
    /// Read a genome as a book: paragraphs, sentences, sections and chapters of DNA words.
    #[command(after_help = "Examples:\n  \
      dnalm book write --model book-model/ chr2.fa.gz -o chr2-book/\n  \
      dnalm book write --model book-model/ hg38.fa.gz --records chr1 --dictionary dict/dictionary.json -o chr1-book/\n  \
      dnalm book write --model book-model/ genome.fa --offset 96 --titles sample --seed 7 -o book-offset96/\n\n\
      Each A/C/G/T run is read in windows of --window tokens (stride --stride); a paragraph break goes\n\
      after a position whose P(<p_end>) (the <p_end> model) reaches the mean of the window's top-k, a\n\
      sentence break where P(\".\") (the pre-trained model) does; every position is decided by one\n\
      window, so no text is repeated. N/IUPAC runs are gap markers with coordinates and end the\n\
      paragraph; FASTA headers never enter the text; each record starts a new chapter. Paragraphs\n\
      (mean last hidden layer) are grouped into sections (cosine to the running mean >= 0.5, < 50),\n\
      sections into chapters (0.3, < 30); titles are DNA words generated from the group's most\n\
      frequent DNA words. OUT gets book.md, book.html (self-contained, coordinates on every\n\
      paragraph), book.json (coordinates of every word), book.en.md with --dictionary, and run.json\n\
      (settings, counts, nt/s). Nothing is written unless the whole book is.")]
    Write(BookWriteArgs),
    /// DNA words to English words by embedding similarity: the collapse of plain
    /// nearest neighbour, and the published dictionary (seeded top-k draw, numbered).
    #[command(after_help = "Examples:\n  \
      dnalm book dictionary --model book-model/ -o dict/\n  \
      dnalm book dictionary --model book-model/ --top-k 50 --seed 7 -o dict50/\n\n\
      Writes dict/dictionary.json and .tsv (dna_word, english, rank_drawn, cosine, nearest,\n\
      nearest_cosine), collapse.tsv / .md (how many English words plain nearest neighbour\n\
      uses) and collapse.svg. The first DNA word drawing \"olia\" gets \"olia\", the next\n\
      \"olia1\", then \"olia2\"...")]
    Dictionary(BookDictionaryArgs),
    /// Evaluate a book's segmentation: English boundaries against held-out text, DNA
    /// boundaries against repeats and GC shifts, stability under window offsets.
    #[command(after_help = "Examples:\n  \
      dnalm book eval --book book/ --model book-model/ --english austen chr2.fa.gz\n  \
      dnalm book eval --book book/ chr2.fa.gz --distance 10,50,200 --permutations 1000\n  \
      dnalm book eval --model book-model/ --english heldout.txt --english-all -o eval/\n\n\
      The report (eval.md, eval.json, english_boundaries.tsv, dna_enrichment.tsv,\n\
      dna_distance.tsv, stability.tsv and SVG plots) goes to BOOK/eval/. Repeats are the\n\
      soft-masked (lower-case) runs of GENOME: give the FASTA the book was written from.")]
    Eval(BookEvalArgs),
}

#[derive(Debug, Args)]
pub struct BookTrainArgs {
    /// Genome FASTA (plain or gzip).
    #[arg(value_name = "GENOME")]
    pub genome: PathBuf,
    /// English text: `austen`, a plain-text file, or an R .rdb database.
    #[arg(long, value_name = "ENGLISH")]
    pub english: String,
    /// The model folder to write.
    #[arg(short, long = "out-dir", visible_alias = "output", value_name = "OUT")]
    pub out_dir: PathBuf,
    /// Tokens in the joint vocabulary (the published model had about 100,000).
    #[arg(long, default_value_t = 8000)]
    pub vocab_size: usize,
    /// GPT-2 preset: tiny or gpt2-base.
    #[arg(long, default_value = "tiny")]
    pub preset: String,
    /// Pre-training updates on the DNA + English mix.
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,
    /// Updates of the <p_end> stage (English only).
    #[arg(long, default_value_t = 300)]
    pub pend_steps: u64,
    /// Updates on the English sentence-pair task (0: no transfer model).
    #[arg(long, default_value_t = 200)]
    pub transfer_steps: u64,
    /// Windows per update.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Tokens per training window.
    #[arg(long, default_value_t = 256)]
    pub context: usize,
    /// Peak learning rate of pre-training.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Peak learning rate of the <p_end> and transfer stages.
    #[arg(long, default_value_t = 3e-4)]
    pub tune_lr: f64,
    /// At most this many DNA fragments for training (0: all), drawn with the seed.
    #[arg(long, default_value_t = 0)]
    pub max_dna_fragments: usize,
    /// Held-out windows per perplexity.
    #[arg(long, default_value_t = 200)]
    pub eval_windows: usize,
    /// Pairs per accuracy test.
    #[arg(long, default_value_t = 400)]
    pub test_pairs: usize,
    /// Seed of every random choice: held-out text and fragments, weights, batch order, test pairs.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}
