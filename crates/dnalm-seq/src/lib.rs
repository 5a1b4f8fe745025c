//! Genome input and output for dnalm.
//!
//! This crate owns everything between a FASTA/FASTQ file and the tokenizers,
//! and the plain-text formats results go out in:
//!
//! - [`reader`]: FASTA and FASTQ, plain / gzip / bgzip, from a path, `-`
//!   (stdin) or any reader; every letter checked, soft-masked bases upper-cased.
//! - [`normalize`]: which letters are words (A C G T) and the [`GapPolicy`]
//!   for N and IUPAC codes.
//! - [`select`]: choosing records by name or regex.
//! - [`window`]: fixed-length windows with a stride, keeping coordinates.
//! - [`sample`]: seeded reservoir sampling and train/test splits, including a
//!   position split that keeps test windows off training windows.
//! - [`revcomp`]: reverse complement.
//! - [`output`]: atomic file output (optionally gzip) and BED / bedGraph / TSV writers.
//!
//! Coordinates are 0-based and half-open; sequences are bytes.
//!
//! ```
//! use std::io::Cursor;
//! use std::path::Path;
//! use dnalm_seq::{
//!     reverse_complement, BedWriter, FastxReader, GapPolicy, RecordSelector, SplitMode,
//!     Splitter, Strand, WindowSpec,
//! };
//!
//! let fasta = b">chr1 demo\nACGTacgtNNNNGGCCAATT\nGGCCTTAA\n>chrM\nACGT\n".to_vec();
//! let reader = FastxReader::from_reader("demo.fa", Cursor::new(fasta))?;
//! let select = RecordSelector::new(Vec::<String>::new(), Some("chr[0-9]+"))?;
//! let spec = WindowSpec::new(6).with_stride(4).with_gaps(GapPolicy::Split);
//! let split = Splitter::new(SplitMode::Position { block_len: 10 }, 0.5, 42)?;
//!
//! let mut bed = BedWriter::new(Vec::new(), "windows.bed");
//! for (index, record) in reader.enumerate() {
//!     let record = record?;
//!     if !select.matches(&record.id) {
//!         continue; // chrM is not chr[0-9]+
//!     }
//!     assert_eq!(&record.seq[..8], b"ACGTACGT"); // soft-masked bases upper-cased
//!     for w in spec.iter(&record, Path::new("demo.fa"))? {
//!         assert!(!w.seq.contains(&b'N')); // Split never crosses the N run
//!         let part = split.assign(index, w.start, w.end);
//!         bed.write(&record.id, w.start, w.end, part.as_str(), 0.0, Strand::Plus)?;
//!     }
//! }
//! let bed = String::from_utf8(bed.into_inner()).unwrap();
//! let starts: Vec<&str> = bed.lines().map(|l| l.split('\t').nth(1).unwrap()).collect();
//! assert_eq!(starts, ["0", "12", "16", "20"]); // runs 0..8 and 12..28
//! assert_eq!(reverse_complement(b"AACGTN"), b"NACGTT");
//! # Ok::<(), dnalm_seq::SeqError>(())
//! ```

pub mod error;
pub mod normalize;
pub mod output;
pub mod reader;
pub mod revcomp;
pub mod sample;
pub mod select;
pub mod synth;
pub mod window;

pub use error::{error_chain, Result, SeqError};
pub use normalize::{acgt_runs, is_acgt, GapPolicy};
pub use output::{AtomicFile, BedGraphWriter, BedWriter, Output, Strand, TsvWriter};
pub use reader::{stdin_unless_terminal, FastxReader, Record};
pub use revcomp::{reverse_complement, reverse_complement_in_place};
pub use sample::{mix64, reservoir_sample, Part, Reservoir, SplitMode, Splitter};
pub use select::RecordSelector;
pub use window::{Window, WindowIter, WindowSpec};
