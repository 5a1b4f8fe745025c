//! Arguments of `dnalm book`: the genome book (SPEC section 4).

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
      dnalm book eval --book book/ --model book-model/ --english austen.rdb chr2.fa.gz\n  \
      dnalm book eval --book book/ chr2.fa.gz --distance 10,50,200 --permutations 1000\n  \
      dnalm book eval --model book-model/ --english heldout.txt --english-all -o eval/\n\n\
      The report (eval.md, eval.json, english_boundaries.tsv, dna_enrichment.tsv,\n\
      dna_distance.tsv, stability.tsv and SVG plots) goes to BOOK/eval/. Repeats are the\n\
      soft-masked (lower-case) runs of GENOME: give the FASTA the book was written from.")]
    Eval(BookEvalArgs),
}
