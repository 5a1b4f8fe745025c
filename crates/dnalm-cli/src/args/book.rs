//! Arguments of `dnalm book ...`: the genome book (SPEC.md section 4).

use clap::{Args, Subcommand};

pub use super::book_eval::{BookDictionaryArgs, BookEvalArgs};

#[derive(Debug, Args)]
pub struct BookArgs {
    #[command(subcommand)]
    pub command: BookCommand,
}

#[derive(Debug, Subcommand)]
pub enum BookCommand {
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
      dnalm book eval --book book/ --model book-model/ --english austen.rdb chr2.fa.gz\n  \
      dnalm book eval --book book/ chr2.fa.gz --distance 10,50,200 --permutations 1000\n  \
      dnalm book eval --model book-model/ --english heldout.txt --english-all -o eval/\n\n\
      The report (eval.md, eval.json, english_boundaries.tsv, dna_enrichment.tsv,\n\
      dna_distance.tsv, stability.tsv and SVG plots) goes to BOOK/eval/. Repeats are the\n\
      soft-masked (lower-case) runs of GENOME: give the FASTA the book was written from.")]
    Eval(BookEvalArgs),
}
