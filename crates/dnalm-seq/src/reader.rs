//! FASTA / FASTQ input: plain, gzip or bgzip, from a file, stdin or any reader.
//!
//! Parsing is needletail's; this module adds what a genome pipeline needs on
//! top: compression detected from magic bytes, every record checked letter by
//! letter with the exact file line of a bad byte, soft-masked bases
//! upper-cased, and one-line error messages that name the file.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Cursor, IsTerminal, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flate2::bufread::MultiGzDecoder;
use needletail::errors::{ParseError, ParseErrorKind};
use needletail::parser::{FastaReader, FastqReader, Format, SequenceRecord};

use crate::error::{Result, SeqError};
use crate::normalize::normalize_in_place;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Compressed bytes are read in large blocks: the decoder's own default is small.
const GZIP_BUF: usize = 1 << 17;

/// One FASTA or FASTQ record, checked and upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The header up to the first space or tab (without `>` / `@`).
    pub id: String,
    /// The rest of the header, if any.
    pub desc: Option<String>,
    /// The sequence: A C G T N or IUPAC codes, upper case, no line breaks.
    pub seq: Vec<u8>,
    /// 1-based line of the header in the (decompressed) file.
    pub line: u64,
}

/// Which layer of the input stack an I/O error came from; needletail keeps only
/// the message of an I/O error, so the layers note their errors on the side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Source,
    Gzip,
}

type ErrorSlot = Arc<Mutex<Option<(Layer, io::Error)>>>;

/// A reader that notes its first error in a shared slot before passing it on.
struct Tap<R> {
    inner: R,
    layer: Layer,
    slot: ErrorSlot,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                return;
            }
            if let Ok(mut slot) = self.slot.lock() {
                if slot.is_none() {
                    *slot = Some((self.layer, io::Error::new(e.kind(), e.to_string())));
                }
            }
        })
    }
}

/// Reads FASTA or FASTQ records (plain, gzip or multi-member gzip / bgzip).
///
/// Records come out of [`FastxReader::next_record`] or the `Iterator` impl.
/// A bad letter or an empty record is an error for that record only; after a
/// format or I/O error the reader stops.
pub struct FastxReader {
    path: PathBuf,
    inner: Box<dyn needletail::parser::FastxReader>,
    gzip: bool,
    slot: ErrorSlot,
    /// Blank lines skipped before the first record, added to needletail's line numbers.
    line_offset: u64,
    finished: bool,
}

impl fmt::Debug for FastxReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastxReader")
            .field("path", &self.path)
            .field("gzip", &self.gzip)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// Standard input to read data from, unless it is a terminal: a command
/// whose input file was forgotten would otherwise wait silently for typing
/// ([`SeqError::NoInput`]). A pipe or a redirected file is returned as is.
pub fn stdin_unless_terminal() -> Result<io::Stdin> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(SeqError::NoInput);
    }
    Ok(stdin)
}

impl FastxReader {
    /// Opens a file, or stdin when `path` is `-` (an error when stdin is a
    /// terminal, see [`stdin_unless_terminal`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if path == Path::new("-") {
            return Self::from_reader("<stdin>", stdin_unless_terminal()?);
        }
        let file = File::open(path).map_err(|source| SeqError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::build(path.to_path_buf(), file)
    }

    /// Reads from any byte stream; `name` stands for the file in error messages.
    pub fn from_reader(name: &str, r: impl Read + Send + 'static) -> Result<Self> {
        Self::build(PathBuf::from(name), r)
    }

    /// The file name used in error messages (`<stdin>` for standard input).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the input was gzip (or bgzip) compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    fn build(path: PathBuf, r: impl Read + Send + 'static) -> Result<Self> {
        let slot: ErrorSlot = Arc::default();
        let mut source = Tap {
            inner: r,
            layer: Layer::Source,
            slot: Arc::clone(&slot),
        };
        let mut magic = Vec::with_capacity(2);
        read_up_to(&mut source, &mut magic, 2).map_err(|source| SeqError::Io {
            path: path.clone(),
            source,
        })?;
        let gzip = magic == GZIP_MAGIC;
        let prefixed = Cursor::new(magic).chain(source);
        let mut stream: Box<dyn Read + Send> = if gzip {
            Box::new(Tap {
                inner: MultiGzDecoder::new(BufReader::with_capacity(GZIP_BUF, prefixed)),
                layer: Layer::Gzip,
                slot: Arc::clone(&slot),
            })
        } else {
            Box::new(prefixed)
        };

        let (head, line_offset) = match skip_blank_lines(&mut stream) {
            Ok(v) => v,
            Err(e) => return Err(stream_error(&path, gzip, &slot, e)),
        };
        let Some(&first) = head.first() else {
            let msg = if gzip {
                "empty input: no FASTA/FASTQ records (the gzip stream decompresses to nothing)"
            } else {
                "empty input: no FASTA/FASTQ records"
            };
            return Err(parse_error(&path, msg.to_string()));
        };
        let rest = Cursor::new(head).chain(stream);
        let inner: Box<dyn needletail::parser::FastxReader> = match first {
            b'>' => Box::new(FastaReader::new(rest)),
            b'@' => Box::new(FastqReader::new(rest)),
            other => {
                let line = line_offset + 1;
                let msg = if other.is_ascii_graphic() {
                    format!(
                        "line {line}: expected '>' or '@' at the start of a record, found {:?}; \
                         is this FASTA/FASTQ?",
                        char::from(other)
                    )
                } else {
                    format!(
                        "line {line}: not FASTA/FASTQ: starts with byte 0x{other:02x} \
                         (binary data?); expected '>' or '@' at the start of a record"
                    )
                };
                return Err(parse_error(&path, msg));
            }
        };
        Ok(Self {
            path,
            inner,
            gzip,
            slot,
            line_offset,
            finished: false,
        })
    }

    /// The next record, `None` at the end of the input.
    pub fn next_record(&mut self) -> Option<Result<Record>> {
        if self.finished {
            return None;
        }
        let result = match self.inner.next()? {
            Ok(rec) => convert(&self.path, &rec, self.line_offset),
            Err(e) => {
                self.finished = true;
                Err(self.needletail_error(e))
            }
        };
        Some(result)
    }

    /// The next record together with its soft-masked stretches: the maximal
    /// runs of lower-case letters in the file, as half-open intervals of the
    /// record (repeats in UCSC / Ensembl soft-masked genomes). The record
    /// itself is upper-cased as [`FastxReader::next_record`] returns it.
    pub fn next_record_with_mask(&mut self) -> Option<Result<(Record, Vec<Range<usize>>)>> {
        if self.finished {
            return None;
        }
        let mut mask = Vec::new();
        let result = match self.inner.next()? {
            Ok(rec) => convert_masked(&self.path, &rec, self.line_offset, Some(&mut mask)),
            Err(e) => {
                self.finished = true;
                Err(self.needletail_error(e))
            }
        };
        Some(result.map(|r| (r, mask)))
    }

    fn needletail_error(&self, e: ParseError) -> SeqError {
        let line = e.position.line + self.line_offset;
        let at = match &e.position.id {
            Some(id) => format!("line {line}: record {id:?}"),
            None => format!("line {line}"),
        };
        let msg = match e.kind {
            ParseErrorKind::Io => {
                let err = io::Error::other(e.msg);
                return stream_error(&self.path, self.gzip, &self.slot, err);
            }
            ParseErrorKind::EmptyFile => "empty input: no FASTA/FASTQ records".to_string(),
            ParseErrorKind::UnknownFormat | ParseErrorKind::InvalidStart => {
                format!(
                    "{at}: expected '>' or '@' at the start of a record ({})",
                    e.msg
                )
            }
            ParseErrorKind::InvalidSeparator => {
                format!("{at}: FASTQ record has no '+' separator line ({})", e.msg)
            }
            ParseErrorKind::UnequalLengths => format!("{at}: FASTQ record: {}", e.msg),
            // needletail's FASTA parser only gets here for a final header
            // with no line after it.
            ParseErrorKind::UnexpectedEnd if e.format == Some(Format::Fasta) => {
                format!("{at}: the last record has a header but no sequence")
            }
            ParseErrorKind::UnexpectedEnd => {
                format!("{at}: input ends inside a record (truncated file?)")
            }
        };
        parse_error(&self.path, msg)
    }
}

impl Iterator for FastxReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
    }
}

fn parse_error(path: &Path, msg: String) -> SeqError {
    SeqError::Parse {
        path: path.to_path_buf(),
        msg,
    }
}

/// Turns an error from the byte stream into the most useful `SeqError`: the
/// source's own I/O error, or a plain-words description of a gzip fault.
fn stream_error(path: &Path, gzip: bool, slot: &ErrorSlot, fallback: io::Error) -> SeqError {
    let noted = slot.lock().ok().and_then(|mut s| s.take());
    match noted {
        Some((Layer::Source, source)) => SeqError::Io {
            path: path.to_path_buf(),
            source,
        },
        Some((Layer::Gzip, e)) if e.kind() == io::ErrorKind::UnexpectedEof => parse_error(
            path,
            "truncated gzip stream: the file ends inside compressed data".to_string(),
        ),
        Some((Layer::Gzip, e)) => parse_error(path, format!("corrupt gzip data: {e}")),
        None if gzip && fallback.kind() == io::ErrorKind::UnexpectedEof => parse_error(
            path,
            "truncated gzip stream: the file ends inside compressed data".to_string(),
        ),
        None => SeqError::Io {
            path: path.to_path_buf(),
            source: fallback,
        },
    }
}

/// Reads until `buf` holds `n` bytes or the stream ends.
fn read_up_to(r: &mut impl Read, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
    let mut chunk = [0u8; 64];
    while buf.len() < n {
        let want = (n - buf.len()).min(chunk.len());
        match r.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Skips leading whitespace so a file that opens with blank lines still
/// parses. Returns the bytes read from the first non-blank byte on (empty at
/// end of input) and the number of line breaks skipped.
fn skip_blank_lines(r: &mut impl Read) -> io::Result<(Vec<u8>, u64)> {
    let mut buf = vec![0u8; 8192];
    let mut lines = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => return Ok((Vec::new(), lines)),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..k];
        match chunk.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                lines += memchr::memchr_iter(b'\n', &chunk[..i]).count() as u64;
                return Ok((chunk[i..].to_vec(), lines));
            }
            None => lines += memchr::memchr_iter(b'\n', chunk).count() as u64,
        }
    }
}

/// Builds a checked `Record` from needletail's view of the buffer.
fn convert(path: &Path, rec: &SequenceRecord<'_>, line_offset: u64) -> Result<Record> {
    convert_masked(path, rec, line_offset, None)
}

/// [`convert`], noting the lower-case runs into `mask` when given.
fn convert_masked(
    path: &Path,
    rec: &SequenceRecord<'_>,
    line_offset: u64,
    mut mask: Option<&mut Vec<Range<usize>>>,
) -> Result<Record> {
    let line = rec.start_line_number() + line_offset;
    let header = rec.id();
    let split = header
        .iter()
        .position(|b| *b == b' ' || *b == b'\t')
        .unwrap_or(header.len());
    let id = String::from_utf8_lossy(&header[..split]).into_owned();
    if id.is_empty() {
        return Err(parse_error(
            path,
            format!("line {line}: record header has no name"),
        ));
    }
    let desc = std::str::from_utf8(&header[split..])
        .map(|s| s.to_string())
        .unwrap_or_else(|_| String::from_utf8_lossy(&header[split..]).into_owned());
    let desc = Some(desc.trim().to_string()).filter(|d| !d.is_empty());

    // FASTA sequences keep their line breaks in `raw_seq`; walking the lines
    // here both strips them and yields the file line of any bad byte. FASTQ
    // sequences are a single line, so the same walk serves both formats.
    let raw = rec.raw_seq();
    let mut seq = Vec::with_capacity(raw.len());
    let mut line_start = 0usize;
    let mut line_no = line + 1;
    loop {
        let nl = memchr::memchr(b'\n', &raw[line_start..]).map(|i| line_start + i);
        let line_end = nl.unwrap_or(raw.len());
        let mut text = &raw[line_start..line_end];
        if let Some((&b'\r', rest)) = text.split_last() {
            text = rest;
        }
        let at = seq.len();
        if let Some(mask) = mask.as_deref_mut() {
            note_lower_case(text, at, mask);
        }
        seq.extend_from_slice(text);
        if let Err(i) = normalize_in_place(&mut seq[at..]) {
            return Err(SeqError::InvalidChar {
                path: path.to_path_buf(),
                line: line_no,
                record: id,
                byte: text[i],
                pos: (at + i) as u64,
            });
        }
        match nl {
            Some(n) => {
                line_start = n + 1;
                line_no += 1;
            }
            None => break,
        }
    }
    if seq.is_empty() {
        return Err(SeqError::EmptyRecord {
            path: path.to_path_buf(),
            line,
            record: id,
        });
    }
    Ok(Record {
        id,
        desc,
        seq,
        line,
    })
}

/// Adds the lower-case runs of `text` (which starts at record position
/// `at`) to `mask`, joining a run that continues one from the line before.
fn note_lower_case(text: &[u8], at: usize, mask: &mut Vec<Range<usize>>) {
    let mut i = 0;
    while i < text.len() {
        if !text[i].is_ascii_lowercase() {
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && text[i].is_ascii_lowercase() {
            i += 1;
        }
        match mask.last_mut() {
            Some(last) if last.end == at + start => last.end = at + i,
            _ => mask.push(at + start..at + i),
        }
    }
}

#[cfg(test)]
mod tests;
