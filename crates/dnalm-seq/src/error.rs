use std::path::PathBuf;

/// Errors from reading, checking and writing sequence data. Every variant
/// says where: the file, and where it applies the line and record.
#[derive(Debug, thiserror::Error)]
pub enum SeqError {
    /// Displays the path; the I/O error is the `source` (printed by `{:#}`).
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid FASTA/FASTQ (no header, truncated gzip, ...).
    #[error("{path}: {msg}")]
    Parse { path: PathBuf, msg: String },
    /// A byte that is not a nucleotide letter (A C G T, N, IUPAC codes R Y S W K M B D H V), upper or lower case.
    #[error("{path}:{line}: record {record:?}: invalid character {shown} at position {pos} of the sequence", shown = show_byte(*byte))]
    InvalidChar {
        path: PathBuf,
        line: u64,
        record: String,
        byte: u8,
        /// 0-based position in the record's sequence.
        pos: u64,
    },
    /// A record whose sequence is empty.
    #[error("{path}:{line}: record {record:?} has an empty sequence")]
    EmptyRecord {
        path: PathBuf,
        line: u64,
        record: String,
    },
    /// `GapPolicy::Fail` met an N or IUPAC code.
    #[error("{path}:{line}: record {record:?}: {base:?} at position {pos} (not A/C/G/T); use --gaps split or --gaps drop to accept N and IUPAC codes", base = char::from(*base))]
    Gap {
        path: PathBuf,
        line: u64,
        record: String,
        base: u8,
        pos: u64,
    },
    /// An output whose directory does not exist.
    #[error("cannot write {path}: directory {dir} does not exist")]
    MissingDir { path: PathBuf, dir: PathBuf },
    /// Sequences were to come from stdin, but stdin is a terminal: the
    /// input was most likely forgotten.
    #[error("no input: give a FASTA/FASTQ/text file, or pipe sequences into stdin")]
    NoInput,
    /// A parameter out of range (window length 0, split fraction > 1, bad regex, ...).
    #[error("invalid parameter: {0}")]
    Param(String),
}

pub type Result<T, E = SeqError> = std::result::Result<T, E>;

fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// What anyhow's `{:#}` prints for `e`: the error, then each source after
/// ": ". Tests use it to check that a message says each thing once.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}
